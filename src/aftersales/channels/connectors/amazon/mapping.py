"""Pure mapping: Amazon SP-API payloads -> the connector contract's records.

Orders come from the Orders API 2026-01-01 (`Order` of searchOrders / getOrder, with
includedData BUYER, RECIPIENT, PROCEEDS, FULFILLMENT, PACKAGES): the order's items are inside
the order (`orderItems`), so one payload maps to one OrderRecord with its lines and shipments.

Returns come from the flat-file report GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE (tab-separated,
one row per returned item); the connector groups the rows of one Amazon RMA into one payload
`{"report_id": ..., "rows": [{column: value}, ...]}` before they are stored raw.

Nothing here does I/O. A payload that cannot be mapped raises MappingError naming the field as
Amazon spells it (the engine quarantines that one record)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aftersales.channels.base import (
    Buyer,
    MappingError,
    OrderLineRecord,
    OrderRecord,
    ReturnKind,
    ReturnLineRecord,
    ReturnRecord,
    ReturnState,
    ShipAddress,
    ShipmentRecord,
)

# Orders API 2026-01-01, definitions/FulfillmentStatus -> catalog.models.OrderStatus values.
# UNFULFILLABLE has no counterpart: it is kept as Amazon's word (the column is free text).
FULFILLMENT_STATUS = {
    "PENDING_AVAILABILITY": "pending",
    "PENDING": "pending",
    "UNSHIPPED": "unshipped",
    "PARTIALLY_SHIPPED": "partially_shipped",
    "SHIPPED": "shipped",
    "CANCELLED": "cancelled",
    "UNFULFILLABLE": "unfulfillable",
}

# definitions/PackageStatus.status -> catalog.models.ShipmentStatus values.
PACKAGE_STATUS = {
    "PENDING": "pending",
    "IN_TRANSIT": "in_transit",
    "SHIPPED": "picked_up",  # handed to the carrier
    "DELIVERED": "delivered",
    "CANCELLED": "cancelled",
    "UNDELIVERABLE": "exception",
}

# The columns of GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE this mapping reads.
COL_ORDER_ID = "Order ID"
COL_REQUEST_DATE = "Return request date"
COL_STATUS = "Return request status"
COL_RMA = "Amazon RMA ID"
COL_SELLER_RMA = "Seller RMA ID"
COL_CURRENCY = "Currency code"
COL_A_TO_Z = "A-to-z claim"
COL_SKU = "Merchant SKU"
COL_QUANTITY = "Return quantity"
COL_REASON = "Return reason"
COL_REFUNDED = "Refunded Amount"
COL_RETURN_TYPE = "Return type"
# The returns report's "Return request status" in the one vocabulary (channels.base.ReturnState),
# matched without case. Amazon closes a return when it is done or when the buyer never sent it:
# `closed`. A word not listed is `unknown` (the report keeps it as sent).
RETURN_STATE_OF: dict[str, ReturnState] = {
    "pending": ReturnState.OPEN,
    "pendingapproval": ReturnState.OPEN,
    "requested": ReturnState.OPEN,
    "approved": ReturnState.WAITING_BUYER,
    "authorized": ReturnState.WAITING_BUYER,
    "rejected": ReturnState.REJECTED,
    "denied": ReturnState.REJECTED,
    "cancelled": ReturnState.CANCELLED,
    "canceled": ReturnState.CANCELLED,
    "closed": ReturnState.CLOSED,
    "completed": ReturnState.COMPLETED,
    "refunded": ReturnState.COMPLETED,
}


# --- small parsers, each naming the field it reads ----------------------------------------------


def _get(payload: Mapping[str, Any], path: str, *, required: bool = True) -> Any:
    """`payload["a"]["b"]` for path "a.b"; MappingError naming the path when required and absent."""
    node: Any = payload
    for part in path.split("."):
        if not isinstance(node, Mapping) or node.get(part) in (None, ""):
            if required:
                raise MappingError(f"{path} is missing", field=path)
            return None
        node = node[part]
    return node


def parse_instant(value: Any, field: str) -> datetime:
    """ISO 8601 with an offset or Z (what SP-API sends); a naive value is read as UTC."""
    if not isinstance(value, str) or not value:
        raise MappingError(f"{field} is not a date-time: {value!r}", field=field)
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MappingError(f"{field} is not an ISO 8601 date-time: {value!r}", field=field) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_report_date(value: Any, field: str) -> datetime:
    """The returns report writes dates as 14-Dec-2020 (older files: 2020-12-14 or a full ISO
    date-time); a day is taken as midnight UTC."""
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{field} is missing", field=field)
    text = value.strip()
    for fmt in ("%d-%b-%Y", "%Y-%m-%d"):
        try:
            day = datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a calendar day, made aware below)
        except ValueError:
            continue
        return datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    return parse_instant(text, field)


def parse_amount(value: Any, field: str) -> Decimal:
    """SP-API 2026-01-01 Money.amount is a decimal string; finances v0 amounts are numbers."""
    if isinstance(value, bool) or value is None:
        raise MappingError(f"{field} is not an amount: {value!r}", field=field)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise MappingError(f"{field} is not an amount: {value!r}", field=field) from exc
    if not amount.is_finite():
        raise MappingError(f"{field} is not an amount: {value!r}", field=field)
    return amount


def parse_quantity(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise MappingError(f"{field} is not a quantity: {value!r}", field=field)
    if isinstance(value, int):
        quantity = value
    elif isinstance(value, str) and value.strip().isdigit():
        quantity = int(value.strip())
    else:
        raise MappingError(f"{field} is not a quantity: {value!r}", field=field)
    if quantity < 0:
        raise MappingError(f"{field} is negative: {value!r}", field=field)
    return quantity


def _money(payload: Mapping[str, Any], relative: str, prefix: str = "") -> tuple[Decimal, str] | None:
    money = _get(payload, relative, required=False)
    if money is None:
        return None
    path = f"{prefix}.{relative}" if prefix else relative
    if not isinstance(money, Mapping):
        raise MappingError(f"{path} is not a Money object", field=path)
    amount = parse_amount(money.get("amount"), f"{path}.amount")
    currency = money.get("currencyCode")
    if not isinstance(currency, str) or len(currency) != 3:
        raise MappingError(f"{path}.currencyCode is not a currency: {currency!r}", field=f"{path}.currencyCode")
    return amount, currency.upper()


# --- orders ---------------------------------------------------------------------------------------


def order_event_id(order: Mapping[str, Any]) -> str:
    """One stored version per (orderId, lastUpdatedTime): a re-delivered page is a no-op."""
    return f"{order.get('orderId', '')}:{order.get('lastUpdatedTime', '')}"


def map_order(order: Mapping[str, Any], *, default_currency: str) -> OrderRecord:
    if not isinstance(order, Mapping):
        raise MappingError("the order is not a JSON object", field="order")
    order_id = _get(order, "orderId")
    if not isinstance(order_id, str):
        raise MappingError(f"orderId is not a string: {order_id!r}", field="orderId")
    placed_at = parse_instant(_get(order, "createdTime"), "createdTime")
    updated_at = parse_instant(_get(order, "lastUpdatedTime"), "lastUpdatedTime")

    raw_status = _get(order, "fulfillment.fulfillmentStatus")
    if raw_status not in FULFILLMENT_STATUS:
        raise MappingError(
            f"fulfillment.fulfillmentStatus has an unknown value {raw_status!r}", field="fulfillment.fulfillmentStatus"
        )

    items = order.get("orderItems")
    if not isinstance(items, list):
        raise MappingError("orderItems is missing or not a list", field="orderItems")
    lines = [_map_item(item, index, default_currency) for index, item in enumerate(items)]

    grand_total = _money(order, "proceeds.grandTotal")
    if grand_total is not None:
        total, currency = grand_total
    else:  # pending orders carry no proceeds yet: the items' prices
        currency = lines[0].currency if lines else default_currency
        total = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))

    address = (
        order.get("recipient", {}).get("deliveryAddress", {}) if isinstance(order.get("recipient"), Mapping) else {}
    )
    country = str(address.get("countryCode") or "").upper() if isinstance(address, Mapping) else ""
    # Street lines come only with a Restricted Data Token (PII); without one the address has city,
    # postal code and country at most: no ShipAddress (no fingerprint) then.
    ship_address = (
        ShipAddress.of(
            country=country,
            postal_code=address.get("postalCode"),
            lines=(address.get(f"addressLine{n}") for n in (1, 2, 3)),
            city=address.get("city"),
        )
        if isinstance(address, Mapping)
        else None
    )

    return OrderRecord(
        external_id=order_id,
        placed_at=placed_at,
        updated_at=updated_at,
        status=FULFILLMENT_STATUS[raw_status],
        total=total,
        currency=currency,
        buyer=_map_buyer(order, country),
        ship_country=country,
        lines=lines,
        shipments=_map_packages(order),
        ship_address=ship_address,
    )


def _map_buyer(order: Mapping[str, Any], country: str) -> Buyer | None:
    """Orders 2026-01-01 has no buyer id: the buyer's relay address (…@marketplace.amazon.*) is
    the stable identity of a buyer on the store, the one their messages come from by e-mail."""
    buyer = order.get("buyer")
    if buyer is None:
        return None
    if not isinstance(buyer, Mapping):
        raise MappingError("buyer is not an object", field="buyer")
    email = str(buyer.get("buyerEmail") or "").strip()
    name = str(buyer.get("buyerName") or "").strip()
    if not email and not name:
        return None
    return Buyer(external_id=email.lower() or f"name:{name}", name=name, email=email, country=country)


def _map_item(item: Any, index: int, default_currency: str) -> OrderLineRecord:
    prefix = f"orderItems[{index}]"
    if not isinstance(item, Mapping):
        raise MappingError(f"{prefix} is not an object", field=prefix)
    item_id = _get(item, "orderItemId", required=False)
    if not isinstance(item_id, str) or not item_id:
        raise MappingError(f"{prefix}.orderItemId is missing", field=f"{prefix}.orderItemId")
    if "quantityOrdered" not in item:
        raise MappingError(f"{prefix}.quantityOrdered is missing", field=f"{prefix}.quantityOrdered")
    quantity = parse_quantity(item["quantityOrdered"], f"{prefix}.quantityOrdered")
    product = item.get("product")
    if not isinstance(product, Mapping):
        raise MappingError(f"{prefix}.product is missing", field=f"{prefix}.product")
    sku = str(product.get("sellerSku") or product.get("asin") or "")
    if not sku:
        raise MappingError(f"{prefix}.product.sellerSku is missing", field=f"{prefix}.product.sellerSku")
    price = _money(product, "price.unitPrice", f"{prefix}.product")
    unit_price, currency = price if price is not None else (Decimal("0"), default_currency)
    # ItemProduct.serialNumbers: the shipped units' serial numbers ("typically provided for FBA
    # orders"); Amazon gives no separate IMEI field. Registered in the warranty registry once shipped.
    serials = product.get("serialNumbers") or []
    if not isinstance(serials, list) or not all(isinstance(v, str) for v in serials):
        raise MappingError(
            f"{prefix}.product.serialNumbers is not a list of strings", field=f"{prefix}.product.serialNumbers"
        )
    return OrderLineRecord(
        external_line_id=item_id,
        sku=sku,
        quantity=quantity,
        unit_price=unit_price,
        currency=currency,
        title=str(product.get("title") or ""),
        serial_numbers=tuple(v.strip() for v in serials if v.strip()),
    )


def _map_packages(order: Mapping[str, Any]) -> list[ShipmentRecord]:
    packages = order.get("packages") or []
    if not isinstance(packages, list):
        raise MappingError("packages is not a list", field="packages")
    shipments = []
    for index, package in enumerate(packages):
        prefix = f"packages[{index}]"
        if not isinstance(package, Mapping):
            raise MappingError(f"{prefix} is not an object", field=prefix)
        status = ""
        if package.get("packageStatus") is not None:
            raw = _get(package, "packageStatus.status", required=False)
            if raw not in PACKAGE_STATUS:
                raise MappingError(
                    f"{prefix}.packageStatus.status has an unknown value {raw!r}",
                    field=f"{prefix}.packageStatus.status",
                )
            status = PACKAGE_STATUS[raw]
        tracking = str(package.get("trackingNumber") or "").strip()
        if not tracking:  # a package not yet handed to a carrier: nothing to track
            continue
        shipped_at = parse_instant(package["shipTime"], f"{prefix}.shipTime") if package.get("shipTime") else None
        shipments.append(
            ShipmentRecord(
                carrier=str(package.get("carrier") or ""),
                tracking_number=tracking,
                status=status,
                shipped_at=shipped_at,
            )
        )
    return shipments


# --- returns (flat-file report) ------------------------------------------------------------------


def parse_returns_report(text: str) -> list[dict[str, str]]:
    """The report's rows as {column: value}. The first line holds the column names; a row with
    more or fewer cells than columns is kept as it is (mapping names what is missing)."""
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines:
        return []
    header = [name.strip().lstrip("\ufeff") for name in lines[0].split("\t")]
    rows = []
    for line in lines[1:]:
        cells = line.split("\t")
        rows.append({name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)})
    return rows


def return_external_id(row: Mapping[str, str]) -> str:
    """The Amazon RMA id; a row without one (a return Amazon authorised without an RMA, rare)
    is keyed by its order, SKU and request date."""
    rma = (row.get(COL_RMA) or "").strip()
    if rma:
        return rma
    return f"{row.get(COL_ORDER_ID, '')}:{row.get(COL_SKU, '')}:{row.get(COL_REQUEST_DATE, '')}"


def group_return_rows(rows: Sequence[Mapping[str, str]]) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        grouped.setdefault(return_external_id(row), []).append(dict(row))
    return grouped


def return_event_id(external_id: str, rows: Sequence[Mapping[str, str]]) -> str:
    """The report has no last-updated time: a version is its content (a status change is a new
    version, the same rows in the next report are a no-op)."""
    digest = hashlib.sha256(json.dumps(list(rows), sort_keys=True).encode()).hexdigest()[:16]
    return f"return:{external_id}:{digest}"


def map_return(payload: Mapping[str, Any]) -> ReturnRecord:
    rows = payload.get("rows") if isinstance(payload, Mapping) else None
    if not isinstance(rows, list) or not rows or not all(isinstance(row, Mapping) for row in rows):
        raise MappingError("the return has no report rows", field="rows")
    first = rows[0]
    order_id = (first.get(COL_ORDER_ID) or "").strip()
    if not order_id:
        raise MappingError(f"{COL_ORDER_ID} is missing", field=COL_ORDER_ID)
    status = (first.get(COL_STATUS) or "").strip()
    if not status:
        raise MappingError(f"{COL_STATUS} is missing", field=COL_STATUS)
    created_at = parse_report_date(first.get(COL_REQUEST_DATE), COL_REQUEST_DATE)
    a_to_z = (first.get(COL_A_TO_Z) or "").strip().upper()
    if a_to_z not in ("", "Y", "N", "YES", "NO", "TRUE", "FALSE"):
        raise MappingError(f"{COL_A_TO_Z} has an unknown value {a_to_z!r}", field=COL_A_TO_Z)

    lines = []
    refunded = Decimal("0")
    any_refund = False
    for row in rows:
        sku = (row.get(COL_SKU) or "").strip()
        if not sku:
            raise MappingError(f"{COL_SKU} is missing", field=COL_SKU)
        quantity = parse_quantity(row.get(COL_QUANTITY), COL_QUANTITY)
        if (row.get(COL_REFUNDED) or "").strip():
            refunded += parse_amount(row[COL_REFUNDED], COL_REFUNDED)
            any_refund = True
        lines.append(ReturnLineRecord(sku=sku, quantity=quantity, reason=(row.get(COL_REASON) or "").strip()))

    return ReturnRecord(
        external_id=return_external_id(first),
        kind=ReturnKind.CASE if a_to_z in ("Y", "YES", "TRUE") else ReturnKind.RETURN,
        status=status,
        state=return_state(status),
        created_at=created_at,
        order_external_id=order_id,
        reason=(first.get(COL_REASON) or "").strip(),
        requested_amount=refunded if any_refund else None,
        currency=(first.get(COL_CURRENCY) or "").strip().upper(),
        lines=lines,
    )


# --- finances (refund reconciliation) ------------------------------------------------------------


def refunded_by_item(financial_events: Mapping[str, Any]) -> dict[str, Decimal]:
    """Finances v0 RefundEventList of one order -> {OrderItemId: refunded amount (positive)},
    the sum of each item's ItemChargeAdjustmentList (refunds are negative charges there)."""
    events = financial_events.get("RefundEventList") or []
    totals: dict[str, Decimal] = {}
    for event_index, event in enumerate(events):
        for item_index, item in enumerate(event.get("ShipmentItemAdjustmentList") or []):
            item_id = item.get("OrderItemId")
            if not item_id:
                raise MappingError(
                    "OrderItemId is missing",
                    field=f"RefundEventList[{event_index}].ShipmentItemAdjustmentList[{item_index}].OrderItemId",
                )
            for charge in item.get("ItemChargeAdjustmentList") or []:
                amount = (charge.get("ChargeAmount") or {}).get("CurrencyAmount")
                totals[item_id] = totals.get(item_id, Decimal("0")) - parse_amount(
                    amount, "ChargeAmount.CurrencyAmount"
                )
    return totals


def isoformat(moment: datetime | date) -> str:
    """SP-API's ISO 8601 form, in UTC with Z."""
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat()


def return_state(status: str) -> ReturnState:
    """`status` in the one vocabulary (RETURN_STATE_OF; a word not there: unknown)."""
    return RETURN_STATE_OF.get(status.strip().lower().replace(" ", ""), ReturnState.UNKNOWN)
