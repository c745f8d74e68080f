"""Settings > Rules > Webhook signing secret (organization admins; the same services and permission
as GET/POST /api/v1/rules/webhook-secret[/rotate], notifications.signing): the secret masked, revealed
after the admin types their password again, rotated now or with a switch-over time, the audit of
reveals and rotations, and the recipe a receiver uses to check X-Aftersales-Signature."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from aftersales.core.errors import DomainError
from aftersales.notifications.signing import (
    MAX_GRACE_HOURS,
    signing_key_reveal,
    signing_key_rotate,
    signing_key_status,
)

from ..access import AgentRequest, web_view


def _page(request: AgentRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "settings_section": "rules",
        "key": signing_key_status(request.user),  # PermissionDenied (403) unless an admin
        "max_grace_hours": MAX_GRACE_HOURS,
        **extra,
    }
    return render(request, "rules/webhook_secret.html", context, status=status)


@web_view(methods=("GET",))
def settings_webhook_secret(request: AgentRequest) -> HttpResponse:
    return _page(request)


@web_view(methods=("POST",))
def settings_webhook_secret_reveal(request: AgentRequest) -> HttpResponse:
    """The secret (and a pending one) shown on this answer only, after the password again."""
    try:
        active, pending = signing_key_reveal(request.user, channel="page", password=request.POST.get("password", ""))
    except DomainError as exc:
        if exc.field != "password":
            raise
        return _page(request, status=exc.status_code, error=exc.message, error_field=exc.field)
    return _page(request, revealed=active, revealed_pending=pending)


@web_view(methods=("POST",))
def settings_webhook_secret_rotate(request: AgentRequest) -> HttpResponse:
    raw = request.POST.get("grace_hours", "0").strip() or "0"
    hours: Any = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else raw
    try:
        new, switch_at = signing_key_rotate(request.user, channel="page", grace_hours=hours)
    except DomainError as exc:
        if exc.field != "grace_hours":
            raise
        return _page(request, status=exc.status_code, error=exc.message, error_field=exc.field)
    return _page(request, rotated=new, rotated_switch_at=switch_at, rotated_now=hours == 0)
