"""Settings for organization admins: the parcel-tracking account (17TRACK).

The view parses the form and calls the same services as the API (tracking_account_save,
tracking_account_test); the key is write-only (the page says whether one is set, never what it is).
"Test connection" makes one cheap call to the provider and shows what it answered."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.core.errors import DomainError, PermissionDenied
from aftersales.tracking.selectors import tracking_account_view
from aftersales.tracking.services import tracking_account_save, tracking_account_test

from ..access import AgentRequest, web_view

PROVIDER = "17track"


def _page(
    request: AgentRequest,
    *,
    status: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    account = tracking_account_view(request.user, PROVIDER)
    context = {
        "settings_section": "tracking",
        "account": account,
        "push_url": request.build_absolute_uri(account.push_path) if account.push_path else "",
        "values": values
        or {
            "is_active": account.is_active or not account.configured,
            "poll_interval_hours": account.poll_interval_hours,
        },
        "errors": errors or {},
    }
    return render(request, "web/settings/tracking/page.html", context, status=status)


def _refusal(exc: DomainError) -> None:
    if isinstance(exc, PermissionDenied) or exc.status_code == 404:
        raise exc


@web_view(methods=("GET", "POST"))
def settings_tracking(request: AgentRequest) -> HttpResponse:
    """The tracking account, and (POST) saving it."""
    check_perm(request.user, Permission.ADMINISTER)
    if request.method == "GET":
        return _page(request)
    interval = request.POST.get("poll_interval_hours", "").strip()
    is_active = request.POST.get("is_active") == "on"
    values: dict[str, Any] = {"is_active": is_active, "poll_interval_hours": interval}
    try:
        key = request.POST.get("api_key", "")
        tracking_account_save(
            user=request.user,
            provider=PROVIDER,
            api_key=key if key.strip() else None,
            clear_api_key=request.POST.get("clear_api_key") == "on",
            is_active=is_active,
            poll_interval_hours=int(interval) if interval.isdigit() and len(interval) < 6 else interval or None,
        )
    except DomainError as exc:
        _refusal(exc)
        return _page(request, status=exc.status_code, values=values, errors={exc.field or "api_key": exc.message})
    messages.success(request, _("Parcel tracking settings saved."))
    return redirect("web:settings_tracking")


@web_view(methods=("POST",))
def settings_tracking_test(request: AgentRequest) -> HttpResponse:
    """Test connection: the provider's answer is shown on the page (and kept on the account)."""
    try:
        check = tracking_account_test(user=request.user, provider=PROVIDER)
    except DomainError as exc:
        _refusal(exc)
        return _page(request, status=exc.status_code, errors={exc.field or "api_key": exc.message})
    if check.ok:
        messages.success(request, _("Connection works: %(detail)s") % {"detail": check.detail})
    else:
        messages.error(request, _("Connection failed: %(detail)s") % {"detail": check.detail})
    return redirect("web:settings_tracking")
