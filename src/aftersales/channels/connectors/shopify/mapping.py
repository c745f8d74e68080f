"""Pure mapping: Shopify payloads -> our records. No I/O, no Django.

Two shapes arrive: GraphQL Admin API nodes (what the connector pulls, see operations.py) and the
REST-shaped JSON bodies of webhooks (orders/*, returns/*, refunds/create). Ids are kept as Shopify's
numeric ids (what the Shopify admin shows in its URLs; `gid()` turns them back into GraphQL ids
for write-backs). Anything missing, malformed or an enum value this code does not know raises
MappingError naming the field as Shopify spells it: the engine quarantines that one record."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aftersales.channels.base import (
    Buyer,
    IgnoredRecord,
    MappingError,
    OrderLineRecord,
    OrderRecord,
    Record,
    RefundReceipt,
    RefundState,
    ReturnKind,
    ReturnLineRecord,
    ReturnRecord,
    ReturnState,
    ShipAddress,
    ShipmentRecord,
)

_GID = re.compile(r"gid://shopify/(?P<kind>[A-Za-z]+)/(?P<id>\d+)(?:\?.*)?")

# Order statuses (catalog.models.OrderStatus values) from Shopify's financial / fulfillment status.
FINANCIAL_STATUSES = {
    "PENDING",
    "AUTHORIZED",
    "PARTIALLY_PAID",
    "PARTIALLY_REFUNDED",
    "VOIDED",
    "PAID",
    "REFUNDED",
    "EXPIRED",
}
FULFILLMENT_STATUSES = {
    "UNFULFILLED",
    "PARTIALLY_FULFILLED",
    "FULFILLED",
    "RESTOCKED",
    "PENDING_FULFILLMENT",
    "OPEN",
    "IN_PROGRESS",
    "ON_HOLD",
    "SCHEDULED",
    "REQUEST_DECLINED",
}
# Fulfillment.displayStatus (GraphQL) and fulfillment.shipment_status (REST, lower case) ->
# catalog.models.ShipmentStatus values.
SHIPMENT_STATUSES = {
    "ATTEMPTED_DELIVERY": "failed_attempt",
    "CANCELED": "exception",
    "CONFIRMED": "info_received",
    "DELAYED": "in_transit",
    "DELIVERED": "delivered",
    "FAILURE": "exception",
    "FULFILLED": "info_received",
    "IN_TRANSIT": "in_transit",
    "LABEL_PRINTED": "info_received",
    "LABEL_PURCHASED": "info_received",
    "LABEL_VOIDED": "exception",
    "MARKED_AS_FULFILLED": "info_received",
    "NOT_DELIVERED": "exception",
    "OUT_FOR_DELIVERY": "out_for_delivery",
    "READY_FOR_PICKUP": "arrived",
    "PICKED_UP": "delivered",
    "SUBMITTED": "info_received",
}
FULFILLMENT_STATES = {"PENDING", "OPEN", "SUCCESS", "CANCELLED", "ERROR", "FAILURE"}
RETURN_STATUSES = {"CANCELED", "CLOSED", "OPEN", "REQUESTED", "DECLINED"}
RETURN_REASONS = {
    "SIZE_TOO_SMALL",
    "SIZE_TOO_LARGE",
    "UNWANTED",
    "NOT_AS_DESCRIBED",
    "WRONG_ITEM",
    "DEFECTIVE",
    "STYLE",
    "COLOR",
    "OTHER",
    "UNKNOWN",
}
TRANSACTION_STATES = {"SUCCESS", "FAILURE", "PENDING", "ERROR", "AWAITING_RESPONSE", "UNKNOWN"}
# Each Return.status in the one vocabulary (channels.base.ReturnState). Shopify's CLOSED is "the
# return has been completed" (ReturnStatus in the Admin schema), CANCELED "has been canceled".
RETURN_STATE_OF: dict[str, ReturnState] = {
    "REQUESTED": ReturnState.OPEN,
    "OPEN": ReturnState.WAITING_BUYER,
    "DECLINED": ReturnState.REJECTED,
    "CANCELED": ReturnState.CANCELLED,
    "CLOSED": ReturnState.COMPLETED,
}

ORDER_TOPICS = {
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/paid",
    "orders/partially_fulfilled",
    "orders/edited",
}
RETURN_TOPICS = {
    "returns/request",
    "returns/approve",
    "returns/decline",
    "returns/cancel",
    "returns/close",
    "returns/reopen",
    "returns/update",
}
REFUND_TOPICS = {"refunds/create"}


# --- small typed readers ---------------------------------------------------------------------------


def gid(kind: str, legacy_id: str | int) -> str:
    """The GraphQL id of a numeric Shopify id: gid("Order", 450789469)."""
    return f"gid://shopify/{kind}/{legacy_id}"


def legacy_id(value: Any, field: str) -> str:
    """The numeric id of a GraphQL id ("gid://shopify/Order/1" -> "1") or of a REST id (1 -> "1")."""
    if isinstance(value, bool):
        raise MappingError(f"{field} is not a Shopify id: {value!r}", field=field)
    if isinstance(value, int) and value > 0:
        return str(value)
    if isinstance(value, str):
        if value.isdigit():
            return value
        match = _GID.fullmatch(value)
        if match:
            return match["id"]
    if value is None:
        raise MappingError(f"{field} is missing", field=field)
    raise MappingError(f"{field} is not a Shopify id: {value!r}", field=field)


def _obj(data: Any, field: str, *, required: bool = True) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        return data
    if data is None and not required:
        return {}
    raise MappingError(f"{field} is {'missing' if data is None else 'not an object'}", field=field)


def _list(data: Any, field: str) -> list[Any]:
    if data is None:
        return []
    if isinstance(data, list):
        return data
    raise MappingError(f"{field} is not a list", field=field)


def _text(data: Mapping[str, Any], key: str, field: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise MappingError(f"{field} is missing", field=field)
        return ""
    if not isinstance(value, str):
        raise MappingError(f"{field} is not a string: {value!r}", field=field)
    if required and not value.strip():
        raise MappingError(f"{field} is empty", field=field)
    return value


def _instant(data: Mapping[str, Any], key: str, field: str, *, required: bool = True) -> datetime | None:
    value = data.get(key)
    if value is None:
        if required:
            raise MappingError(f"{field} is missing", field=field)
        return None
    if not isinstance(value, str):
        raise MappingError(f"{field} is not a date-time: {value!r}", field=field)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(f"{field} is not a date-time: {value!r}", field=field) from None
    if parsed.tzinfo is None:
        raise MappingError(f"{field} has no time zone: {value!r}", field=field)
    return parsed


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise MappingError(f"{field} is {'missing' if value is None else 'not an amount'}", field=field)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise MappingError(f"{field} is not an amount: {value!r}", field=field) from None
    if not amount.is_finite():
        raise MappingError(f"{field} is not an amount: {value!r}", field=field)
    return amount


def _quantity(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MappingError(f"{field} is not a quantity: {value!r}", field=field)
    return value


def _currency(value: Any, field: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value):
        raise MappingError(f"{field} is not a currency code: {value!r}", field=field)
    return value


def _enum(value: Any, known: set[str] | Mapping[str, str], field: str, *, required: bool = True) -> str:
    """An enum value, upper-cased (REST webhooks send GraphQL's values in lower case)."""
    if value is None:
        if required:
            raise MappingError(f"{field} is missing", field=field)
        return ""
    if not isinstance(value, str) or value.upper() not in known:
        raise MappingError(f"{field} has an unknown value {value!r}", field=field)
    return value.upper()


def _money(bag: Any, field: str) -> tuple[Decimal, str]:
    """MoneyBag -> (amount, currency) in the shop's currency."""
    money = _obj(_obj(bag, field).get("shopMoney"), f"{field}.shopMoney")
    return (
        _decimal(money.get("amount"), f"{field}.shopMoney.amount"),
        _currency(money.get("currencyCode"), f"{field}.shopMoney.currencyCode"),
    )


def order_status(financial: str, fulfillment: str, *, cancelled: bool) -> str:
    """catalog.models.OrderStatus value for Shopify's (upper-case) financial and fulfillment status."""
    if cancelled or financial in {"VOIDED", "EXPIRED"}:
        return "cancelled"
    if financial == "REFUNDED":
        return "refunded"
    if financial == "PARTIALLY_REFUNDED":
        return "partially_refunded"
    if fulfillment == "FULFILLED":
        return "shipped"
    if fulfillment == "PARTIALLY_FULFILLED":
        return "partially_shipped"
    if fulfillment == "RESTOCKED":
        return "cancelled"
    if financial == "PAID":
        return "unshipped" if fulfillment in {"", "UNFULFILLED"} else "processing"
    return "pending"


# --- GraphQL nodes -------------------------------------------------------------------------------


def _graphql_buyer(order: Mapping[str, Any], prefix: str) -> Buyer | None:
    customer = _obj(order.get("customer"), f"{prefix}.customer", required=False)
    email = _text(order, "email", f"{prefix}.email")
    country = ""
    address = _obj(order.get("shippingAddress"), f"{prefix}.shippingAddress", required=False)
    if address:
        country = _text(address, "countryCodeV2", f"{prefix}.shippingAddress.countryCodeV2")
    if customer:
        external = legacy_id(customer.get("id"), f"{prefix}.customer.id")
        name = _text(customer, "displayName", f"{prefix}.customer.displayName")
        language = _text(customer, "locale", f"{prefix}.customer.locale")
    elif email:
        external, name, language = email.lower(), "", ""
    else:
        return None
    language = language or _text(order, "customerLocale", f"{prefix}.customerLocale")
    return Buyer(external_id=external, name=name, email=email, country=country, language=language)


def map_graphql_order(order: Mapping[str, Any]) -> OrderRecord:
    """An `Order` node as selected by operations.ORDER_FIELDS (line items already complete)."""
    order = _obj(order, "order")
    financial = _enum(order.get("displayFinancialStatus"), FINANCIAL_STATUSES, "displayFinancialStatus", required=False)
    fulfillment = _enum(order.get("displayFulfillmentStatus"), FULFILLMENT_STATUSES, "displayFulfillmentStatus")
    total, currency = _money(order.get("totalPriceSet"), "totalPriceSet")
    lines = []
    line_items = _obj(order.get("lineItems"), "lineItems")
    for index, raw in enumerate(_list(line_items.get("nodes"), "lineItems.nodes")):
        prefix = f"lineItems.nodes[{index}]"
        item = _obj(raw, prefix)
        price, line_currency = _money(item.get("originalUnitPriceSet"), f"{prefix}.originalUnitPriceSet")
        lines.append(
            OrderLineRecord(
                external_line_id=legacy_id(item.get("id"), f"{prefix}.id"),
                sku=_text(item, "sku", f"{prefix}.sku"),
                quantity=_quantity(item.get("quantity"), f"{prefix}.quantity"),
                unit_price=price,
                currency=line_currency,
                title=_text(item, "name", f"{prefix}.name") or _text(item, "title", f"{prefix}.title"),
            )
        )
    shipments = []
    for index, raw in enumerate(_list(order.get("fulfillments"), "fulfillments")):
        prefix = f"fulfillments[{index}]"
        fulfilment = _obj(raw, prefix)
        state = _enum(fulfilment.get("status"), FULFILLMENT_STATES, f"{prefix}.status")
        if state in {"CANCELLED", "ERROR", "FAILURE"}:
            continue
        display = _enum(fulfilment.get("displayStatus"), SHIPMENT_STATUSES, f"{prefix}.displayStatus", required=False)
        shipped_at = _instant(fulfilment, "createdAt", f"{prefix}.createdAt")
        delivered_at = _instant(fulfilment, "deliveredAt", f"{prefix}.deliveredAt", required=False)
        for tindex, tracking_raw in enumerate(_list(fulfilment.get("trackingInfo"), f"{prefix}.trackingInfo")):
            tracking = _obj(tracking_raw, f"{prefix}.trackingInfo[{tindex}]")
            number = _text(tracking, "number", f"{prefix}.trackingInfo[{tindex}].number")
            if not number:
                continue
            shipments.append(
                ShipmentRecord(
                    carrier=_text(tracking, "company", f"{prefix}.trackingInfo[{tindex}].company"),
                    tracking_number=number,
                    status=SHIPMENT_STATUSES.get(display, "") if display else "",
                    shipped_at=shipped_at,
                    delivered_at=delivered_at,
                )
            )
    address = _obj(order.get("shippingAddress"), "shippingAddress", required=False)
    return OrderRecord(
        external_id=legacy_id(order.get("id"), "id"),
        placed_at=_instant(order, "createdAt", "createdAt"),  # type: ignore[arg-type]
        status=order_status(financial, fulfillment, cancelled=order.get("cancelledAt") is not None),
        total=total,
        currency=currency,
        updated_at=_instant(order, "updatedAt", "updatedAt"),
        buyer=_graphql_buyer(order, "order"),
        ship_country=_text(address, "countryCodeV2", "shippingAddress.countryCodeV2") if address else "",
        lines=lines,
        shipments=shipments,
        ship_address=_ship_address(
            address, "shippingAddress", ("countryCodeV2", "address1", "address2", "zip", "city")
        ),
    )


def _ship_address(address: Mapping[str, Any] | None, prefix: str, keys: tuple[str, ...]) -> ShipAddress | None:
    """A MailingAddress (GraphQL: countryCodeV2, address1, address2, zip, city) or a webhook's
    shipping_address (country_code, address1, address2, zip, city); keys in that order. Without the
    protected customer data scopes Shopify omits address1/address2: no address then."""
    if not address:
        return None
    country, line1, line2, postal, city = (_text(address, key, f"{prefix}.{key}") for key in keys)
    return ShipAddress.of(country=country, postal_code=postal, lines=(line1, line2), city=city)


def _return_lines(nodes: Any, prefix: str, *, rest: bool) -> tuple[list[ReturnLineRecord], list[str]]:
    """The lines of a return and the buyer's notes on them."""
    lines, notes = [], []
    for index, raw in enumerate(_list(nodes, prefix)):
        item_prefix = f"{prefix}[{index}]"
        item = _obj(raw, item_prefix)
        reason_key = "return_reason" if rest else "returnReason"
        reason = _enum(item.get(reason_key), RETURN_REASONS, f"{item_prefix}.{reason_key}")
        note_key = "customer_note" if rest else "customerNote"
        note = _text(item, note_key, f"{item_prefix}.{note_key}")
        if note:
            notes.append(note)
        fli_key, line_key = ("fulfillment_line_item", "line_item") if rest else ("fulfillmentLineItem", "lineItem")
        fulfilled = _obj(item.get(fli_key), f"{item_prefix}.{fli_key}", required=False)
        line = _obj(fulfilled.get(line_key), f"{item_prefix}.{fli_key}.{line_key}", required=False)
        lines.append(
            ReturnLineRecord(
                sku=_text(line, "sku", f"{item_prefix}.{fli_key}.{line_key}.sku") if line else "",
                quantity=_quantity(item.get("quantity"), f"{item_prefix}.quantity"),
                external_line_id=legacy_id(line.get("id"), f"{item_prefix}.{fli_key}.{line_key}.id") if line else "",
                reason=reason,
            )
        )
    return lines, notes


def map_graphql_return(payload: Mapping[str, Any]) -> ReturnRecord:
    """{"return": Return node (operations.RETURN_FIELDS), "order": its order's summary}.

    The 2025-01 `Return` object has no creation time: `created_at` is the order's updatedAt when the
    return was first seen (the engine keeps the first one)."""
    node = _obj(payload.get("return"), "return")
    order = _obj(payload.get("order"), "order")
    status = _enum(node.get("status"), RETURN_STATUSES, "return.status")
    seen_at = _instant(order, "updatedAt", "order.updatedAt")
    lines, notes = _return_lines(
        _obj(node.get("returnLineItems"), "return.returnLineItems").get("nodes"),
        "return.returnLineItems.nodes",
        rest=False,
    )
    currency = order.get("currencyCode")
    return ReturnRecord(
        external_id=legacy_id(node.get("id"), "return.id"),
        kind=ReturnKind.RETURN,
        status=status,
        state=return_state(status),
        created_at=seen_at,  # type: ignore[arg-type]
        order_external_id=legacy_id(order.get("id"), "order.id"),
        buyer=_graphql_buyer(order, "order"),
        reason=lines[0].reason if lines else "",
        buyer_comment="\n".join(notes),
        currency=_currency(currency, "order.currencyCode") if currency is not None else "",
        updated_at=seen_at,
        lines=lines,
        label_available=bool(reverse_delivery_labels(node)),
    )


def reverse_delivery_labels(node: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """(label, tracking) of every reverse delivery of a Return node that has a shipping label with a
    file (`reverseFulfillmentOrders.nodes[].reverseDeliveries.nodes[].deliverable` as a
    ReverseDeliveryShippingDeliverable; tracking may be empty). Absent or malformed parts: none."""
    found: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
    reverse_orders = node.get("reverseFulfillmentOrders")
    for reverse_order in (reverse_orders.get("nodes") if isinstance(reverse_orders, Mapping) else None) or []:
        deliveries = reverse_order.get("reverseDeliveries") if isinstance(reverse_order, Mapping) else None
        for delivery in (deliveries.get("nodes") if isinstance(deliveries, Mapping) else None) or []:
            deliverable = delivery.get("deliverable") if isinstance(delivery, Mapping) else None
            label = deliverable.get("label") if isinstance(deliverable, Mapping) else None
            if isinstance(label, Mapping) and isinstance(label.get("publicFileUrl"), str) and label["publicFileUrl"]:
                tracking = deliverable.get("tracking")  # type: ignore[union-attr]
                found.append((label, tracking if isinstance(tracking, Mapping) else {}))
    return found


# --- REST webhook bodies ---------------------------------------------------------------------------

_REST_FULFILLMENT = {
    None: "UNFULFILLED",
    "fulfilled": "FULFILLED",
    "partial": "PARTIALLY_FULFILLED",
    "restocked": "RESTOCKED",
    "unfulfilled": "UNFULFILLED",
}


def map_rest_order(body: Mapping[str, Any]) -> OrderRecord:
    """An orders/* webhook body (the REST order resource)."""
    body = _obj(body, "body")
    financial = _enum(body.get("financial_status"), FINANCIAL_STATUSES, "financial_status", required=False)
    raw_fulfillment = body.get("fulfillment_status")
    if raw_fulfillment not in _REST_FULFILLMENT:
        raise MappingError(f"fulfillment_status has an unknown value {raw_fulfillment!r}", field="fulfillment_status")
    currency = _currency(body.get("currency"), "currency")
    lines = []
    for index, raw in enumerate(_list(body.get("line_items"), "line_items")):
        prefix = f"line_items[{index}]"
        item = _obj(raw, prefix)
        lines.append(
            OrderLineRecord(
                external_line_id=legacy_id(item.get("id"), f"{prefix}.id"),
                sku=_text(item, "sku", f"{prefix}.sku"),
                quantity=_quantity(item.get("quantity"), f"{prefix}.quantity"),
                unit_price=_decimal(item.get("price"), f"{prefix}.price"),
                currency=currency,
                title=_text(item, "name", f"{prefix}.name") or _text(item, "title", f"{prefix}.title"),
            )
        )
    shipments = []
    for index, raw in enumerate(_list(body.get("fulfillments"), "fulfillments")):
        prefix = f"fulfillments[{index}]"
        fulfilment = _obj(raw, prefix)
        if _enum(fulfilment.get("status"), FULFILLMENT_STATES, f"{prefix}.status") in {"CANCELLED", "ERROR", "FAILURE"}:
            continue
        display = _enum(
            fulfilment.get("shipment_status"), SHIPMENT_STATUSES, f"{prefix}.shipment_status", required=False
        )
        numbers = [n for n in _list(fulfilment.get("tracking_numbers"), f"{prefix}.tracking_numbers") if n]
        single = _text(fulfilment, "tracking_number", f"{prefix}.tracking_number")
        if single and single not in numbers:
            numbers.insert(0, single)
        for number in numbers:
            if not isinstance(number, str):
                raise MappingError(f"{prefix}.tracking_numbers holds a non-string", field=f"{prefix}.tracking_numbers")
            shipments.append(
                ShipmentRecord(
                    carrier=_text(fulfilment, "tracking_company", f"{prefix}.tracking_company"),
                    tracking_number=number,
                    # No shipment_status yet: fulfilled, not scanned by the carrier (GraphQL's FULFILLED).
                    status=SHIPMENT_STATUSES[display or "FULFILLED"],
                    shipped_at=_instant(fulfilment, "created_at", f"{prefix}.created_at"),
                )
            )
    customer = _obj(body.get("customer"), "customer", required=False)
    address = _obj(body.get("shipping_address"), "shipping_address", required=False)
    country = _text(address, "country_code", "shipping_address.country_code") if address else ""
    email = _text(body, "email", "email")
    buyer = None
    if customer:
        name = " ".join(
            part
            for part in (
                _text(customer, "first_name", "customer.first_name"),
                _text(customer, "last_name", "customer.last_name"),
            )
            if part
        )
        buyer = Buyer(
            external_id=legacy_id(customer.get("id"), "customer.id"),
            name=name,
            email=email or _text(customer, "email", "customer.email"),
            country=country,
            language=_text(body, "customer_locale", "customer_locale"),
        )
    elif email:
        buyer = Buyer(external_id=email.lower(), email=email, country=country)
    return OrderRecord(
        external_id=legacy_id(body.get("id"), "id"),
        placed_at=_instant(body, "created_at", "created_at"),  # type: ignore[arg-type]
        status=order_status(
            financial, _REST_FULFILLMENT[raw_fulfillment], cancelled=body.get("cancelled_at") is not None
        ),
        total=_decimal(body.get("total_price"), "total_price"),
        currency=currency,
        updated_at=_instant(body, "updated_at", "updated_at"),
        buyer=buyer,
        ship_country=country,
        lines=lines,
        shipments=shipments,
        ship_address=_ship_address(
            address, "shipping_address", ("country_code", "address1", "address2", "zip", "city")
        ),
    )


def map_rest_return(body: Mapping[str, Any], *, received_at: datetime) -> ReturnRecord:
    """A returns/* webhook body. It carries no dates: `received_at` is the webhook's
    X-Shopify-Triggered-At."""
    body = _obj(body, "body")
    status = _enum(body.get("status"), RETURN_STATUSES, "status")
    order = _obj(body.get("order"), "order")
    order_id = order.get("id") if order.get("id") is not None else order.get("admin_graphql_api_id")
    lines, notes = _return_lines(body.get("return_line_items"), "return_line_items", rest=True)
    return ReturnRecord(
        external_id=legacy_id(body.get("id") if body.get("id") is not None else body.get("admin_graphql_api_id"), "id"),
        kind=ReturnKind.RETURN,
        status=status,
        state=return_state(status),
        created_at=received_at,
        order_external_id=legacy_id(order_id, "order.id"),
        reason=lines[0].reason if lines else "",
        buyer_comment="\n".join(notes),
        updated_at=received_at,
        lines=lines,
    )


def map_webhook(envelope: Mapping[str, Any]) -> list[Record]:
    """{"topic", "triggered_at", "body"} as stored by webhooks.parse_webhook."""
    topic = _text(envelope, "topic", "topic", required=True)
    body = _obj(envelope.get("body"), "body")
    if topic in ORDER_TOPICS:
        return [map_rest_order(body)]
    if topic in RETURN_TOPICS:
        received_at = _instant(envelope, "triggered_at", "X-Shopify-Triggered-At")
        return [map_rest_return(body, received_at=received_at)]  # type: ignore[arg-type]
    if topic in REFUND_TOPICS:
        # The REST refund names its order; the order's new financial status arrives with the
        # orders/updated webhook Shopify sends with it and with the next orders poll.
        refund_id = legacy_id(body.get("id"), "id")
        order_id = legacy_id(body.get("order_id"), "order_id")
        return [IgnoredRecord(reason="refund_notice", detail=f"refund {refund_id} of order {order_id}")]
    return [IgnoredRecord(reason="unsubscribed_topic", detail=topic)]


# --- write-back answers ----------------------------------------------------------------------------


def refund_receipt(node: Mapping[str, Any]) -> RefundReceipt:
    """A `Refund` node (with transactions) -> its state: failed if any refund transaction failed,
    succeeded when all succeeded, pending otherwise."""
    node = _obj(node, "refund")
    refund_id = legacy_id(node.get("id"), "refund.id")
    transactions = _obj(node.get("transactions"), "refund.transactions").get("nodes")
    states = []
    for index, raw in enumerate(_list(transactions, "refund.transactions.nodes")):
        txn = _obj(raw, f"refund.transactions.nodes[{index}]")
        states.append(_enum(txn.get("status"), TRANSACTION_STATES, f"refund.transactions.nodes[{index}].status"))
    if any(state in {"FAILURE", "ERROR"} for state in states):
        return RefundReceipt(external_id=refund_id, state=RefundState.FAILED, detail=",".join(states))
    if states and all(state == "SUCCESS" for state in states):
        return RefundReceipt(external_id=refund_id, state=RefundState.SUCCEEDED)
    return RefundReceipt(external_id=refund_id, state=RefundState.PENDING, detail=",".join(states))


def map_rest_refund(body: Mapping[str, Any]) -> RefundReceipt:
    """A refunds/create webhook body (the REST refund resource, tests/fixtures/rest_refund.json)."""
    body = _obj(body, "refund")
    states = []
    for index, raw in enumerate(_list(body.get("transactions"), "transactions")):
        txn = _obj(raw, f"transactions[{index}]")
        if _text(txn, "kind", f"transactions[{index}].kind") != "refund":
            continue
        states.append(_enum(txn.get("status"), TRANSACTION_STATES, f"transactions[{index}].status"))
    fake_node = {"id": body.get("id"), "transactions": {"nodes": [{"status": s} for s in states]}}
    return refund_receipt(fake_node)


def return_state(status: str) -> ReturnState:
    """`status` in the one vocabulary (RETURN_STATE_OF; a word not there: unknown)."""
    return RETURN_STATE_OF.get(status, ReturnState.UNKNOWN)
