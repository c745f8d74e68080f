"""Snapshots as they were (the dry run, rules/simulate.py): a snapshot built from today's rows is
rewound to the instant of the replayed event from the audit history, so "would match" is what the
rule would have seen then, not what the ticket looks like now.

What is rewound, for each event at instant T (its own audit row included for ticket_updated):
- the ticket's status (and status category), category, urgency, high-priority mark, team,
  assignee, tags and subject: every audit row after T is undone, newest first, with its `old`;
- its messages: message_count, last_customer_message_at and is_unreplied count the messages
  stored at or before T only;
- its last movement (rules.movement's sources: messages, movement audit rows, RMA and tracking
  events, the creation) at or before T;
- the RMA section: the ticket's latest RMA requested at or before T (or the event's own RMA), its
  status undone through its status changes after T;
- the order's shipment: the status of the latest tracking event at or before T; shipped_at and
  delivered_at only when they had happened.

- the customer section (rules.customer_history): tier from the tier changes, order_count,
  lifetime_value and return_count from the customer's orders, RMAs and refunds as of T;
- the order's status from its status changes (catalog OrderStatusChange).

Not rewound (no history kept): the order's total and lines, the product, the store, the customer's
country and language. History began with catalog migration 0008: a tier or an order status changed
before it is read as it was at the migration. A ticket created after T has no snapshot (None).

Queries: 10 per batch of events whatever its size (audit rows, messages, RMAs, RMA events, the
tickets' orders, customers and creation, tracking events of the batch's tickets, the customers'
orders, their RMAs and refunds, their tier changes, the orders' status changes)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models.functions import Coalesce

from aftersales.catalog.models import TrackingEvent
from aftersales.inbox.models import Message, MessageDirection, Ticket, TicketEvent, TicketEventType
from aftersales.inbox.workflow import STATUS_CATEGORY
from aftersales.returns.models import Rma, RmaEvent

from .customer_history import CustomerHistory, figures_at, load_customers, load_order_statuses, value_at
from .movement import MOVEMENT_EVENTS
from .snapshots import Snapshot

LATEST = 2**62  # an audit row id above every real one: "everything at T, nothing after"

# audit row type -> the ticket section field its `old` restores
REWOUND = {
    TicketEventType.STATUS_CHANGED: "status",
    TicketEventType.CATEGORY_CHANGED: "category",
    TicketEventType.URGENCY_CHANGED: "urgency",
    TicketEventType.PRIORITY_CHANGED: "is_high_priority",
    TicketEventType.TEAM_CHANGED: "team_id",
    TicketEventType.ASSIGNED: "assignee_id",
    TicketEventType.TAGS_CHANGED: "tags",
    TicketEventType.SUBJECT_CHANGED: "subject",
}


@dataclass(frozen=True)
class Instant:
    """The point a snapshot is rewound to: the audit rows up to (at, row id) are kept."""

    at: datetime
    row_id: int = LATEST

    def keeps(self, at: datetime, row_id: int) -> bool:
        return (at, row_id) <= (self.at, self.row_id)


@dataclass(frozen=True)
class _History:
    audit: dict[int, list[TicketEvent]]  # ticket -> rows, oldest first
    messages: dict[int, list[tuple[datetime, datetime, str]]]  # ticket -> (stored at, written at, direction)
    rmas: dict[int, list[Rma]]  # ticket -> RMAs, oldest first
    rma_events: dict[int, list[RmaEvent]]  # RMA -> rows, oldest first
    tracking: dict[int, list[TrackingEvent]]  # order -> events, oldest first
    created: dict[int, datetime]  # ticket -> created_at
    orders: dict[int, int | None]  # ticket -> order
    customers: dict[int, tuple[int, str]]  # ticket -> (customer, its store's currency)
    customer_history: CustomerHistory
    order_statuses: dict[int, list[tuple[datetime, int, str, str]]]  # order -> status changes


def _load(ticket_ids: list[int], rma_ids: list[int]) -> _History:
    audit: dict[int, list[TicketEvent]] = defaultdict(list)
    for row in (
        TicketEvent.objects.filter(ticket_id__in=ticket_ids)
        .only("pk", "ticket_id", "type", "payload", "at")
        .order_by("at", "pk")
    ):
        audit[row.ticket_id].append(row)
    messages: dict[int, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for ticket_id, stored, written, direction in (
        Message.objects.filter(ticket_id__in=ticket_ids)
        .annotate(written=Coalesce("sent_at", "created_at"))
        .order_by("created_at", "pk")
        .values_list("ticket_id", "created_at", "written", "direction")
    ):
        messages[ticket_id].append((stored, written, direction))
    rmas: dict[int, list[Rma]] = defaultdict(list)
    rma_ids = list(rma_ids)
    fields = ("pk", "ticket_id", "requested_at", "status", "resolution", "reason", "delivery_country")
    for rma in Rma.objects.filter(ticket_id__in=ticket_ids).only(*fields).order_by("requested_at", "pk"):
        assert rma.ticket_id is not None
        rmas[rma.ticket_id].append(rma)
        rma_ids.append(rma.pk)
    rma_events: dict[int, list[RmaEvent]] = defaultdict(list)
    for rma_row in (
        RmaEvent.objects.filter(rma_id__in=rma_ids).only("pk", "rma_id", "type", "payload", "at").order_by("at", "pk")
    ):
        rma_events[rma_row.rma_id].append(rma_row)
    created: dict[int, datetime] = {}
    orders: dict[int, int | None] = {}
    customers: dict[int, tuple[int, str]] = {}
    for ticket_id, order_id, created_at, customer_id, currency in Ticket.objects.filter(pk__in=ticket_ids).values_list(
        "pk", "order_id", "created_at", "customer_id", "store__currency"
    ):
        created[ticket_id], orders[ticket_id] = created_at, order_id
        customers[ticket_id] = (customer_id, currency)
    tracking: dict[int, list[TrackingEvent]] = defaultdict(list)
    order_ids = {o for o in orders.values() if o}
    for event in (
        TrackingEvent.objects.filter(shipment__order_id__in=order_ids)
        .select_related("shipment")
        .only("pk", "at", "status", "shipment__order_id")
        .order_by("at", "pk")
    ):
        tracking[event.shipment.order_id].append(event)
    return _History(
        audit,
        messages,
        rmas,
        rma_events,
        tracking,
        created,
        orders,
        customers,
        load_customers([c for c, _currency in customers.values()], tiers=True),
        load_order_statuses(order_ids),
    )


def _rewind_ticket(section: dict[str, Any], rows: list[TicketEvent], instant: Instant) -> None:
    for row in reversed(rows):
        if instant.keeps(row.at, row.pk):
            break
        field = REWOUND.get(row.type)  # type: ignore[call-overload]
        if field is None:
            continue
        old = (row.payload or {}).get("old")
        if field == "tags":
            old = sorted(old or [])
        elif field == "is_high_priority":
            old = bool(old)
        section[field] = old
        if field == "status" and old in STATUS_CATEGORY:
            section["status_category"] = STATUS_CATEGORY[old]


def _rewind_messages(section: dict[str, Any], rows: list[tuple[datetime, datetime, str]], at: datetime) -> None:
    then = [(written, direction) for stored, written, direction in rows if stored <= at]
    section["message_count"] = sum(1 for _at, d in then if d != MessageDirection.NOTE)
    inbound = [written for written, d in then if d == MessageDirection.INBOUND]
    outbound = [written for written, d in then if d == MessageDirection.OUTBOUND]
    section["last_customer_message_at"] = max(inbound) if inbound else None
    section["is_unreplied"] = bool(inbound) and (not outbound or max(outbound) < max(inbound))


def _rma_then(rma: Rma, events: list[RmaEvent], at: datetime) -> str:
    status = rma.status
    for row in reversed(events):
        if row.at <= at:
            break
        if row.type == "status_changed" and (row.payload or {}).get("old"):
            status = row.payload["old"]
    return str(status)


def rewind(
    snapshots: Sequence[Snapshot | None], instants: Sequence[Instant], *, event_rma_ids: Sequence[int | None]
) -> list[Snapshot | None]:
    """The snapshots (as built from today's rows) rewound to their instants (module docstring).
    A snapshot whose ticket did not exist yet at its instant becomes None."""
    ticket_ids = sorted({s["ticket"]["id"] for s in snapshots if s is not None and "ticket" in s})
    rma_ids = [r for r in event_rma_ids if r is not None]
    if not ticket_ids and not rma_ids:
        return list(snapshots)
    history = _load(ticket_ids, rma_ids)
    out: list[Snapshot | None] = []
    for snap, instant, event_rma in zip(snapshots, instants, event_rma_ids, strict=True):
        if snap is None:
            out.append(None)
            continue
        snap = {**snap}
        at = instant.at
        if "ticket" in snap:
            ticket_id = snap["ticket"]["id"]
            if history.created.get(ticket_id, at) > at:
                out.append(None)
                continue
            ticket = snap["ticket"] = {**snap["ticket"]}
            audit = history.audit.get(ticket_id, [])
            _rewind_ticket(ticket, audit, instant)
            messages = history.messages.get(ticket_id, [])
            _rewind_messages(ticket, messages, at)
            ticket["last_movement_at"] = _movement_then(history, ticket_id, at)
            if event_rma is None:
                _ticket_rma_then(snap, history, ticket_id, at)
            _shipment_then(snap, history.tracking.get(history.orders.get(ticket_id) or 0, []), at)
            _customer_then(snap, history, ticket_id, at)
        if event_rma is not None and "rma" in snap:
            snap["rma"] = {**snap["rma"], "status": _rma_then_by_id(history, snap["rma"], at)}
        out.append(snap)
    return out


def _rma_then_by_id(history: _History, section: dict[str, Any], at: datetime) -> str:
    rma = Rma(pk=section["id"], status=section["status"])
    return _rma_then(rma, history.rma_events.get(rma.pk, []), at)


def _ticket_rma_then(snap: Snapshot, history: _History, ticket_id: int, at: datetime) -> None:
    """The ticket's latest RMA requested by `at`, with its status then; no RMA section before one."""
    then = [r for r in history.rmas.get(ticket_id, []) if r.requested_at <= at]
    if not then:
        snap.pop("rma", None)
        return
    rma = then[-1]
    section = snap["rma"] if "rma" in snap and snap["rma"]["id"] == rma.pk else _rma_section(rma)
    snap["rma"] = {**section, "status": _rma_then(rma, history.rma_events.get(rma.pk, []), at)}


def _rma_section(rma: Rma) -> dict[str, Any]:
    """An earlier RMA than today's latest (its line count and product are not read here)."""
    return {
        "id": rma.pk,
        "status": rma.status,
        "resolution": rma.resolution,
        "reason": rma.reason,
        "requested_at": rma.requested_at,
        "delivery_country": rma.delivery_country,
    }


def _customer_then(snap: Snapshot, history: _History, ticket_id: int, at: datetime) -> None:
    """The customer's tier and figures, and the order's status, at `at` (rules.customer_history)."""
    customer_id, currency = history.customers[ticket_id]
    if "customer" in snap:
        section = snap["customer"] = {**snap["customer"]}
        section["tier"] = value_at(history.customer_history.tiers.get(customer_id, []), section["tier"], at)
        section.update(figures_at(history.customer_history, customer_id, at, currency))
    order_id = history.orders.get(ticket_id)
    if snap.get("order") and order_id:
        changes = history.order_statuses.get(order_id, [])
        if changes:
            snap["order"] = {**snap["order"], "status": value_at(changes, snap["order"]["status"], at)}


def _shipment_then(snap: Snapshot, tracking: list[TrackingEvent], at: datetime) -> None:
    """The order's shipment status from its tracking history at `at` (unchanged without history);
    shipped_at / delivered_at only once they had happened."""
    if not snap.get("order"):
        return
    order = snap["order"] = {**snap["order"]}
    if tracking:
        then = [e for e in tracking if e.at <= at]
        order["shipment_status"] = then[-1].status if then else None
    for stamp in ("shipped_at", "delivered_at"):
        if order.get(stamp) is not None and order[stamp] > at:
            order[stamp] = None


def _movement_then(history: _History, ticket_id: int, at: datetime) -> datetime:
    """rules.movement's definition, at `at`."""
    created = history.created[ticket_id]
    candidates = [created]
    candidates += [written for stored, written, _d in history.messages.get(ticket_id, []) if stored <= at]
    candidates += [r.at for r in history.audit.get(ticket_id, []) if r.type in MOVEMENT_EVENTS and r.at <= at]
    for rma in history.rmas.get(ticket_id, []):
        candidates += [r.at for r in history.rma_events.get(rma.pk, []) if r.at <= at]
    order_id = history.orders.get(ticket_id)
    if order_id:
        candidates += [e.at for e in history.tracking.get(order_id, []) if e.at <= at]
    return max(candidates)
