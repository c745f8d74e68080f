"""Settings > Customer notifications: which steps of a return or a warranty claim notify the buyer
(administrators; the same service as GET/PUT /api/v1/returns/notification-steps), with the latest
changes (the audit)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from aftersales.returns.notify_settings import (
    notification_step_changes,
    notification_steps,
    notification_steps_update,
)

from ..access import AgentRequest, web_view


@web_view(methods=("GET", "POST"))
def settings_notifications(request: AgentRequest) -> HttpResponse:
    """One checkbox per step; POST saves the steps the form showed (`shown`), an unchecked box is off."""
    if request.method == "GET":
        steps = notification_steps(request.user)
        context = {
            "settings_section": "notifications",
            "groups": [
                (_("Returns (RMA)"), [s for s in steps if s.group == "rma"]),
                (_("Warranty"), [s for s in steps if s.group == "warranty"]),
            ],
            "changes": notification_step_changes(request.user),
        }
        return render(request, "web/settings/notification_steps.html", context)
    enabled = set(request.POST.getlist("enabled"))
    notification_steps_update(
        user=request.user, changes={code: code in enabled for code in request.POST.getlist("shown")}, via="web"
    )
    messages.success(request, _("Customer notification settings saved."))
    return redirect("web:settings_notifications")
