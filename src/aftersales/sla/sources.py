"""What a ticket's clocks are computed from (reads only): the policy that matches it, the calendar it
counts on, and its history from the audit trail. Used by the recomputation (services) and by the
selectors (a ticket without a row yet is shown computed on the fly, nothing written)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aftersales.inbox.models import Message, MessageDirection, Ticket, TicketEvent, TicketEventType
from aftersales.inbox.workflow import STATUS_CATEGORY
from aftersales.returns.models import ReturnRequest

from .business_time import ALWAYS_OPEN, BusinessTimeError, Calendar
from .clocks import Clocks, Targets, TicketHistory, compute_clocks
from .models import BusinessCalendar, SlaPolicy, TeamCalendar

logger = logging.getLogger(__name__)


def policy_for(ticket: Ticket, policies: list[SlaPolicy]) -> SlaPolicy | None:
    """The most specific active policy matching the ticket (SlaPolicy.SPECIFICITY), or None."""
    matching = [p for p in policies if p.is_active and p.matches(ticket)]
    return max(matching, key=lambda p: (p.specificity(), -p.pk), default=None)


def calendar_for(ticket: Ticket, policy: SlaPolicy | None) -> tuple[Calendar, str]:
    """The team's calendar when the ticket's team has one, else the policy's, else around the clock."""
    row: BusinessCalendar | None = None
    if ticket.team_id is not None:
        link = TeamCalendar.objects.select_related("calendar").filter(team_id=ticket.team_id).first()
        row = link.calendar if link else None
    if row is None and policy is not None and policy.calendar_id is not None:
        row = policy.calendar
    if row is None:
        return ALWAYS_OPEN, ""
    try:
        return row.as_calendar(), row.name
    except BusinessTimeError:  # stored before a rule tightened: count around the clock, say so in the log
        logger.warning("sla: calendar %s no longer validates", row.pk)
        return ALWAYS_OPEN, row.name


def ticket_history(ticket: Ticket) -> TicketHistory:
    """What the clocks need, read from the audit trail and the messages (3 queries)."""
    messages = list(
        Message.objects.filter(ticket=ticket)
        .exclude(direction=MessageDirection.NOTE)
        .values_list("pk", "direction", "sent_at", "created_at")
    )
    arrival = {pk: (sent or created) for pk, _d, sent, created in messages}
    inbound = sorted(arrival[pk] for pk, d, _s, _c in messages if d == MessageDirection.INBOUND)
    rows = TicketEvent.objects.filter(
        ticket=ticket, type__in=[TicketEventType.STATUS_CHANGED, TicketEventType.REPLY_SENT]
    ).values_list("type", "payload", "at")
    changes: list[tuple[datetime, str]] = []
    replies: list[datetime] = []
    for type_, payload, at in rows:
        if type_ == TicketEventType.STATUS_CHANGED:
            category = STATUS_CATEGORY.get((payload or {}).get("new", ""))
            if category:
                changes.append((at, category))
        elif not (payload or {}).get("bounce"):
            message_id = (payload or {}).get("message_id")
            message_at = arrival.get(message_id) if isinstance(message_id, int) else None
            replies.append(message_at if message_at is not None and message_at <= at else at)
    started = inbound[0] if inbound else ticket.created_at
    respond_by = [
        due
        for due in ReturnRequest.objects.filter(ticket=ticket, respond_by__isnull=False).values_list(
            "respond_by", flat=True
        )
        if due is not None
    ]
    return TicketHistory(
        started_at=started,
        category_changes=changes,
        first_reply_at=min(replies, default=None),
        inbound_at=inbound,
        replies_at=replies,
        platform=ticket.platform,
        respond_by=respond_by,
    )


def clocks_for_ticket(ticket: Ticket, *, now: datetime) -> tuple[SlaPolicy | None, str, TicketHistory, Clocks]:
    policies = list(
        SlaPolicy.objects.filter(organization_id=ticket.organization_id, is_active=True).select_related("calendar")
    )
    policy = policy_for(ticket, policies)
    calendar, calendar_name = calendar_for(ticket, policy)
    history = ticket_history(ticket)
    targets = Targets(
        first_response=timedelta(minutes=policy.first_response_minutes) if policy else None,
        resolution=timedelta(minutes=policy.resolution_minutes) if policy else None,
        warning_percent=policy.warning_percent if policy else 75,
    )
    return policy, calendar_name, history, compute_clocks(history, targets, calendar, now=now)
