"""Who may open a page of the agent UI, and how refusals look.

Every page but the login page needs a signed-in, active user of an organization with a role that
may at least view tickets; anyone else gets 403. Object-level checks (may this user see this
ticket, may this role reply) stay in accounts.permissions and the services: a view only turns the
DomainError they raise into the right page (404 for "not found", 403 for "forbidden")."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget
from django_htmx.middleware import HtmxDetails

from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import has_perm
from aftersales.core.errors import DomainError, NotFound, PermissionDenied

DEFAULT_TIMEZONE = "Asia/Shanghai"

View = Callable[..., HttpResponse]


class AgentRequest(HttpRequest):
    """What a view decorated with `web_view` receives: a signed-in organization member, and the
    htmx details added by django-htmx's middleware."""

    user: User  # type: ignore[assignment]
    htmx: HtmxDetails


def user_timezone(user: Any) -> zoneinfo.ZoneInfo:
    """Times are shown in the organization's time zone (Asia/Shanghai unless the seller set another)."""
    name = getattr(getattr(user, "organization", None), "timezone", "") or DEFAULT_TIMEZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)


def error_response(request: HttpRequest, status: int, message: str = "") -> HttpResponse:
    """A 403/404/4xx page; for htmx requests a banner swapped into the page's message area."""
    context = {"status": status, "message": message}
    if getattr(request, "htmx", False):
        response = render(request, "web/errors/_banner.html", context, status=status)
        return reswap(retarget(response, "#flash"), "innerHTML")
    template = {403: "web/errors/403.html", 404: "web/errors/404.html"}.get(status, "web/errors/4xx.html")
    return render(request, template, context, status=status)


def domain_error_response(request: HttpRequest, exc: DomainError) -> HttpResponse:
    if isinstance(exc, NotFound):
        return error_response(request, 404, _("This page does not exist or you cannot see it."))
    if isinstance(exc, PermissionDenied):
        return error_response(request, 403, _("Your role does not allow this action."))
    return error_response(request, exc.status_code, exc.message)


def web_view(*, methods: Iterable[str] = ("GET",)) -> Callable[[View], View]:
    """Decorate an agent UI view: allowed methods, sign-in, organization membership, the
    organization's time zone while rendering, and DomainErrors turned into error pages."""
    allowed = [m.upper() for m in methods]

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            user = request.user
            if not user.is_authenticated:
                if getattr(request, "htmx", False):
                    return HttpResponseClientRedirect(redirect_to_login(request.get_full_path())["Location"])
                return redirect_to_login(request.get_full_path())
            if not has_perm(user, Permission.VIEW):
                return error_response(request, 403, _("Your account is not a member of an organization yet."))
            with timezone.override(user_timezone(user)):
                try:
                    return view(request, *args, **kwargs)
                except DomainError as exc:
                    return domain_error_response(request, exc)

        return wrapper

    return decorate
