"""Snapshots: what a rule's conditions read (rules.fields), built with a fixed number of queries per
batch of tickets whatever their number (no N+1): tickets with their store, customer and order
joined, then one query each for tags, message counts, order lines with products, shipments, the
latest RMA, the last movement (rules.movement) and the customer's orders and returns
(rules.customer_history: the customer's figures from history, not the stored counters). A
snapshot is a dict of sections (ticket, message, order, customer, product, rma, store, event)
holding Decimals and aware datetimes; a section without data is absent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count

from aftersales.catalog.models import OrderLine, Shipment
from aftersales.inbox.models import Message, MessageDirection, Ticket
from aftersales.returns.models import Rma, RmaLine

from .customer_history import figures_of
from .movement import last_movements

Snapshot = dict[str, Any]


def _ticket_section(t: Ticket, tags: list[str], message_count: int, moved: datetime | None) -> dict[str, Any]:
    return {
        "id": t.pk,
        "subject": t.subject,
        "status": t.status,
        "status_category": t.status_category,
        "category": t.category,
        "urgency": t.urgency,
        "platform": t.platform,
        "language": t.language,
        "is_high_priority": t.is_high_priority,
        "is_unreplied": t.is_unreplied,
        "tags": tags,
        "team_id": t.team_id,
        "assignee_id": t.assignee_id,
        "sku_category": t.sku_category,
        "created_at": t.created_at,
        "last_customer_message_at": t.last_customer_message_at,
        "last_movement_at": moved or t.last_message_at or t.created_at,  # rules.movement
        "message_count": message_count,
    }


def _product_section(line: OrderLine) -> dict[str, Any] | None:
    return _product_fields(line.product) if line.product is not None else None


def _product_fields(product: Any) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "category": product.category,
        "value_tier": product.value_tier,
        "price": Decimal(product.price_amount),
    }


def ticket_snapshots(*, organization_id: int, ticket_ids: Iterable[int], now: datetime) -> dict[int, Snapshot]:
    """Snapshots of tickets of one organization (8 queries for any number of tickets); the customer's
    figures are as of `now` (rules.customer_history)."""
    ids = list(dict.fromkeys(ticket_ids))
    tickets = list(
        Ticket.objects.filter(organization_id=organization_id, pk__in=ids).select_related("store", "customer", "order")
    )
    if not tickets:
        return {}
    found = [t.pk for t in tickets]
    tags: dict[int, list[str]] = defaultdict(list)
    for ticket_id, name in Ticket.tags.through.objects.filter(ticket_id__in=found).values_list(
        "ticket_id", "tag__name"
    ):
        tags[ticket_id].append(name)
    counts = dict(
        Message.objects.filter(ticket_id__in=found)
        .exclude(direction=MessageDirection.NOTE)
        .values("ticket_id")
        .annotate(n=Count("id"))
        .values_list("ticket_id", "n")
    )
    order_ids = {t.order_id for t in tickets if t.order_id}
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(order_id__in=order_ids).select_related("product").order_by("order_id", "pk"):
        lines[line.order_id].append(line)
    shipments: dict[int, Shipment] = {}
    for row in Shipment.objects.filter(order_id__in=order_ids).order_by("order_id", "created_at", "pk"):
        shipments[row.order_id] = row  # the latest wins
    rmas = latest_rmas(organization_id=organization_id, ticket_ids=found)
    moved = last_movements(found)
    # The customer's figures at `now` from SQL aggregates (rules.customer_history.figures_of): not
    # every order row of a customer with thousands of them.
    customers = figures_of([(t.customer_id, t.store.currency) for t in tickets], now)
    out: dict[int, Snapshot] = {}
    for t in tickets:
        tags[t.pk].sort()
        snap: Snapshot = {
            "now": now,
            "ticket": _ticket_section(t, tags[t.pk], counts.get(t.pk, 0), moved.get(t.pk)),
            "store": {
                "id": t.store_id,
                "platform": t.store.platform,
                "site": t.store.site,
                "country": str(t.store.country or ""),
            },
        }
        c = t.customer
        snap["customer"] = {
            "tier": c.tier,
            **customers[(c.pk, t.store.currency)],  # rules.customer_history
            "country": str(c.country or ""),
            "language": c.preferred_language,
        }
        order_lines = lines.get(t.order_id or 0, [])
        if t.order is not None:
            shipment = shipments.get(t.order.pk)
            snap["order"] = {
                "number": t.order.external_id,
                "status": t.order.status,
                "total": Decimal(t.order.total_amount),
                "currency": t.order.currency,
                "placed_at": t.order.placed_at,
                "skus": sorted({line.sku for line in order_lines}),
                "shipment_status": shipment.status if shipment else None,
                "shipped_at": shipment.shipped_at if shipment else None,
                "delivered_at": shipment.delivered_at if shipment else None,
            }
        rma = rmas.get(t.pk)
        if rma is not None:
            _add_rma(snap, rma)
        if "product" not in snap:
            product = next((p for p in map(_product_section, order_lines) if p), None)
            if product:
                snap["product"] = product
        out[t.pk] = snap
    return out


def latest_rmas(*, organization_id: int, ticket_ids: list[int]) -> dict[int, Rma]:
    """Each ticket's latest RMA with its line count and first line's product (2 queries)."""
    rmas: dict[int, Rma] = {}
    for rma in (
        Rma.objects.filter(organization_id=organization_id, ticket_id__in=ticket_ids)
        .annotate(line_count=Count("lines"))
        .order_by("ticket_id", "created_at", "pk")
    ):
        assert rma.ticket_id is not None
        rmas[rma.ticket_id] = rma
    _first_lines(list(rmas.values()))
    return rmas


def _first_lines(rmas: list[Rma]) -> None:
    firsts: dict[int, RmaLine] = {}
    for row in (
        RmaLine.objects.filter(rma_id__in=[r.pk for r in rmas])
        .select_related("order_line__product")
        .order_by("rma_id", "-pk")
    ):
        firsts[row.rma_id] = row  # the lowest id (first line) wins
    for rma in rmas:
        line = firsts.get(rma.pk)
        rma.first_product = line.order_line.product if line else None  # type: ignore[attr-defined]


def _add_rma(snap: Snapshot, rma: Rma) -> None:
    snap["rma"] = {
        "id": rma.pk,
        "status": rma.status,
        "resolution": rma.resolution,
        "reason": rma.reason,
        "requested_at": rma.requested_at,
        "delivery_country": rma.delivery_country,
        "line_count": getattr(rma, "line_count", 0),
    }
    product = getattr(rma, "first_product", None)
    if product is not None:
        snap["product"] = _product_fields(product)


def _message_section(message: Message) -> dict[str, Any]:
    section: dict[str, Any] = {
        "id": message.pk,
        "body": message.body,
        "language": message.language,
        "channel": message.channel,
        "created_at": message.sent_at or message.created_at,
        "attachment_count": getattr(message, "attachment_count", 0),
    }
    triage = getattr(message, "triage", None)
    if triage is not None:
        section["triage"] = {
            "intent": triage.intent,
            "confidence": Decimal(str(triage.confidence)),
            "urgency": triage.urgency,
            "sentiment": triage.sentiment,
            "needs_human": triage.needs_human,
            "reasons": list(triage.reasons or []),
            "entity_types": sorted({e.get("type", "") for e in triage.entities or [] if isinstance(e, dict)}),
        }
    return section


@dataclass(frozen=True)
class EventRef:
    """What a snapshot is built for: an event's time, its ticket / message / RMA ids, its `event`
    section. The engine builds one; the dry run builds a chunk of them (`event_snapshots`)."""

    at: datetime
    ticket_id: int | None = None
    message_id: int | None = None
    rma_id: int | None = None
    event: Mapping[str, Any] | None = None


def message_sections(*, organization_id: int, message_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The message sections (with the triage result) of messages of one organization (one query)."""
    ids = list(dict.fromkeys(message_ids))
    if not ids:
        return {}
    rows = (
        Message.objects.filter(pk__in=ids, ticket__organization_id=organization_id)
        .select_related("triage")
        .annotate(attachment_count=Count("attachments"))
    )
    return {m.pk: _message_section(m) for m in rows}


def _rmas(organization_id: int, rma_ids: list[int]) -> dict[int, Rma]:
    if not rma_ids:
        return {}
    rmas: dict[int, Rma] = {
        r.pk: r
        for r in Rma.objects.filter(organization_id=organization_id, pk__in=rma_ids)
        .annotate(line_count=Count("lines"))
        .select_related("store")
    }
    _first_lines(list(rmas.values()))
    return rmas


def event_snapshots(*, organization_id: int, trigger: str, events: Sequence[EventRef]) -> list[Snapshot | None]:
    """The snapshot of each event (None when its ticket/RMA is gone or in another organization), in
    a fixed number of queries for the whole list whatever its length: the RMAs (2), the tickets
    (`ticket_snapshots`, 7-8), the messages (1). The message section (with its triage result) is
    present for a `message_id`; the RMA section is the event's RMA when given, else the ticket's
    latest; `now` is each event's own time."""
    rmas = _rmas(organization_id, [e.rma_id for e in events if e.rma_id is not None])
    ticket_ids: list[int] = []
    for e in events:
        rma = rmas.get(e.rma_id) if e.rma_id is not None else None
        ticket_id = e.ticket_id or (rma.ticket_id if rma is not None else None)
        if ticket_id is not None:
            ticket_ids.append(ticket_id)
    shared = (
        ticket_snapshots(organization_id=organization_id, ticket_ids=ticket_ids, now=max(e.at for e in events))
        if ticket_ids
        else {}
    )
    sections = message_sections(
        organization_id=organization_id, message_ids=[e.message_id for e in events if e.message_id is not None]
    )
    out: list[Snapshot | None] = []
    for e in events:
        rma = None
        if e.rma_id is not None:
            rma = rmas.get(e.rma_id)
            if rma is None:
                out.append(None)
                continue
        ticket_id = e.ticket_id or (rma.ticket_id if rma is not None else None)
        snap: Snapshot | None = None
        if ticket_id is not None:
            base = shared.get(ticket_id)
            if base is None:
                out.append(None)
                continue
            snap = {**base, "now": e.at}
        elif rma is not None:  # an RMA without a ticket: store, customer and RMA only
            snap = {
                "now": e.at,
                "store": {
                    "id": rma.store_id,
                    "platform": rma.store.platform,
                    "site": rma.store.site,
                    "country": str(rma.store.country or ""),
                },
            }
        if snap is None:
            out.append(None)
            continue
        if rma is not None:
            _add_rma(snap, rma)
        if e.message_id is not None and e.message_id in sections:
            snap["message"] = sections[e.message_id]
        snap["event"] = {"trigger": trigger, **(e.event or {})}
        out.append(snap)
    return out


def build_snapshot(
    *,
    organization_id: int,
    trigger: str,
    now: datetime,
    ticket_id: int | None = None,
    message_id: int | None = None,
    rma_id: int | None = None,
    event: Mapping[str, Any] | None = None,
) -> Snapshot | None:
    """The snapshot of one event: `event_snapshots` of one."""
    ref = EventRef(at=now, ticket_id=ticket_id, message_id=message_id, rma_id=rma_id, event=event)
    return event_snapshots(organization_id=organization_id, trigger=trigger, events=[ref])[0]
