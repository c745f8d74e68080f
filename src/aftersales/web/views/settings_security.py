"""Settings → Security (organization admins): who is locked out of signing in after too many
wrong passwords, and unlocking them. The rules live in accounts.lockout."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from aftersales.accounts.lockout import lockouts_of_organization, user_unlock

from ..access import AgentRequest, web_view


@web_view()
def settings_security(request: AgentRequest) -> HttpResponse:
    context = {
        "settings_section": "security",
        "lockouts": lockouts_of_organization(request.user),  # PermissionDenied (403) unless an admin
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cool_off_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "web/settings/security.html", context)


@web_view(methods=("POST",))
def settings_security_unlock(request: AgentRequest, user_id: int) -> HttpResponse:
    user_unlock(actor=request.user, user_id=user_id)  # NotFound (404) for another organization's user
    messages.success(request, _("Sign-in unlocked."))
    return redirect("web:settings_security")
