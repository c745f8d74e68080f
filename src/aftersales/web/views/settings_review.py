"""Settings > Refund review: the organization's thresholds for sending refunds to the manual-review
queue (returns.review: repeat returner, high value without evidence, several accounts to one address).
Organization admins (ADMINISTER), the same service as GET/PUT /api/v1/refunds/review-settings; a
refused value is shown next to its field, nothing saved."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.returns.review import review_settings_page, review_settings_set

from ..access import AgentRequest, web_view

NUMBERS = ("repeat_window_days", "repeat_threshold", "shared_address_window_days")


def _number(raw: Any) -> Any:
    """A whole number as typed; anything else goes to the service as text, which refuses it naming
    the field."""
    value = str(raw or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 7 else value


@web_view(methods=("GET", "POST"))
def settings_review(request: AgentRequest) -> HttpResponse:
    """The thresholds; POST saves all four."""
    errors: dict[str, str] = {}
    values: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in NUMBERS}
        values["high_value_requires_evidence"] = request.POST.get("high_value_requires_evidence") == "on"
        try:
            review_settings_set(
                user=request.user,
                repeat_window_days=_number(values["repeat_window_days"]),
                repeat_threshold=_number(values["repeat_threshold"]),
                high_value_requires_evidence=values["high_value_requires_evidence"],
                shared_address_window_days=_number(values["shared_address_window_days"]),
            )
        except ValidationFailed as exc:
            errors[exc.field or "repeat_window_days"] = exc.message
            status = exc.status_code
        else:
            messages.success(request, _("Refund review thresholds saved."))
            return redirect("web:settings_review")
    page = review_settings_page(request.user)
    current = page.thresholds
    context = {
        "settings_section": "review",
        "updated_at": page.updated_at,
        "values": values
        or {
            "repeat_window_days": current.repeat_window_days,
            "repeat_threshold": current.repeat_threshold,
            "high_value_requires_evidence": current.high_value_requires_evidence,
            "shared_address_window_days": current.shared_address_window_days,
        },
        "errors": errors,
    }
    return render(request, "web/settings/review.html", context, status=status)
