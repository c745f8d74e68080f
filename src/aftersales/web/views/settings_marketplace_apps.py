"""Settings > Marketplace apps (organization admins): one developer app per platform, typed once,
which every store of the platform connects through. The view parses the form and calls the same
services as the API (channels.marketplace_apps); secrets are write-only (the page shows "set" and
a fingerprint, never a value)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.channels.marketplace_apps import (
    APP_PLATFORMS,
    AppFieldState,
    marketplace_app_delete,
    marketplace_app_save,
    marketplace_apps,
)
from aftersales.core.errors import DomainError, NotFound, PermissionDenied

from ..access import AgentRequest, web_view


def _page(
    request: AgentRequest,
    *,
    status: int = 200,
    platform: str = "",
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> HttpResponse:
    apps = marketplace_apps(request.user)
    context = {
        "settings_section": "marketplace_apps",
        "apps": [
            {
                "app": app,
                "errors": (errors or {}) if app.platform == platform else {},
                "environment": (typed or {}).get("environment", app.environment)
                if app.platform == platform
                else app.environment,
                "fields": [
                    {"state": f, "value": _shown(f, typed if app.platform == platform else None)} for f in app.fields
                ],
            }
            for app in apps
        ],
    }
    return render(request, "web/settings/marketplace_apps.html", context, status=status)


def _shown(state: AppFieldState, typed: dict[str, str] | None) -> Any:
    """What a field's input shows: what was typed (a refused save), else the stored non-secret."""
    if typed is not None and state.field.name in typed:
        return typed[state.field.name]
    return "" if state.value is None else state.value


def _refusal(exc: DomainError) -> None:
    if isinstance(exc, PermissionDenied) or (exc.status_code == 404 and exc.field != "platform"):
        raise exc


@web_view(methods=("GET",))
def settings_marketplace_apps(request: AgentRequest) -> HttpResponse:
    """Every platform's app, registered or not."""
    check_perm(request.user, Permission.ADMINISTER)
    return _page(request)


@web_view(methods=("POST",))
def settings_marketplace_app(request: AgentRequest, platform: str) -> HttpResponse:
    """Save one platform's app (an empty secret keeps the stored one; a new one rotates it)."""
    check_perm(request.user, Permission.ADMINISTER)
    app = APP_PLATFORMS.get(platform)
    if app is None:
        raise NotFound(_("no such platform"), field="platform")
    typed = {f.name: request.POST.get(f.name, "") for f in app.fields if not f.internal}
    credentials = {name: ("true" if value == "on" else value) for name, value in typed.items() if value.strip()}
    try:
        marketplace_app_save(
            user=request.user,
            platform=platform,
            environment=request.POST.get("environment", "production"),
            credentials=credentials,
            drop_previous_secret=request.POST.get("drop_previous_secret") == "on",
            via="ui",
        )
    except DomainError as exc:
        _refusal(exc)
        secret = {f.name for f in app.fields if f.secret}
        kept = {name: value for name, value in typed.items() if name not in secret}
        kept["environment"] = request.POST.get("environment", "")
        return _page(
            request,
            status=exc.status_code,
            platform=platform,
            errors={exc.field or "credentials": exc.message},
            typed=kept,
        )
    messages.success(request, _("%(platform)s app saved.") % {"platform": app.label})
    return redirect(reverse("web:settings_marketplace_apps") + f"#app-{platform}")


@web_view(methods=("POST",))
def settings_marketplace_app_delete(request: AgentRequest, platform: str) -> HttpResponse:
    """Remove one platform's app (refused while active stores connect through it)."""
    check_perm(request.user, Permission.ADMINISTER)
    app = APP_PLATFORMS.get(platform)
    if app is None:
        raise NotFound(_("no such platform"), field="platform")
    try:
        marketplace_app_delete(user=request.user, platform=platform, via="ui")
    except DomainError as exc:
        _refusal(exc)
        return _page(request, status=exc.status_code, platform=platform, errors={"platform": exc.message})
    messages.success(request, _("%(platform)s app removed.") % {"platform": app.label})
    return redirect("web:settings_marketplace_apps")
