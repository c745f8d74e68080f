"""The triage of the ticket's latest inbound message as a small panel: `{% ticket_triage_panel ticket %}`
in the ticket page (the page's view has already checked that the user may see the ticket). One query
(triage.selectors.ticket_triage); no model is loaded in the web process."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from aftersales.triage.selectors import ticket_triage

register = template.Library()

REASON_LABELS = {
    "threat": _("threatens a chargeback, dispute or legal step"),
    "abusive": _("abusive language"),
    "low_confidence": _("the model is not sure"),
}
ENTITY_LABELS = {
    "order_number": _("Order number"),
    "tracking_number": _("Tracking number"),
    "imei": _("IMEI"),
    "asin": _("ASIN"),
    "sku": _("SKU"),
    "item_number": _("Item number"),
    "amount": _("Amount"),
}


@register.inclusion_tag("triage/_ticket_triage.html")
def ticket_triage_panel(ticket: Any) -> dict[str, Any]:
    triage = ticket_triage(ticket_id=ticket.pk)
    if triage is None:
        return {"triage": None}
    reasons = [REASON_LABELS[r] for r in triage.reasons if r in REASON_LABELS]
    entities = [
        {
            "label": ENTITY_LABELS.get(e["type"], e["type"]),
            "value": e["value"],
            "invalid": e.get("attributes", {}).get("valid") is False
            or e.get("attributes", {}).get("check_digit_ok") is False,
        }
        for e in triage.entities
    ]
    return {
        "triage": triage,
        "reasons": reasons,
        "entities": entities,
        "confidence_pct": round(triage.confidence * 100),
    }
