"""A ticket's last movement (`ticket.last_movement_at`, the "no movement for N days" trigger,
docs/rules.md): one definition, computed from the rows that already record movement, not a column
kept by publishers (no ticket column to keep in step, nothing to backfill).

Movement is the latest of:
- the ticket's creation and its `last_message_at`;
- any message on it (inbound, outbound, internal note), at the platform's time when given;
- an audit row of a kind a seller calls movement (MOVEMENT_EVENTS: status, assignee, team and
  priority changes, replies sent or retried, notes, merges into it, the marketplace's return
  requests); category, urgency, tags, subject and language are classification, not movement;
- an event of an RMA linked to the ticket (requested, approved, received, refunded...);
- a tracking event of a shipment of the ticket's order.

Who acted does not matter: a rule's reply or note is movement too, so a "no movement" rule that
writes to the buyer starts a new idle period with its own message.

`last_movement` is the annotation (4 correlated subqueries, each on an indexed (parent, time)
pair); `last_movements` reads it for a batch of tickets in one query. The periodic job filters with
the same annotation (rules.idle), the snapshot reads it (rules.snapshots)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import DateTimeField, F, OuterRef, QuerySet, Subquery
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce, Greatest

from aftersales.catalog.models import TrackingEvent
from aftersales.inbox.models import Message, Ticket, TicketEvent, TicketEventType
from aftersales.returns.models import RmaEvent

MOVEMENT_EVENTS = (
    TicketEventType.CREATED,
    TicketEventType.MESSAGE_RECEIVED,
    TicketEventType.REPLIED,
    TicketEventType.REPLY_SENT,
    TicketEventType.REPLY_RETRIED,
    TicketEventType.NOTE_ADDED,
    TicketEventType.STATUS_CHANGED,
    TicketEventType.ASSIGNED,
    TicketEventType.TEAM_CHANGED,
    TicketEventType.PRIORITY_CHANGED,
    TicketEventType.MERGED_FROM,
    TicketEventType.RETURN_REQUEST_RECEIVED,
    TicketEventType.RETURN_REQUEST_STATUS_CHANGED,
)


def _latest(rows: QuerySet[Any], value: Expression | F) -> Subquery:
    """The latest `value` (never NULL) of the rows (filtered on OuterRef), NULL without rows."""
    return Subquery(rows.annotate(moved=value).order_by("-moved").values("moved")[:1], output_field=DateTimeField())


def last_movement() -> Expression:
    """The annotation: a Ticket row's last movement (module docstring); never NULL."""
    created = F("created_at")
    sources = [
        Coalesce(F("last_message_at"), created),
        _latest(Message.objects.filter(ticket_id=OuterRef("pk")), Coalesce(F("sent_at"), F("created_at"))),
        _latest(TicketEvent.objects.filter(ticket_id=OuterRef("pk"), type__in=MOVEMENT_EVENTS), F("at")),
        _latest(RmaEvent.objects.filter(rma__ticket_id=OuterRef("pk")), F("at")),
        _latest(TrackingEvent.objects.filter(shipment__order_id=OuterRef("order_id")), F("at")),
    ]
    # SQLite's MAX(a, b) is NULL when one is: every source falls back to the creation.
    return Greatest(*(Coalesce(source, created) for source in sources), output_field=DateTimeField())


def last_movements(ticket_ids: Iterable[int]) -> dict[int, datetime]:
    """Each ticket's last movement, one query for the batch."""
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        return {}
    return dict(Ticket.objects.filter(pk__in=ids).annotate(moved=last_movement()).values_list("pk", "moved"))
