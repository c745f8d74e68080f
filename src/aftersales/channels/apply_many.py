"""A page's order records at once: what `apply.apply_order` does for each, in order, with one query
per kind for the page instead of several per record (issue 9's sync engine applies pages of 200).

`orders_apply_many(store, records)` returns, per record and in order, the `Applied` that
`apply_order` would have returned for it at that point of the sequence; the database ends up as after
calling `apply_order` once per record in that order (the sync engine's parity test compares the two).
It raises on the first record `apply_order` would refuse (a MappingError): the sync engine then
applies the page again record by record, which quarantines that record alone.

1. reads: the page's orders (locked, in id order), their lines and shipments only when the page's
   records carry some, the products of the page's SKUs;
2. the "older version" rule and the customers: the buyers of the records that are not older versions
   resolved in order by the inbox's customers_resolve_many (identity, else e-mail, else new);
3. the records applied in order in memory (apply.order_values is the one definition of an order's
   stored values; lines by platform line id else SKU, shipments by tracking number, the same
   change detection as apply._differs);
4. writes: new orders, lines and shipments with one INSERT each, changed rows with one executemany
   per set of changed columns, removed lines with one DELETE.

A record whose shipped units go to the warranty registry (a shipment and IMEIs or serial numbers)
is not taken here: the caller applies it with apply_order in its place (`batchable`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

from aftersales.catalog.history import order_status_changes_record
from aftersales.catalog.models import Order, OrderLine, Product, Shipment, Store
from aftersales.core import inserts
from aftersales.core import lookups as _lookups  # noqa: F401  (registers `__any_of`)
from aftersales.core.inserts import insert_rows
from aftersales.core.reads import select_rows
from aftersales.inbox.services import InboundMessage
from aftersales.inbox.services.ingest_many import PageCustomers, customers_resolve_many

from .apply import Applied, _differs, line_key, line_values, order_lines_drop, order_values, shipment_values
from .base import MappingError, OrderRecord


def batchable(record: OrderRecord) -> bool:
    """Whether orders_apply_many takes this record (else apply_order, in its place)."""
    return not (record.shipments and any(line.imeis or line.serial_numbers for line in record.lines))


class _State:
    """One order of the page as the records leave it: the row (stored or new), its lines and
    shipments in id order (stored first, then new ones), what changed in the stored rows."""

    def __init__(self, order: Order) -> None:
        self.order = order
        self.lines: list[OrderLine] = []
        self.shipments: list[Shipment] = []
        self.dirty: set[str] = set()  # of the stored order


def orders_apply_many(
    store: Store, records: list[OrderRecord], customers: PageCustomers | None = None
) -> list[Applied]:
    """apply_order for each record, in order, page-wise (see the module docstring). The caller holds
    the transaction. `customers`: the page's customers as earlier calls left them (the inbox's
    PageCustomers, kept by the sync engine's clean pass), else read here."""
    for record in records:
        if len(record.external_id) > 120 or not record.external_id:
            raise MappingError("an order needs an id of at most 120 characters", field="external_id")
        if any(item.quantity < 0 for item in record.lines):
            raise MappingError("a line quantity cannot be negative", field="quantity")
    external_ids = sorted({r.external_id for r in records})
    states: dict[str, _State] = {
        o.external_id: _State(o) for o in select_rows("apply_many.orders", _orders_locked, store.pk, external_ids)
    }
    stored_ids = {s.order.pk: s for s in states.values()}
    with_lines = sorted({states[r.external_id].order.pk for r in records if r.lines and r.external_id in states})
    for line in select_rows("apply_many.lines", _order_lines, with_lines):
        stored_ids[line.order_id].lines.append(line)
    with_shipments = sorted(
        {states[r.external_id].order.pk for r in records if r.shipments and r.external_id in states}
    )
    for shipment in select_rows("apply_many.shipments", _order_shipments, with_shipments):
        stored_ids[shipment.order_id].shipments.append(shipment)
    skus = sorted({line.sku for r in records for line in r.lines})
    products = dict(select_rows("apply_many.products", _products, store.organization_id, skus))

    # The "older version" rule decides which records touch their buyer (apply_order resolves the
    # customer after it): it depends only on the platform_updated_at each record leaves.
    latest = {ext: s.order.platform_updated_at for ext, s in states.items()}
    older: list[bool] = []
    for record in records:
        before = latest.get(record.external_id)
        is_older = record.updated_at is not None and before is not None and record.updated_at < before
        older.append(is_older)
        if not is_older:
            value = order_values(store, record).get("platform_updated_at")
            if record.external_id not in latest or value is not None:
                latest[record.external_id] = value if value is not None else before
    buyers = [(i, r) for i, r in enumerate(records) if not older[i] and r.buyer is not None and r.buyer.external_id]
    resolved = customers_resolve_many(inbounds=[_buyer_inbound(store, r) for _i, r in buyers], customers=customers)
    customer_of = {i: c for (i, _r), c in zip(buyers, resolved, strict=True)}

    results: list[Applied] = []
    new_orders: list[Order] = []
    new_lines: list[OrderLine] = []
    new_shipments: list[Shipment] = []
    dirty_lines: dict[int, tuple[OrderLine, set[str]]] = {}
    dirty_shipments: dict[int, tuple[Shipment, set[str]]] = {}
    gone_lines: list[int] = []
    status_changes: list[tuple[Order, str, str, Any]] = []  # catalog.history, once the orders have ids
    for i, record in enumerate(records):
        if older[i]:
            results.append(Applied("unchanged", reason="older version"))
            continue
        customer = customer_of.get(i)
        values = order_values(store, record)
        state = states.get(record.external_id)
        if state is None:
            order = Order(
                organization_id=store.organization_id,
                store=store,
                external_id=record.external_id,
                customer=customer,
                **values,
            )
            state = states[record.external_id] = _State(order)
            new_orders.append(order)
            _lines(store, state, record, products, new_lines, dirty_lines, gone_lines)
            _shipments(state, record, new_shipments, dirty_shipments)
            results.append(Applied("created"))
            continue
        order = state.order
        changed = [
            name for name, value in values.items() if value is not None and _differs(getattr(order, name), value)
        ]
        if customer is not None and order.customer_id is None:
            order.customer = customer
            changed.append("customer")
        if "status" in changed:
            status_changes.append((order, order.status, values["status"], record.updated_at))
        for name in changed:
            if name != "customer":
                setattr(order, name, values[name])
        lines_changed = _lines(store, state, record, products, new_lines, dirty_lines, gone_lines)
        shipments_changed = _shipments(state, record, new_shipments, dirty_shipments)
        if changed and order.pk is not None:
            state.dirty.update(changed)
        if changed or lines_changed or shipments_changed:
            results.append(Applied("updated"))
        else:
            results.append(Applied("unchanged"))

    insert_rows(new_orders)
    order_status_changes_record([(o.pk, old, new, at) for o, old, new, at in status_changes])
    update_rows([(s.order, [*sorted(s.dirty), "updated_at"]) for s in states.values() if s.dirty])
    if gone_lines:
        order_lines_drop(gone_lines)
    insert_rows(new_lines)
    update_rows([(line, sorted(fields)) for line, fields in dirty_lines.values()])
    insert_rows(new_shipments)
    update_rows([(shipment, [*sorted(fields), "updated_at"]) for shipment, fields in dirty_shipments.values()])
    return results


# The page's reads (core/reads.py: built once, run with each page's values).
def _orders_locked(store_id: int, external_ids: list[str]) -> models.QuerySet[Order]:
    return Order.objects.select_for_update().filter(store_id=store_id, external_id__any_of=external_ids).order_by("pk")


def _order_lines(order_ids: list[int]) -> models.QuerySet[OrderLine]:
    return OrderLine.objects.filter(order_id__any_of=order_ids).order_by("pk")


def _order_shipments(order_ids: list[int]) -> models.QuerySet[Shipment]:
    return Shipment.objects.filter(order_id__any_of=order_ids).order_by("pk")


def _products(organization_id: int, skus: list[str]) -> models.QuerySet[Any]:
    return Product.objects.filter(organization_id=organization_id, sku__any_of=skus).values_list("sku", "pk")


def _buyer_inbound(store: Store, record: OrderRecord) -> InboundMessage:
    """The buyer as apply._customer_for hands it to the inbox's customer resolution."""
    buyer = record.buyer
    assert buyer is not None
    return InboundMessage(
        store=store,
        external_id="",
        body="",
        customer_external_id=buyer.external_id,
        customer_name=buyer.name,
        customer_email=buyer.email,
        customer_country=buyer.country,
        customer_language=buyer.language,
    )


def _lines(
    store: Store,
    state: _State,
    record: OrderRecord,
    products: dict[str, int],
    new_lines: list[OrderLine],
    dirty: dict[int, tuple[OrderLine, set[str]]],
    gone: list[int],
) -> bool:
    """apply._sync_lines on the page's state of the order."""
    if not record.lines:
        return False
    existing = {line_key(line.external_line_id, line.sku): line for line in state.lines}
    changed = False
    seen = set()
    created = []
    for item in record.lines:
        key = line_key(item.external_line_id, item.sku)
        seen.add(key)
        values = line_values(record, item, products)
        line = existing.get(key)
        if line is None:
            created.append(OrderLine(order=state.order, **values))
            continue
        diff = [name for name, value in values.items() if _differs(getattr(line, name), value)]
        if diff:
            for name in diff:
                setattr(line, name, values[name])
            if line.pk is not None:
                dirty.setdefault(line.pk, (line, set()))[1].update(diff)
            changed = True
    removed = [line for key, line in existing.items() if key not in seen]
    for line in removed:
        state.lines.remove(line)
        if line.pk is not None:
            gone.append(line.pk)
            dirty.pop(line.pk, None)
        else:
            new_lines.remove(line)
        changed = True
    if created:
        state.lines += created
        new_lines += created
        changed = True
    return changed


def _shipments(
    state: _State,
    record: OrderRecord,
    new_shipments: list[Shipment],
    dirty: dict[int, tuple[Shipment, set[str]]],
) -> bool:
    """apply._sync_shipments on the page's state of the order."""
    if not record.shipments:
        return False
    changed = False
    existing: dict[str, Shipment] = {s.tracking_number: s for s in state.shipments}
    created: dict[str, Shipment] = {}
    for item in record.shipments:
        values = shipment_values(item)
        shipment = existing.get(item.tracking_number)
        if shipment is None:
            number = item.tracking_number[:80]
            shipment = Shipment(order=state.order, tracking_number=number, **values)
            existing[item.tracking_number] = created[number] = shipment
            continue
        diff = [name for name, value in values.items() if value and _differs(getattr(shipment, name), value)]
        if diff:
            for name in diff:
                setattr(shipment, name, values[name])
            if shipment.pk is not None:
                dirty.setdefault(shipment.pk, (shipment, set()))[1].update(diff)
            changed = True
    if created:
        state.shipments += list(created.values())
        new_shipments += list(created.values())
        changed = True
    return changed


def update_rows(rows: Sequence[tuple[models.Model, Sequence[str]]]) -> None:
    """What `row.save(update_fields=fields)` writes for each row, one core.inserts.update_rows per model
    and set of columns (one statement on PostgreSQL, an executemany elsewhere; auto_now columns get their
    new value as save() gives them)."""
    groups: dict[tuple[type[models.Model], tuple[str, ...]], list[models.Model]] = defaultdict(list)
    for row, fields in rows:
        groups[(type(row), tuple(fields))].append(row)
    for (model, names), objs in groups.items():
        columns: list[Any] = [model._meta.get_field(name) for name in names]
        params: list[list[Any]] = []
        for obj in objs:
            values = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in columns]
            params.append([*values, obj.pk])
        inserts.update_rows(model, columns, params)
