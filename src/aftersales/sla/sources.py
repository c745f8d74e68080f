"""What a ticket's clocks are computed from (reads only): the policy that matches it, the calendar it
counts on, and its history from the audit trail. Used by the recomputation (services) and by the
selectors (a ticket without a row yet is shown computed on the fly, nothing written)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

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


def _calendar_of(row: BusinessCalendar | None) -> tuple[Calendar, str]:
    if row is None:
        return ALWAYS_OPEN, ""
    try:
        return row.as_calendar(), row.name
    except BusinessTimeError:  # stored before a rule tightened: count around the clock, say so in the log
        logger.warning("sla: calendar %s no longer validates", row.pk)
        return ALWAYS_OPEN, row.name


def calendar_for(ticket: Ticket, policy: SlaPolicy | None) -> tuple[Calendar, str]:
    """The team's calendar when the ticket's team has one, else the policy's, else around the clock."""
    row: BusinessCalendar | None = None
    if ticket.team_id is not None:
        link = TeamCalendar.objects.select_related("calendar").filter(team_id=ticket.team_id).first()
        row = link.calendar if link else None
    if row is None and policy is not None and policy.calendar_id is not None:
        row = policy.calendar
    return _calendar_of(row)


def ticket_history(ticket: Ticket) -> TicketHistory:
    """What the clocks need, read from the audit trail and the messages (3 queries)."""
    return ticket_histories([ticket])[ticket.pk]


def ticket_histories(tickets: Sequence[Ticket]) -> dict[int, TicketHistory]:
    """ticket_history for many tickets in the same 3 queries (the backfill's batches)."""
    ids = [t.pk for t in tickets]
    messages: dict[int, list[tuple[int, str, datetime | None, datetime]]] = defaultdict(list)
    for ticket_id, pk, direction, sent, created in (
        Message.objects.filter(ticket_id__in=ids)
        .exclude(direction=MessageDirection.NOTE)
        .values_list("ticket_id", "pk", "direction", "sent_at", "created_at")
    ):
        messages[ticket_id].append((pk, direction, sent, created))
    events: dict[int, list[tuple[str, Any, datetime]]] = defaultdict(list)
    for ticket_id, type_, payload, at in (
        TicketEvent.objects.filter(
            ticket_id__in=ids, type__in=[TicketEventType.STATUS_CHANGED, TicketEventType.REPLY_SENT]
        )
        .order_by("ticket_id", "at", "id")
        .values_list("ticket_id", "type", "payload", "at")
    ):
        events[ticket_id].append((type_, payload, at))
    respond_by: dict[int, list[datetime]] = defaultdict(list)
    for ticket_id, due in ReturnRequest.objects.filter(ticket_id__in=ids, respond_by__isnull=False).values_list(
        "ticket_id", "respond_by"
    ):
        if due is not None:
            respond_by[ticket_id].append(due)
    return {t.pk: _history(t, messages[t.pk], events[t.pk], respond_by[t.pk]) for t in tickets}


def _history(
    ticket: Ticket,
    messages: list[tuple[int, str, datetime | None, datetime]],
    rows: list[tuple[str, Any, datetime]],
    respond_by: list[datetime],
) -> TicketHistory:
    arrival = {pk: (sent or created) for pk, _d, sent, created in messages}
    inbound = sorted(arrival[pk] for pk, d, _s, _c in messages if d == MessageDirection.INBOUND)
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
    return TicketHistory(
        started_at=started,
        category_changes=changes,
        first_reply_at=min(replies, default=None),
        inbound_at=inbound,
        replies_at=replies,
        platform=ticket.platform,
        respond_by=respond_by,
    )


def _targets(policy: SlaPolicy | None) -> Targets:
    return Targets(
        first_response=timedelta(minutes=policy.first_response_minutes) if policy else None,
        resolution=timedelta(minutes=policy.resolution_minutes) if policy else None,
        warning_percent=policy.warning_percent if policy else 75,
    )


def clocks_for_ticket(ticket: Ticket, *, now: datetime) -> tuple[SlaPolicy | None, str, TicketHistory, Clocks]:
    policies = list(
        SlaPolicy.objects.filter(organization_id=ticket.organization_id, is_active=True).select_related("calendar")
    )
    policy = policy_for(ticket, policies)
    calendar, calendar_name = calendar_for(ticket, policy)
    history = ticket_history(ticket)
    return policy, calendar_name, history, compute_clocks(history, _targets(policy), calendar, now=now)


def clocks_for_tickets(
    tickets: Sequence[Ticket], *, now: datetime
) -> dict[int, tuple[SlaPolicy | None, str, TicketHistory, Clocks]]:
    """clocks_for_ticket for a batch: the policies of their organizations, the team calendars and the
    histories in 5 queries whatever the batch's size (each calendar compiled once per batch)."""
    org_ids = {t.organization_id for t in tickets}
    policies: dict[int, list[SlaPolicy]] = defaultdict(list)
    for row_policy in SlaPolicy.objects.filter(organization_id__in=org_ids, is_active=True).select_related("calendar"):
        policies[row_policy.organization_id].append(row_policy)
    team_ids = {t.team_id for t in tickets if t.team_id is not None}
    team_rows = {
        link.team_id: link.calendar
        for link in TeamCalendar.objects.select_related("calendar").filter(team_id__in=team_ids)
    }
    compiled: dict[int | None, tuple[Calendar, str]] = {}
    histories = ticket_histories(tickets)
    out: dict[int, tuple[SlaPolicy | None, str, TicketHistory, Clocks]] = {}
    for ticket in tickets:
        policy = policy_for(ticket, policies[ticket.organization_id])
        row = team_rows.get(ticket.team_id) if ticket.team_id is not None else None
        if row is None and policy is not None and policy.calendar_id is not None:
            row = policy.calendar
        key = row.pk if row is not None else None
        if key not in compiled:
            compiled[key] = _calendar_of(row)
        calendar, calendar_name = compiled[key]
        history = histories[ticket.pk]
        out[ticket.pk] = (policy, calendar_name, history, compute_clocks(history, _targets(policy), calendar, now=now))
    return out
