"""The one place a ticket's status changes (tests/architecture/test_status_transitions.py checks
that no other module assigns `Ticket.status`)."""

from __future__ import annotations

from django.db import transaction

from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now

from ..events import TicketStatusChanged
from ..models import Ticket, TicketEventType
from ..workflow import STATUS_CATEGORY, StatusCategory, TicketStatus, check_transition
from .common import record_event


def ticket_transition(ticket: Ticket, to: str, *, actor: Actor, reason: str = "") -> bool:
    """Move `ticket` to status `to` through the transition table (workflow.TRANSITIONS): sets the
    status, its category and the resolved/closed times, appends a `status_changed` audit row with
    the actor, and publishes `TicketStatusChanged` after commit. Returns False (and does nothing)
    when the ticket already has that status.

    Runs inside the caller's transaction, on a ticket row the caller has locked
    (`select_for_update`); the caller saves the ticket. Raises ValidationFailed for an unknown
    status and Conflict for a move the table refuses."""
    if to == ticket.status:
        return False
    check_transition(ticket.status, to)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ticket_transition runs inside the caller's transaction, on a locked ticket")
    old = ticket.status
    ticket.status = to
    ticket.status_category = STATUS_CATEGORY[to]
    at = now()
    if ticket.status_category == StatusCategory.RESOLVED:
        ticket.resolved_at = ticket.resolved_at or at
    else:
        ticket.resolved_at = None
    if to == TicketStatus.CLOSED:
        ticket.closed_at = at
    payload: dict[str, str] = {"old": old, "new": to}
    if reason:
        payload["reason"] = reason
    row = record_event(ticket, TicketEventType.STATUS_CHANGED, actor, **payload)
    events.publish(
        TicketStatusChanged(
            ticket_id=ticket.pk,
            organization_id=ticket.organization_id,
            old_status=old,
            new_status=to,
            reason=reason,
            ticket_event_id=row.pk,
            actor=actor,
        )
    )
    return True
