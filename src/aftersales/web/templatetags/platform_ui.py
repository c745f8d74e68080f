"""The ticket header's "Close on <platform>" (channels.ticket_close): offered only where the store's
connector can close the platform's ticket, with where the last close stands."""

from __future__ import annotations

from typing import Any

from django import template

from aftersales.channels.ticket_close import can_close_platform_ticket, platform_ticket_close_state

register = template.Library()


@register.filter
def platform_close(ticket: Any) -> dict[str, str] | None:
    """None when not offered; else {"status": "" (never asked) or the ledger's status, "detail": ...}."""
    if ticket is None or not can_close_platform_ticket(ticket):
        return None
    row = platform_ticket_close_state(ticket)
    return {"status": "" if row is None else row.status, "detail": "" if row is None else row.detail}
