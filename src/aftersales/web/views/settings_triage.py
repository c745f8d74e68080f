"""Settings > Triage and routing: whether triage sets a new message's urgency, category and order on
its ticket, and whether new tickets are routed by skill (administrators; the same services as
GET/PUT /api/v1/triage/settings)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from aftersales.triage.selectors import triage_settings
from aftersales.triage.services import triage_settings_update

from ..access import AgentRequest, web_view


@web_view(methods=("GET", "POST"))
def settings_triage(request: AgentRequest) -> HttpResponse:
    """The two switches; POST saves them (an unchecked box is off)."""
    if request.method == "GET":
        context = {"settings_section": "triage", "switches": triage_settings(request.user)}
        return render(request, "triage/settings.html", context)
    triage_settings_update(
        user=request.user,
        apply_results=request.POST.get("apply_results") == "on",
        auto_route=request.POST.get("auto_route") == "on",
    )
    messages.success(request, _("Triage and routing settings saved."))
    return redirect("web:settings_triage")
