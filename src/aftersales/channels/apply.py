"""Applying mapped records to the domain: each function takes one record of channels.base and
returns an `Applied` (what happened, and the ticket / message it touched). Idempotent: the same
record twice changes nothing the second time ("unchanged" / "duplicate").

- MessageRecord -> the inbox's ingest (a buyer's message) or seller_message_record (the seller wrote
  it on the platform: kept on the thread, opens and reopens nothing);
- OrderRecord -> Order / OrderLine / Shipment upserted by (store, external id), the buyer linked to
  a customer exactly as ingest links a message's author;
- ReturnRecord -> returns.services.return_request_upsert;
- TrackingRecord -> tracking.services.tracking_apply for each shipment with that tracking number;
- IgnoredRecord -> nothing; DeliveryFailureRecord -> the bounced reply marked failed;
- AccountDeletionRecord -> channels.erasure.buyer_erase (the buyer's data from that platform erased)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction

from aftersales.catalog.history import order_status_changes_record
from aftersales.catalog.models import Order, OrderLine, Product, Shipment, Store
from aftersales.core.actors import Actor
from aftersales.core.errors import ValidationFailed
from aftersales.inbox.services import InboundMessage, IngestResult, message_ingest
from aftersales.inbox.services.common import AttachmentInput
from aftersales.inbox.services.delivery import message_mark_bounced, message_record_receipt
from aftersales.inbox.services.ingest import _upsert_customer
from aftersales.inbox.services.seller_messages import seller_message_record
from aftersales.returns.services import ReturnLineData, ReturnRequestData, return_request_upsert
from aftersales.tracking.services import tracking_apply

from .base import (
    AccountDeletionRecord,
    Buyer,
    DeliveryFailureRecord,
    DeliveryReceiptRecord,
    IgnoredRecord,
    MappingError,
    MessageRecord,
    OrderLineRecord,
    OrderRecord,
    Record,
    ReturnRecord,
    ShipmentRecord,
    TrackingRecord,
)
from .erasure import buyer_erase


@dataclass(frozen=True)
class Applied:
    action: str  # new_ticket, thread, created, updated, unchanged, duplicate, ignored, bounce
    reason: str = ""
    ticket_id: int | None = None
    message_id: int | None = None


def connector_actor(store: Store) -> Actor:
    return Actor.connector(store_id=store.pk, platform=store.platform)


def apply_record(store: Store, record: Record) -> Applied:
    if isinstance(record, MessageRecord):
        return apply_message(store, record)
    if isinstance(record, OrderRecord):
        return apply_order(store, record)
    if isinstance(record, ReturnRecord):
        return apply_return(store, record)
    if isinstance(record, TrackingRecord):
        return apply_tracking(store, record)
    if isinstance(record, IgnoredRecord):
        return Applied("ignored", reason=record.reason + (f": {record.detail}" if record.detail else ""))
    if isinstance(record, DeliveryFailureRecord):
        return apply_delivery_failure(store, record)
    if isinstance(record, DeliveryReceiptRecord):
        return apply_delivery_receipt(store, record)
    if isinstance(record, AccountDeletionRecord):
        erased = buyer_erase(store=store, external_ids=record.external_ids, actor=connector_actor(store))
        return Applied("updated", reason=erased.summary())
    raise MappingError(f"the connector produced an unknown record type {type(record).__name__}")


# --- messages -----------------------------------------------------------------------------------

_INBOUND_FIELDS = {f.name for f in dataclasses.fields(InboundMessage)}


def target_store(store: Store, record: MessageRecord) -> Store:
    """The store a message belongs to: `target_store_id` is honoured only for an active store of the
    same organization (Amazon relay mail read from the seller's mailbox belongs to the Amazon store)."""
    if record.target_store_id is None or record.target_store_id == store.pk:
        return store
    target = Store.objects.filter(pk=record.target_store_id, organization_id=store.organization_id).first()
    if target is None:
        raise MappingError("the message names a store of another organization", field="target_store_id")
    return target


def inbound_from_record(store: Store, record: MessageRecord) -> InboundMessage:
    """The inbox's InboundMessage for a MessageRecord (on the store it belongs to: target_store)."""
    store = target_store(store, record)
    values: dict[str, Any] = {
        "store": store,
        "external_id": record.external_id,
        "body": record.body,
        "body_html": record.body_html,
        "subject": record.subject,
        "customer_external_id": record.buyer.external_id,
        "customer_name": record.buyer.name,
        "customer_email": record.buyer.email,
        "customer_country": record.buyer.country,
        "customer_language": record.language or record.buyer.language,
        "order_external_id": record.order_external_id,
        "conversation_id": record.conversation_id,
        "sent_at": record.sent_at,
        "attachments": [AttachmentInput(a.filename, a.content, a.content_type) for a in record.attachments],
        "via": store.platform,
        # E-mail threading (present once the inbox's ingest takes them):
        "message_id_header": record.message_id_header,
        "references": list(record.references),
        "body_display": getattr(record, "body_display", ""),
    }
    return InboundMessage(**{k: v for k, v in values.items() if k in _INBOUND_FIELDS})


def apply_message(store: Store, record: MessageRecord) -> Applied:
    inbound = inbound_from_record(store, record)
    if record.from_seller:
        result = seller_message_record(inbound=inbound, actor=connector_actor(store))
        if result is None:
            return Applied("ignored", reason="seller message without a buyer thread")
    else:
        result = message_ingest(inbound=inbound)
    return applied_of_ingest(result)


def applied_of_ingest(result: IngestResult) -> Applied:
    """What ingesting a message did, as an Applied (the sync engine's batched path uses it too)."""
    if not result.created:
        return Applied("duplicate", ticket_id=result.ticket.pk, message_id=result.message.pk)
    action = "new_ticket" if result.ticket_created else "thread"
    return Applied(action, ticket_id=result.ticket.pk, message_id=result.message.pk)


# --- orders -------------------------------------------------------------------------------------


def _customer_for(store: Store, buyer: Buyer) -> Any:
    """The buyer's customer, found or created exactly as ingest does for a message's author."""
    inbound = InboundMessage(
        store=store,
        external_id="",
        body="",
        customer_external_id=buyer.external_id,
        customer_name=buyer.name,
        customer_email=buyer.email,
        customer_country=buyer.country,
        customer_language=buyer.language,
    )
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                customer, _new = _upsert_customer(inbound)
                return customer
        except IntegrityError:
            if attempt == 2:
                raise  # the concurrent writer's identity is found on the second round
    raise AssertionError("unreachable")


def apply_order(store: Store, record: OrderRecord) -> Applied:
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _upsert_order(store, record)
        except IntegrityError:
            if attempt == 2:
                raise  # another worker created the order at the same moment: update it
    raise AssertionError("unreachable")


def order_values(store: Store, record: OrderRecord) -> dict[str, Any]:
    """The stored values of an order record (Order's fields by name): the one definition both the
    record-by-record path (_upsert_order) and the sync engine's page path (apply_many) write. A new
    field goes here only; a value of None leaves the stored one as it is on an update."""
    return {
        "placed_at": record.placed_at,
        "status": record.status[:40],
        "total_amount": record.total,
        "currency": record.currency[:3] or store.currency,
        "ship_country": record.ship_country,
        "ship_address_key": record.ship_address_key,
        "platform_updated_at": record.updated_at,
    }


def _upsert_order(store: Store, record: OrderRecord) -> Applied:
    if len(record.external_id) > 120 or not record.external_id:
        raise MappingError("an order needs an id of at most 120 characters", field="external_id")
    order = Order.objects.select_for_update().filter(store=store, external_id=record.external_id).first()
    if (
        order is not None
        and record.updated_at is not None
        and order.platform_updated_at is not None
        and record.updated_at < order.platform_updated_at
    ):
        return Applied("unchanged", reason="older version")
    customer = _customer_for(store, record.buyer) if record.buyer and record.buyer.external_id else None
    values = order_values(store, record)
    if order is None:
        order = Order.objects.create(
            organization_id=store.organization_id,
            store=store,
            external_id=record.external_id,
            customer=customer,
            **values,
        )
        _sync_lines(store, order, record, new=True)
        _sync_shipments(order, record, new=True)
        _register_shipped_units(store, order, record)
        return Applied("created")
    changed = [name for name, value in values.items() if value is not None and _differs(getattr(order, name), value)]
    if customer is not None and order.customer_id is None:
        order.customer = customer
        changed.append("customer")
    old_status = order.status
    for name in changed:
        if name != "customer":
            setattr(order, name, values[name])
    lines_changed = _sync_lines(store, order, record)
    shipments_changed = _sync_shipments(order, record)
    _register_shipped_units(store, order, record)
    if changed:
        order.save(update_fields=[*changed, "updated_at"])
        order_status_changes_record([(order.pk, old_status, order.status, record.updated_at)])
    if changed or lines_changed or shipments_changed:
        return Applied("updated")
    return Applied("unchanged")


def _register_shipped_units(store: Store, order: Order, record: OrderRecord) -> None:
    """A shipped order (it has a shipment) whose lines carry the units' IMEIs or serial numbers: the
    units go into the warranty registry (warranty.services.units_register_shipped, idempotent)."""
    if not record.shipments or not any(line.imeis or line.serial_numbers for line in record.lines):
        return
    from aftersales.warranty.services import ShippedUnit, units_register_shipped

    stored = {line_key(line.external_line_id, line.sku): line.pk for line in order.lines.all()}
    units = []
    for item in record.lines:
        line_id = stored.get(line_key(item.external_line_id, item.sku))
        if line_id is None:
            continue
        for n in range(max(len(item.imeis), len(item.serial_numbers))):
            imei = item.imeis[n] if n < len(item.imeis) else ""
            serial = item.serial_numbers[n] if n < len(item.serial_numbers) else ""
            units.append(ShippedUnit(line_id, imei, serial))
    actor = Actor.connector(store_id=store.pk, platform=store.platform)
    units_register_shipped(order_id=order.pk, units=units, actor=actor)


def _differs(current: Any, new: Any) -> bool:
    """Whether a stored value and a platform's value differ: amounts by value (25 == 25.00),
    instants by instant (whatever their offsets), the rest as text (a country object vs its code)."""
    if current is None or new is None:
        return current != new
    if isinstance(new, Decimal | int | float) and not isinstance(new, bool):
        try:
            return Decimal(str(current)) != Decimal(str(new))
        except InvalidOperation:
            return True
    if isinstance(new, datetime) and isinstance(current, datetime):
        return current != new
    return str(current) != str(new)


def line_key(external_line_id: str, sku: str) -> str:
    """How an order line is matched between a record and the stored lines: the platform's line id,
    else the SKU."""
    return external_line_id or f"sku:{sku}"


def line_values(record: OrderRecord, item: OrderLineRecord, products: dict[str, int]) -> dict[str, Any]:
    """The stored values of an order line record (OrderLine's fields by name): the one definition the
    record-by-record path (_sync_lines) and the page path (apply_many) write."""
    return {
        "sku": item.sku[:80],
        "title": item.title[:300],
        "quantity": item.quantity,
        "unit_price_amount": item.unit_price,
        "currency": (item.currency or record.currency)[:3],
        "external_line_id": item.external_line_id[:120],
        "product_id": products.get(item.sku),
    }


def _sync_lines(store: Store, order: Order, record: OrderRecord, *, new: bool = False) -> bool:
    """Lines by the platform's line id (else by SKU); returns whether anything changed. `new`: the
    order was created just now (it has no lines to read)."""
    if not record.lines:
        return False
    existing = {} if new else {line_key(line.external_line_id, line.sku): line for line in order.lines.all()}
    skus = {line.sku for line in record.lines}
    products = dict(
        Product.objects.filter(organization_id=store.organization_id, sku__in=skus).values_list("sku", "pk")
    )
    changed = False
    seen = set()
    new_rows = []
    for item in record.lines:
        if item.quantity < 0:
            raise MappingError("a line quantity cannot be negative", field="quantity")
        key = line_key(item.external_line_id, item.sku)
        seen.add(key)
        values = line_values(record, item, products)
        line = existing.get(key)
        if line is None:
            new_rows.append(OrderLine(order=order, **values))
            continue
        diff = [name for name, value in values.items() if _differs(getattr(line, name), value)]
        if diff:
            for name in diff:
                setattr(line, name, values[name])
            line.save(update_fields=diff)
            changed = True
    if new_rows:
        OrderLine.objects.bulk_create(new_rows)
        changed = True
    gone = [line.pk for key, line in existing.items() if key not in seen]
    if gone:
        order_lines_drop(gone)
        changed = True
    return changed


def order_lines_drop(pks: list[int]) -> None:
    """Delete the order lines the platform no longer lists, except those an RMA or a refund names:
    what was returned or refunded stays on record (deleting it is refused by their PROTECT keys,
    which quarantined the whole order version). The one definition for both ingestion paths."""
    OrderLine.objects.filter(pk__in=pks, rma_lines__isnull=True, refund_lines__isnull=True).delete()


def shipment_values(item: ShipmentRecord) -> dict[str, Any]:
    """The stored values of a shipment record besides its tracking number (Shipment's fields by
    name): the one definition _sync_shipments and the page path (apply_many) write. On an update only
    the values the record carries replace stored ones (a tracking provider may know more)."""
    return {
        "carrier": item.carrier[:80],
        "status": item.status[:40],
        "shipped_at": item.shipped_at,
        "delivered_at": item.delivered_at,
    }


def _sync_shipments(order: Order, record: OrderRecord, *, new: bool = False) -> bool:
    """Shipments by tracking number; returns whether anything changed. `new`: the order was created
    just now (it has no shipments to read)."""
    if not record.shipments:
        return False
    changed = False
    existing = {} if new else {s.tracking_number: s for s in order.shipments.all()}
    created: dict[str, Shipment] = {}
    for item in record.shipments:
        values = shipment_values(item)
        shipment = existing.get(item.tracking_number)
        if shipment is None:
            number = item.tracking_number[:80]
            shipment = Shipment(order=order, tracking_number=number, **values)
            existing[item.tracking_number] = created[number] = shipment
            continue
        # What a tracking provider said later (status, delivery) is not undone by an order payload
        # that knows less: only values the payload carries replace stored ones.
        diff = [name for name, value in values.items() if value and _differs(getattr(shipment, name), value)]
        if diff:
            for name in diff:
                setattr(shipment, name, values[name])
            if shipment.pk is not None:
                shipment.save(update_fields=[*diff, "updated_at"])
            changed = True
    if created:
        Shipment.objects.bulk_create(list(created.values()))
        changed = True
    return changed


# --- returns ------------------------------------------------------------------------------------


def return_data(record: ReturnRecord) -> ReturnRequestData:
    """The returns app's ReturnRequestData of a record, checked (the record path and the page path,
    channels.returns_many)."""
    if not record.external_id or len(record.external_id) > 120:
        raise MappingError("a return needs an id of at most 120 characters", field="external_id")
    buyer = record.buyer
    return ReturnRequestData(
        external_id=record.external_id,
        kind=str(record.kind),
        status=record.status,
        created_at=record.created_at,
        order_external_id=record.order_external_id,
        buyer_external_id=buyer.external_id if buyer else "",
        buyer_name=buyer.name if buyer else "",
        buyer_email=buyer.email if buyer else "",
        buyer_country=buyer.country if buyer else "",
        buyer_language=buyer.language if buyer else "",
        reason=record.reason,
        buyer_comment=record.buyer_comment,
        requested_amount=record.requested_amount,
        currency=record.currency,
        respond_by=record.respond_by,
        updated_at=record.updated_at,
        lines=[ReturnLineData(x.sku, x.quantity, x.external_line_id, x.reason) for x in record.lines],
        platform_state=str(record.state),
    )


def apply_return(store: Store, record: ReturnRecord) -> Applied:
    data = return_data(record)
    result = return_request_upsert(store=store, data=data, actor=connector_actor(store))
    if record.label_available:  # the platform issued a label: fetched once for an approved RMA without one
        from aftersales.returns.rma_subscribers import fetch_platform_label_when_issued

        fetch_platform_label_when_issued(return_request_id=result.return_request.pk)
    action = result.action
    if action == "created":
        action = "new_ticket" if result.ticket_created else "thread"
    return Applied(action, ticket_id=result.ticket_id, message_id=result.message_id)


# --- tracking -----------------------------------------------------------------------------------


def apply_tracking(store: Store, record: TrackingRecord) -> Applied:
    """Shipments of the organization with this tracking number get the record through the tracking
    app's one writer (tracking_apply: events deduplicated on (shipment, at, status) under the
    shipment's lock, a status never moved back by older data, ShipmentStatusChanged published)."""
    shipment_ids = list(
        Shipment.objects.filter(
            order__organization_id=store.organization_id, tracking_number=record.tracking_number
        ).values_list("pk", flat=True)
    )
    if not shipment_ids:
        return Applied("ignored", reason="no shipment with this tracking number")
    changed = False
    for shipment_id in shipment_ids:
        result = tracking_apply(shipment_id=shipment_id, record=record, provider=store.platform)
        changed = changed or result.events_created > 0 or result.status_changed
    return Applied("updated" if changed else "unchanged")


# --- bounces ------------------------------------------------------------------------------------


def apply_delivery_failure(store: Store, record: DeliveryFailureRecord) -> Applied:
    message = message_mark_bounced(
        organization_id=store.organization_id,
        original_message_ids=list(record.original_message_ids),
        reason=record.reason,
        actor=connector_actor(store),
    )
    if message is None:
        return Applied("bounce", reason="no reply of ours matches the bounce")
    return Applied("bounce", reason=record.reason, ticket_id=message.ticket_id, message_id=message.pk)


def apply_delivery_receipt(store: Store, record: DeliveryReceiptRecord) -> Applied:
    """A delivered/read status: "updated" when it moved the reply forwards, else "unchanged" (a replay,
    a late status, or a status of a message we did not send from here)."""
    message = message_record_receipt(
        store_id=store.pk,
        external_id=record.external_id,
        conversation_id=record.conversation_id,
        receipt=record.receipt,
        at=record.at,
    )
    if message is None:
        return Applied("unchanged", reason=f"{record.receipt}: nothing to move forwards")
    return Applied("updated", reason=record.receipt, ticket_id=message.ticket_id, message_id=message.pk)


__all__ = [
    "Applied",
    "ValidationFailed",
    "applied_of_ingest",
    "apply_record",
    "inbound_from_record",
    "order_values",
    "target_store",
]
