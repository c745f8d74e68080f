"""Writes of the returns app.

`return_request_upsert` keeps the marketplace's view of a return / refund request / inquiry / case
(called by the sync engine for every ReturnRecord, idempotently): a new one opens or joins the
buyer's ticket through the inbox's ingest (so threading, customers and search are the inbox's
own), with a `received` event; a later version records what changed (`status_changed` when the
marketplace's status moved). An older version than the one stored changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.catalog.models import CustomerIdentity, Order, OrderLine, Store
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.inbox.models import TicketEvent, TicketEventType
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.inbox.services.ingest import marketplace_return_row
from aftersales.inbox.workflow import TicketCategory

from .events import ReturnRequestReceived, ReturnRequestStatusChanged
from .models import (
    PlatformReturnState,
    ReturnRequest,
    ReturnRequestEvent,
    ReturnRequestEventType,
    ReturnRequestKind,
    ReturnRequestLine,
)
from .rma_platform import rmas_follow_platform

# The ticket category a new request opens a ticket with.
TICKET_CATEGORY: dict[str, str] = {
    ReturnRequestKind.RETURN: TicketCategory.RETURN,
    ReturnRequestKind.REFUND_REQUEST: TicketCategory.REFUND,
    ReturnRequestKind.INQUIRY: TicketCategory.NOT_RECEIVED,
    ReturnRequestKind.CASE: TicketCategory.COMPLAINT,  # a dispute escalated to the marketplace
    ReturnRequestKind.CANCELLATION: TicketCategory.REFUND,
}


@dataclass(frozen=True)
class ReturnLineData:
    sku: str
    quantity: int
    external_line_id: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ReturnRequestData:
    """A request as the marketplace holds it (channels.base.ReturnRecord, flattened)."""

    external_id: str
    kind: str
    status: str
    created_at: datetime
    order_external_id: str | None = None
    buyer_external_id: str = ""
    buyer_name: str = ""
    buyer_email: str = ""
    buyer_country: str = ""
    buyer_language: str = ""
    reason: str = ""
    buyer_comment: str = ""
    requested_amount: Decimal | None = None
    currency: str = ""
    respond_by: datetime | None = None
    updated_at: datetime | None = None
    lines: list[ReturnLineData] = field(default_factory=list)
    # `status` in one vocabulary (models.PlatformReturnState; the connector's mapping decides).
    platform_state: str = PlatformReturnState.UNKNOWN


@dataclass(frozen=True)
class ReturnUpsertResult:
    return_request: ReturnRequest
    action: str  # "created" | "updated" | "unchanged"
    ticket_id: int | None
    message_id: int | None = None
    ticket_created: bool = False


_COMPARED = (
    "kind",
    "platform_status",
    "platform_state",
    "order_external_id",
    "reason",
    "buyer_comment",
    "requested_amount",
    "currency",
    "respond_by",
)


def return_request_upsert(*, store: Store, data: ReturnRequestData, actor: Actor) -> ReturnUpsertResult:
    """Create or update the request (store, external id). One transaction; locks the request row
    (and, for a new one, the ticket it joins, through ingest)."""
    if data.kind not in ReturnRequestKind.values:
        raise ValueError(f"unknown return kind {data.kind!r}")
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                existing = (
                    ReturnRequest.objects.select_for_update().filter(store=store, external_id=data.external_id).first()
                )
                if existing is None:
                    return _create(store, data, actor)
                existing.store = store  # (the caller's: not read again)
                return _update(existing, data, actor)
        except IntegrityError:
            if attempt == 2:
                raise  # a concurrent upsert created it: the second round updates it
    raise AssertionError("unreachable")


def return_request_values(store: Store, data: ReturnRequestData) -> dict[str, Any]:
    """The stored values of a request (ReturnRequest's fields by name) besides its keys, order, ticket
    and platform times: the one definition return_request_upsert and the sync engine's page path
    (channels.returns_many) write and compare."""
    return {
        "kind": data.kind,
        "platform_status": data.status[:60],
        "platform_state": (
            data.platform_state if data.platform_state in PlatformReturnState.values else PlatformReturnState.UNKNOWN
        ),
        "order_external_id": (data.order_external_id or "")[:120],
        "reason": data.reason[:120],
        "buyer_comment": data.buyer_comment,
        "requested_amount": data.requested_amount,
        "currency": data.currency,
        "respond_by": data.respond_by,
    }


def return_request_new(store: Store, data: ReturnRequestData, order: Order | None) -> ReturnRequest:
    """The unsaved request a new platform request creates (the caller sets its ticket and customer)."""
    return ReturnRequest(
        organization_id=store.organization_id,
        store=store,
        external_id=data.external_id,
        order=order,
        created_on_platform=data.created_at,
        updated_on_platform=data.updated_at,
        **return_request_values(store, data),
    )


@dataclass
class ReturnRequestWrites:
    """What receiving or updating a request writes besides the request row: its own events, the
    ticket's timeline rows (`ticket_id` set) and the domain events, in order."""

    request_events: list[ReturnRequestEvent] = field(default_factory=list)
    ticket_rows: list[TicketEvent] = field(default_factory=list)
    published: list[object] = field(default_factory=list)


def return_request_received_writes(request: ReturnRequest, ticket_id: int, actor: Actor) -> ReturnRequestWrites:
    """A new request (saved, with its ticket): its `received` event, the ticket's timeline row and
    ReturnRequestReceived (the one definition for both paths)."""
    return ReturnRequestWrites(
        request_events=[
            _event_row(
                request,
                ReturnRequestEventType.RECEIVED,
                {"status": request.platform_status, "ticket_id": ticket_id},
                actor,
                now(),
            )
        ],
        ticket_rows=[
            marketplace_return_row(  # the ticket's timeline shows it
                ticket_id=ticket_id,
                event_type=TicketEventType.RETURN_REQUEST_RECEIVED,
                actor=actor,
                **_timeline_payload(request, status=request.platform_status),
            )
        ],
        published=[
            ReturnRequestReceived(
                return_request_id=request.pk,
                organization_id=request.organization_id,
                store_id=request.store_id,
                kind=request.kind,
                ticket_id=ticket_id,
                actor=actor,
            )
        ],
    )


def return_request_changes(
    request: ReturnRequest, data: ReturnRequestData, stored_lines: list[tuple[str, int, str, str]]
) -> tuple[dict[str, Any], bool]:
    """The values of a newer version that differ from the stored request, and whether its lines
    differ from `stored_lines` (the stored lines' keys in id order)."""
    new = return_request_values(request.store, data)
    changed = {name: value for name, value in new.items() if getattr(request, name) != value}
    return changed, stored_lines != return_request_line_keys(data)


def return_request_update_writes(
    request: ReturnRequest, old_status: str, changed: set[str], lines_changed: bool, actor: Actor
) -> ReturnRequestWrites:
    """A changed request (saved, changes applied): `status_changed` (event, the ticket's timeline row,
    ReturnRequestStatusChanged) when the platform's status moved, `updated` naming the other fields."""
    writes = ReturnRequestWrites()
    at = now()
    if "platform_status" in changed:
        payload = {"old": old_status, "new": request.platform_status}
        writes.request_events.append(_event_row(request, ReturnRequestEventType.STATUS_CHANGED, payload, actor, at))
        if request.ticket_id is not None:  # the ticket's timeline shows it
            writes.ticket_rows.append(
                marketplace_return_row(
                    ticket_id=request.ticket_id,
                    event_type=TicketEventType.RETURN_REQUEST_STATUS_CHANGED,
                    actor=actor,
                    **_timeline_payload(request, old=old_status, new=request.platform_status),
                )
            )
        writes.published.append(
            ReturnRequestStatusChanged(
                return_request_id=request.pk,
                organization_id=request.organization_id,
                store_id=request.store_id,
                old_status=old_status,
                new_status=request.platform_status,
                ticket_id=request.ticket_id,
                actor=actor,
            )
        )
    other = sorted(changed - {"platform_status", "platform_state"}) + (["lines"] if lines_changed else [])
    if other:
        writes.request_events.append(_event_row(request, ReturnRequestEventType.UPDATED, {"fields": other}, actor, at))
    return writes


def _event_row(
    request: ReturnRequest, type_: str, payload: dict[str, Any], actor: Actor, at: datetime
) -> ReturnRequestEvent:
    return ReturnRequestEvent(
        return_request=request, type=type_, payload=payload, actor_kind=actor.kind, actor_ref=actor.id, at=at
    )


def _written(writes: ReturnRequestWrites) -> None:
    for row in writes.request_events:
        row.save(force_insert=True)
    for ticket_row in writes.ticket_rows:
        ticket_row.save(force_insert=True)
    for event in writes.published:
        events.publish(event)


def _create(store: Store, data: ReturnRequestData, actor: Actor) -> ReturnUpsertResult:
    order = (
        Order.objects.filter(store=store, external_id=data.order_external_id).first()
        if data.order_external_id
        else None
    )
    # The ticket message first, so the request is written once with its ticket and customer (a
    # concurrent upsert of the same request finds the message ingested, then loses on the request's
    # unique constraint and updates it on its second round).
    ingested = message_ingest(inbound=return_request_inbound(store, data, order))
    request = return_request_new(store, data, order)
    request.ticket = ingested.ticket
    request.customer_id = ingested.ticket.customer_id
    request.save(force_insert=True)
    _set_lines(request, data, order)
    _written(return_request_received_writes(request, ingested.ticket.pk, actor))
    return ReturnUpsertResult(
        return_request=request,
        action="created",
        ticket_id=ingested.ticket.pk,
        message_id=ingested.message.pk,
        ticket_created=ingested.ticket_created,
    )


def _update(request: ReturnRequest, data: ReturnRequestData, actor: Actor) -> ReturnUpsertResult:
    if data.updated_at and request.updated_on_platform and data.updated_at < request.updated_on_platform:
        return ReturnUpsertResult(return_request=request, action="unchanged", ticket_id=request.ticket_id)
    changed, lines_changed = return_request_changes(request, data, _line_keys(request))
    if data.updated_at and data.updated_at != request.updated_on_platform:
        request.updated_on_platform = data.updated_at
        if not changed and not lines_changed:
            request.save(update_fields=["updated_on_platform", "updated_at"])
    if not changed and not lines_changed:
        return ReturnUpsertResult(return_request=request, action="unchanged", ticket_id=request.ticket_id)
    old_status, old_state = request.platform_status, request.platform_state
    for name, value in changed.items():
        setattr(request, name, value)
    if request.order_id is None and data.order_external_id:
        request.order = Order.objects.filter(store=request.store, external_id=data.order_external_id).first()
    request.save()
    if lines_changed:
        request.lines.all().delete()
        _set_lines(request, data, request.order)
    writes = return_request_update_writes(request, old_status, set(changed), lines_changed, actor)
    # The linked RMAs follow a cancellation / closing on the marketplace (their events after the
    # request's, as the page path places them).
    rmas_follow_platform(request=request, old_state=old_state, actor=actor, published=writes.published)
    _written(writes)
    return ReturnUpsertResult(return_request=request, action="updated", ticket_id=request.ticket_id)


def _timeline_payload(request: ReturnRequest, **statuses: str) -> dict[str, object]:
    """What the ticket's timeline says of the request: its kind, the platform and the platform's
    own id and status words."""
    return {
        "return_request_id": request.pk,
        "kind": request.kind,
        "external_id": request.external_id,
        "platform": request.store.platform,
        **statuses,
    }


def return_request_line_keys(data: ReturnRequestData) -> list[tuple[str, int, str, str]]:
    """A version's lines as compared with the stored ones (_line_keys)."""
    return [(x.sku, x.quantity, x.external_line_id, x.reason) for x in data.lines]


def _line_keys(request: ReturnRequest) -> list[tuple[str, int, str, str]]:
    return [(x.sku, x.quantity, x.external_line_id, x.reason) for x in request.lines.order_by("id")]


def return_request_line_rows(
    request: ReturnRequest, data: ReturnRequestData, order_lines: dict[str, int]
) -> list[ReturnRequestLine]:
    """The request's unsaved lines; `order_lines`: the order's line ids by platform line id."""
    return [
        ReturnRequestLine(
            return_request=request,
            sku=line.sku[:80],
            quantity=line.quantity,
            external_line_id=line.external_line_id[:120],
            reason=line.reason[:120],
            order_line_id=order_lines.get(line.external_line_id),
        )
        for line in data.lines
    ]


def _set_lines(request: ReturnRequest, data: ReturnRequestData, order: Order | None) -> None:
    if not data.lines:
        return
    by_external: dict[str, int] = {}
    if order is not None:
        by_external = {
            ext: pk for ext, pk in OrderLine.objects.filter(order=order).values_list("external_line_id", "pk") if ext
        }
    ReturnRequestLine.objects.bulk_create(return_request_line_rows(request, data, by_external))


def _buyer_id(store: Store, data: ReturnRequestData, order: Order | None) -> str:
    if data.buyer_external_id:
        return data.buyer_external_id
    if order is not None and order.customer_id is not None:
        known = (
            CustomerIdentity.objects.filter(store=store, customer_id=order.customer_id)
            .values_list("external_id", flat=True)
            .first()
        )
        if known:
            return known
    if data.order_external_id:
        return f"order:{data.order_external_id}"
    return f"return:{data.external_id}"


def _summary(data: ReturnRequestData) -> tuple[str, str]:
    kind = str(ReturnRequestKind(data.kind).label)
    subject = _("%(kind)s %(id)s") % {"kind": kind, "id": data.external_id}
    parts = [_("%(kind)s opened on the marketplace (status: %(status)s)") % {"kind": kind, "status": data.status}]
    if data.reason:
        parts.append(_("Reason: %(reason)s") % {"reason": data.reason})
    if data.requested_amount is not None:
        parts.append(
            _("Requested amount: %(amount)s %(currency)s")
            % {"amount": data.requested_amount, "currency": data.currency}
        )
    if data.respond_by:
        deadline = data.respond_by.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        parts.append(_("Respond by: %(date)s") % {"date": deadline})
    if data.buyer_comment:
        parts.append("")
        parts.append(data.buyer_comment)
    return subject, "\n".join(parts)


def return_request_inbound(store: Store, data: ReturnRequestData, order: Order | None) -> InboundMessage:
    """The ticket message a new request is ingested as (both paths)."""
    subject, body = _summary(data)
    return InboundMessage(
        store=store,
        external_id=f"return:{data.external_id}"[:200],
        body=body,
        subject=subject,
        customer_external_id=_buyer_id(store, data, order)[:200],
        customer_name=data.buyer_name,
        customer_email=data.buyer_email,
        customer_country=data.buyer_country,
        customer_language=data.buyer_language,
        order_external_id=data.order_external_id,
        sent_at=data.created_at,
        category=TICKET_CATEGORY[data.kind],
        via="return",
    )
