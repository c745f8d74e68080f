"""Settings > Follow-ups for organization admins (issue 11 section 5): stalled-parcel messages, CSAT
surveys, thank-you coupons (with the coupon pool's CSV import) and warranty reminder delivery. The
views parse the form into the services' input and render; a refusal shows the service's message
next to its field."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from aftersales.core.errors import DomainError, PermissionDenied
from aftersales.followups.selectors import followup_settings_page
from aftersales.followups.services import SettingsInput, coupons_import, followup_settings_save
from aftersales.inbox.workflow import TicketCategory

from ..access import AgentRequest, web_view

NUMBERS = ("stall_days", "csat_delay_hours", "csat_sample_percent", "csat_link_days")
TEMPLATES = ("stall_template_id", "csat_template_id", "thanks_template_id")
FLAGS = ("stall_enabled", "csat_enabled", "thanks_enabled", "warranty_delivery_enabled")


def _page(request: AgentRequest, *, status: int = 200, errors: dict[str, str] | None = None) -> HttpResponse:
    context = {
        "settings_section": "followups",
        "page": followup_settings_page(request.user),
        "categories": TicketCategory.choices,
        "errors": errors or {},
    }
    return render(request, "followups/settings.html", context, status=status)


def _number(raw: str) -> Any:
    """A whole number as typed; anything else is passed on as text for the service to refuse."""
    value = raw.strip()
    return int(value) if value.isdigit() and len(value) < 6 else value


def _template(raw: str) -> Any:
    value = raw.strip()
    return None if not value else (int(value) if value.isdigit() and len(value) < 12 else value)


def parse_settings_form(post: Any) -> SettingsInput:
    return SettingsInput(
        **{name: post.get(name) == "on" for name in FLAGS},
        **{name: _number(post.get(name, "")) for name in NUMBERS},
        **{name: _template(post.get(name, "")) for name in TEMPLATES},
        thanks_categories=post.getlist("thanks_categories"),
        coupon_pattern=post.get("coupon_pattern", ""),
    )


def _refused(request: AgentRequest, exc: DomainError, default_field: str) -> HttpResponse:
    if isinstance(exc, PermissionDenied):
        raise exc
    field = (exc.field or default_field).split("[", 1)[0]  # csv[3], thanks_categories[0]: shown by their input
    return _page(request, status=exc.status_code, errors={field: exc.message})


@web_view(methods=("GET", "POST"))
def settings_followups(request: AgentRequest) -> HttpResponse:
    """The settings; POST saves them."""
    if request.method == "GET":
        return _page(request)
    try:
        followup_settings_save(user=request.user, values=parse_settings_form(request.POST))
    except DomainError as exc:
        return _refused(request, exc, "settings")
    messages.success(request, _("Follow-up settings saved."))
    return redirect("web:settings_followups")


@web_view(methods=("POST",))
def settings_followups_coupons(request: AgentRequest) -> HttpResponse:
    """Import coupon codes (a CSV file or pasted text)."""
    upload = request.FILES.get("file")
    text = request.POST.get("csv", "")
    if upload is not None:
        text = upload.read(1_000_001).decode("utf-8-sig", errors="replace")
    try:
        result = coupons_import(user=request.user, csv_text=text)
    except DomainError as exc:
        return _refused(request, exc, "csv")
    messages.success(
        request,
        _("%(imported)d coupon codes imported (%(skipped)d already in the pool).")
        % {"imported": result.imported, "skipped": result.already_there},
    )
    return redirect("web:settings_followups")
