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
from aftersales.inbox.models import TicketEventType
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.inbox.services.ingest import ticket_record_marketplace_return
from aftersales.inbox.workflow import TicketCategory

from .events import ReturnRequestReceived, ReturnRequestStatusChanged
from .models import ReturnRequest, ReturnRequestEvent, ReturnRequestEventType, ReturnRequestKind, ReturnRequestLine

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


def _fields(store: Store, data: ReturnRequestData) -> dict[str, Any]:
    return {
        "kind": data.kind,
        "platform_status": data.status[:60],
        "order_external_id": (data.order_external_id or "")[:120],
        "reason": data.reason[:120],
        "buyer_comment": data.buyer_comment,
        "requested_amount": data.requested_amount,
        "currency": data.currency,
        "respond_by": data.respond_by,
    }


def _create(store: Store, data: ReturnRequestData, actor: Actor) -> ReturnUpsertResult:
    order = (
        Order.objects.filter(store=store, external_id=data.order_external_id).first()
        if data.order_external_id
        else None
    )
    # The ticket message first, so the request is written once with its ticket and customer (a
    # concurrent upsert of the same request finds the message ingested, then loses on the request's
    # unique constraint and updates it on its second round).
    ingested = message_ingest(inbound=_inbound(store, data, order))
    request = ReturnRequest.objects.create(
        organization_id=store.organization_id,
        store=store,
        external_id=data.external_id,
        order=order,
        ticket=ingested.ticket,
        customer_id=ingested.ticket.customer_id,
        created_on_platform=data.created_at,
        updated_on_platform=data.updated_at,
        **_fields(store, data),
    )
    _set_lines(request, data, order)
    ReturnRequestEvent.objects.create(
        return_request=request,
        type=ReturnRequestEventType.RECEIVED,
        payload={"status": request.platform_status, "ticket_id": ingested.ticket.pk},
        actor_kind=actor.kind,
        actor_ref=actor.id,
        at=now(),
    )
    ticket_record_marketplace_return(  # the ticket's timeline shows it
        ticket_id=ingested.ticket.pk,
        event_type=TicketEventType.RETURN_REQUEST_RECEIVED,
        actor=actor,
        **_timeline_payload(request, status=request.platform_status),
    )
    events.publish(
        ReturnRequestReceived(
            return_request_id=request.pk,
            organization_id=store.organization_id,
            store_id=store.pk,
            kind=request.kind,
            ticket_id=ingested.ticket.pk,
            actor=actor,
        )
    )
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
    new = _fields(request.store, data)
    changed = {name: (getattr(request, name), value) for name, value in new.items() if getattr(request, name) != value}
    lines_changed = _line_keys(request) != [(x.sku, x.quantity, x.external_line_id, x.reason) for x in data.lines]
    if data.updated_at and data.updated_at != request.updated_on_platform:
        request.updated_on_platform = data.updated_at
        if not changed and not lines_changed:
            request.save(update_fields=["updated_on_platform", "updated_at"])
    if not changed and not lines_changed:
        return ReturnUpsertResult(return_request=request, action="unchanged", ticket_id=request.ticket_id)
    old_status = request.platform_status
    for name, (_old, value) in changed.items():
        setattr(request, name, value)
    if request.order_id is None and data.order_external_id:
        request.order = Order.objects.filter(store=request.store, external_id=data.order_external_id).first()
    request.save()
    if lines_changed:
        request.lines.all().delete()
        _set_lines(request, data, request.order)
    at = now()
    if "platform_status" in changed:
        ReturnRequestEvent.objects.create(
            return_request=request,
            type=ReturnRequestEventType.STATUS_CHANGED,
            payload={"old": old_status, "new": request.platform_status},
            actor_kind=actor.kind,
            actor_ref=actor.id,
            at=at,
        )
        if request.ticket_id is not None:  # the ticket's timeline shows it
            ticket_record_marketplace_return(
                ticket_id=request.ticket_id,
                event_type=TicketEventType.RETURN_REQUEST_STATUS_CHANGED,
                actor=actor,
                **_timeline_payload(request, old=old_status, new=request.platform_status),
            )
        events.publish(
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
    other = sorted(set(changed) - {"platform_status"}) + (["lines"] if lines_changed else [])
    if other:
        ReturnRequestEvent.objects.create(
            return_request=request,
            type=ReturnRequestEventType.UPDATED,
            payload={"fields": other},
            actor_kind=actor.kind,
            actor_ref=actor.id,
            at=at,
        )
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


def _line_keys(request: ReturnRequest) -> list[tuple[str, int, str, str]]:
    return [(x.sku, x.quantity, x.external_line_id, x.reason) for x in request.lines.order_by("id")]


def _set_lines(request: ReturnRequest, data: ReturnRequestData, order: Order | None) -> None:
    if not data.lines:
        return
    by_external: dict[str, int] = {}
    if order is not None:
        by_external = {
            ext: pk for ext, pk in OrderLine.objects.filter(order=order).values_list("external_line_id", "pk") if ext
        }
    ReturnRequestLine.objects.bulk_create(
        [
            ReturnRequestLine(
                return_request=request,
                sku=line.sku[:80],
                quantity=line.quantity,
                external_line_id=line.external_line_id[:120],
                reason=line.reason[:120],
                order_line_id=by_external.get(line.external_line_id),
            )
            for line in data.lines
        ]
    )


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


def _inbound(store: Store, data: ReturnRequestData, order: Order | None) -> InboundMessage:
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
