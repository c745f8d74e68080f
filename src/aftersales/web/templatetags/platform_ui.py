"""The ticket header's "Close on <platform>" (channels.ticket_close): offered only where the store's
connector can close the platform's ticket, with where the last close stands."""

from __future__ import annotations

from typing import Any

from django import template

from aftersales.channels.platform_evidence import can_send_evidence, evidence_sent
from aftersales.channels.ticket_close import (
    can_close_platform_ticket,
    can_escalate_platform_ticket,
    platform_ticket_close_state,
    platform_ticket_escalate_state,
)

register = template.Library()


@register.filter
def platform_close(ticket: Any) -> dict[str, str] | None:
    """None when not offered; else {"status": "" (never asked) or the ledger's status, "detail": ...}."""
    if ticket is None or not can_close_platform_ticket(ticket):
        return None
    return _state(platform_ticket_close_state(ticket))


@register.filter
def platform_escalate(ticket: Any) -> dict[str, str] | None:
    """As platform_close, for escalating the ticket to the platform's support."""
    if ticket is None or not can_escalate_platform_ticket(ticket):
        return None
    return _state(platform_ticket_escalate_state(ticket))


def _state(row: Any) -> dict[str, str]:
    return {"status": "" if row is None else row.status, "detail": "" if row is None else row.detail}


@register.simple_tag
def platform_evidence(rma: Any, evidence: Any) -> dict[str, str] | None:
    """Sending this picture of the RMA to its marketplace dispute: None when not offered (not a
    photo file, or no dispute that takes evidence); else {"status": "" (never sent) or the ledger's
    status, "detail": ...}."""
    if rma is None or evidence is None or evidence.kind != "photo" or not evidence.file_name:
        return None
    if not can_send_evidence(rma):
        return None
    return _state(evidence_sent(rma).get(evidence.pk))
