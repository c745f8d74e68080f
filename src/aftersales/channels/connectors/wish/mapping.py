"""Pure mapping: Wish Merchant API v3 payloads -> the engine's records (no database, no clock, no
HTTP). Pulled payloads are stored as {"kind": "order" | "ticket", "data": ...}; a ticket becomes its
buyer's messages (one per reply, the merchant's own replies kept as from_seller; the pictures of a
reply's supporting_files, fetched by the connector while pulling, as attachments) and, when the
ticket is appealed to Wish (state AWAITING_WISH), a case carrying that state. Times are ISO 8601; money
{"amount": ..., "currency_code": ...}. Anything missing, malformed or unknown raises MappingError
naming Wish's field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aftersales.catalog.models import OrderStatus
from aftersales.channels.base import (
    Buyer,
    MappingError,
    MessageRecord,
    OrderLineRecord,
    OrderRecord,
    Record,
    ReturnKind,
    ReturnRecord,
    ReturnState,
)
from aftersales.channels.connectors import marketplace, media
from aftersales.channels.fields import amount, currency_code, dig, quantity, required, text

ORDER_STATES: dict[str, str] = {
    "APPROVED": OrderStatus.UNSHIPPED,
    "SHIPPED": OrderStatus.SHIPPED,
    "REFUNDED": OrderStatus.REFUNDED,
    "REQUIRE_REVIEW": OrderStatus.PENDING,
    "DELAYING": OrderStatus.PROCESSING,
    # Documented (v3 Order.state): "Customer's payment had an issue for this order. No merchant action required."
    "DECLINED": OrderStatus.CANCELLED,
}
# Ticket states and reply senders as Wish's v3 reference lists them (docs/connectors/wish.md).
TICKET_STATES = frozenset({"AWAITING_MERCHANT", "AWAITING_USER", "AWAITING_WISH", "CLOSED", "PERMANENTLY_CLOSED"})
CLOSED_STATES = frozenset({"CLOSED", "PERMANENTLY_CLOSED"})
ESCALATED = "AWAITING_WISH"  # appealed to Wish support (UpdateTicket state AWAITING_WISH)
SENDERS = frozenset({"USER", "MERCHANT", "WISH_SUPPORT", "WISH_AUTOMATED_SUPPORT", "LIVE_CHAT"})
WISH_SIDE = {
    "WISH_SUPPORT": "[Wish support]",
    "WISH_AUTOMATED_SUPPORT": "[Wish support]",
    "LIVE_CHAT": "[Wish live chat]",
}
# Each ticket state in the one vocabulary (channels.base.ReturnState).
RETURN_STATE_OF: dict[str, ReturnState] = {
    "AWAITING_MERCHANT": ReturnState.OPEN,
    "AWAITING_USER": ReturnState.WAITING_BUYER,
    "AWAITING_WISH": ReturnState.ESCALATED,  # appealed to Wish support
    "CLOSED": ReturnState.CLOSED,
    "PERMANENTLY_CLOSED": ReturnState.CLOSED,
}


def iso(data: Mapping[str, Any], path: str, *, required_: bool = True) -> datetime | None:
    value = dig(data, path)
    if value in (None, "") and not required_:
        return None
    if not isinstance(value, str):
        raise MappingError(f"{path} is not a date: {value!r}"[:200], field=path)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MappingError(f"{path} is not a date: {value!r}"[:200], field=path) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _money(data: Mapping[str, Any], path: str, default: str) -> tuple[Decimal, str]:
    value = amount(data, f"{path}.amount")
    assert value is not None
    return value, currency_code(data, f"{path}.currency_code", default)


SHIPPING = "full_address.shipping_detail"
PAYMENT = "order_payment.general_payment_details"


def order_buyer_id(order_id: str) -> str:
    """The buyer's id on the store for an order's customer. Wish's documented Order and Ticket carry
    no buyer id (the ticket only its orders' ids and the buyer's name and locale), so the buyer of
    an order is known by the order: the ticket naming that order finds the same customer."""
    return f"order:{order_id}"


def map_order(data: Mapping[str, Any], *, currency: str = "") -> OrderRecord:
    """The documented v3 Order: state, released_at, updated_at, the payment totals and the product's
    quantity and price under order_payment.general_payment_details, the product under
    product_information, the destination under full_address.shipping_detail (no buyer id)."""
    state = str(required(data, "state"))
    if state not in ORDER_STATES:
        raise MappingError(f"unknown state {state!r}", field="state")
    total, total_currency = _money(data, f"{PAYMENT}.payment_total", currency or "USD")
    product = dig(data, "product_information")
    if not isinstance(product, Mapping):
        raise MappingError("product_information is missing", field="product_information")
    unit, unit_currency = _money(data, f"{PAYMENT}.product_price", total_currency)
    try:
        line = OrderLineRecord(
            external_line_id=text(product, "variation_id"),
            sku=text(product, "sku"),
            quantity=quantity(data, f"{PAYMENT}.product_quantity"),
            unit_price=unit,
            currency=unit_currency,
            title=str(product.get("name") or ""),
        )
    except MappingError as exc:
        field = exc.field if exc.field.startswith(PAYMENT) else f"product_information.{exc.field}"
        raise MappingError(exc.reason, field=field) from exc
    placed = iso(data, "released_at")
    assert placed is not None
    order_id = text(data, "id")
    ship = dig(data, SHIPPING)
    ship = ship if isinstance(ship, Mapping) else {}
    country = str(ship.get("country_code") or "")
    return OrderRecord(
        external_id=order_id,
        placed_at=placed,
        status=ORDER_STATES[state],
        total=total,
        currency=total_currency,
        updated_at=iso(data, "updated_at", required_=False),
        buyer=Buyer(external_id=order_buyer_id(order_id), name=str(ship.get("name") or "")[:200], country=country),
        ship_address=marketplace.ship_address(
            country=country,
            postal_code=ship.get("zipcode"),
            lines=[ship.get("street_address1"), ship.get("street_address2"), ship.get("street_address3")],
            city=ship.get("city"),
        ),
        lines=[line],
    )


def picture_urls(data: Any) -> dict[int, list[str]]:
    """The links of each reply's supporting files (Reply.supporting_files[].url), by reply position."""
    found: dict[int, list[str]] = {}
    replies = data.get("replies") if isinstance(data, Mapping) else None
    for n, reply in enumerate(replies if isinstance(replies, list) else []):
        files = reply.get("supporting_files") if isinstance(reply, Mapping) else None
        urls = [str(f["url"]) for f in files or [] if isinstance(f, Mapping) and isinstance(f.get("url"), str)]
        if urls:
            found[n] = urls
    return found


def map_ticket(data: Mapping[str, Any], pictures: Any = None) -> list[Record]:
    ticket_id = text(data, "id")
    state = str(required(data, "state"))
    if state not in TICKET_STATES:
        raise MappingError(f"unknown state {state!r}", field="state")
    order_id = _first_order(data)
    name = str(dig(data, "buyer_info.name") or "").strip()
    buyer = Buyer(external_id=ticket_buyer_id(ticket_id, order_id, name), name=name[:200], language=_language(data))
    replies = dig(data, "replies")
    if not isinstance(replies, list) or not replies:
        raise MappingError("replies is missing", field="replies")
    records: list[Record] = []
    for n, reply in enumerate(replies):
        if not isinstance(reply, Mapping):
            raise MappingError("a reply is not an object", field=f"replies[{n}]")
        sender = str(reply.get("sender") or "")
        if sender not in SENDERS:
            raise MappingError(f"unknown sender {sender!r}", field=f"replies[{n}].sender")
        sent = iso(reply, "replied_at")
        assert sent is not None
        downloaded = pictures.get(str(n)) if isinstance(pictures, Mapping) else None
        files, missing = media.attachments(downloaded, name="image") if downloaded else ([], [])
        message = text(reply, "message", required=not reply.get("supporting_files"))
        body = " ".join(part for part in [message or ("[image]" if downloaded else ""), *missing] if part)
        if sender in WISH_SIDE:
            body = f"{WISH_SIDE[sender]} {body}"
        records.append(
            MessageRecord(
                external_id=f"wish:{ticket_id}:{n}",
                buyer=buyer,
                body=body,
                attachments=files,
                sent_at=sent,
                conversation_id=f"wish:{ticket_id}",
                order_external_id=order_id,
                subject=str(data.get("subject") or ""),
                from_seller=sender != "USER",
            )
        )
    if state == ESCALATED:
        created = iso(data, "opened_at")
        assert created is not None
        records.append(
            ReturnRecord(
                external_id=f"ticket:{ticket_id}",
                kind=ReturnKind.CASE,
                status=state,
                state=return_state(state),
                created_at=created,
                order_external_id=order_id,
                buyer=buyer,
                reason=str(data.get("subject") or ""),
                updated_at=iso(data, "updated_at", required_=False),
            )
        )
    return records


def _first_order(data: Mapping[str, Any]) -> str | None:
    """The first of the ticket's orders (Ticket.orders[{id}]), if any."""
    orders = data.get("orders")
    if orders is None:
        return None
    if not isinstance(orders, list):
        raise MappingError("orders is not a list", field="orders")
    for n, order in enumerate(orders):
        if not isinstance(order, Mapping) or not isinstance(order.get("id"), str) or not order["id"]:
            raise MappingError("an order has no id", field=f"orders[{n}].id")
    return str(orders[0]["id"]) if orders else None


def _language(data: Mapping[str, Any]) -> str:
    """The base language of buyer_info.locale (a BCP 47 tag: "es-MX", "en")."""
    locale = str(dig(data, "buyer_info.locale") or "")
    return locale.replace("_", "-").split("-")[0].lower()[:3]


def ticket_buyer_id(ticket_id: str, order_id: str | None, name: str) -> str:
    """A ticket's buyer on the store (docs/connectors/wish.md, "Customers"): the buyer of its first
    order (order_buyer_id), else the buyer's name on this store (casefolded, spaces collapsed), else
    the ticket alone."""
    if order_id:
        return order_buyer_id(order_id)
    folded = " ".join(name.casefold().split())
    return f"name:{folded}"[:120] if folded else f"ticket:{ticket_id}"


# Wish's RefundReason enum (RefundOrder.refund_reason), as documented.
REFUND_REASONS = (
    "UNABLE_TO_SHIP",
    "ITEM_RETURNED_TO_SENDER",
    "ITEM_IS_DAMAGED",
    "SHIPPING_TAKING_TOO_LONG",
    "ITEM_DOES_NOT_FIT",
    "RECEIVED_WRONG_ITEM",
    "ITEM_IS_COUNTERFEIT",
    "ITEM_DOES_NOT_WORK_AS_DESCRIBED",
    "ITEM_DOES_NOT_MATCH_LISTING",
    "ITEM_MARKED_DELIVERED_BUT_DID_NOT_ARRIVE",
    "MERCHANT_SENT_TO_WRONG_ADDRESS",
    "REPLACEMENT_NEVER_RECEIVED",
    "WRONG_COLOR",
    "ITEM_IS_POOR_QUALITY",
    "INCOMPLETE_ORDER",
    "MERCHANT_OUT_OF_STOCK",
    "EMPTY_PACKAGE",
    "PRODUCT_LISTING_MISSING_INFO",
    "ITEM_DID_NOT_MEET_EXPECTATIONS",
    "RECEIVED_NOTE_FROM_MERCHANT",
    "MERCHANT_REPORTED_ORDER",
    "MERCHANT_REPORTED_BUYER_FRAUD",
)
# Our return reasons (the policy vocabulary, returns/policy/defaults.py) and a few plain words,
# onto Wish's enum. "changed_mind" has no Wish reason (the enum has no buyer's change of mind).
REFUND_REASON_OF: dict[str, str] = {
    "defective": "ITEM_DOES_NOT_WORK_AS_DESCRIBED",
    "stopped_working": "ITEM_DOES_NOT_WORK_AS_DESCRIBED",
    "damaged_in_transit": "ITEM_IS_DAMAGED",
    "damaged": "ITEM_IS_DAMAGED",
    "not_as_described": "ITEM_DOES_NOT_MATCH_LISTING",
    "wrong_item": "RECEIVED_WRONG_ITEM",
    "wrong_size": "ITEM_DOES_NOT_FIT",
    "late_delivery": "SHIPPING_TAKING_TOO_LONG",
    "out_of_stock": "MERCHANT_OUT_OF_STOCK",
    "unable_to_ship": "UNABLE_TO_SHIP",
    "returned_to_sender": "ITEM_RETURNED_TO_SENDER",
    "missing_parts": "INCOMPLETE_ORDER",
    "poor_quality": "ITEM_IS_POOR_QUALITY",
    "counterfeit": "ITEM_IS_COUNTERFEIT",
    "empty_package": "EMPTY_PACKAGE",
}


def refund_reason(reason: str) -> str | None:
    """Wish's RefundReason for our refund's reason: one of Wish's own words as typed (any case), or
    ours mapped (REFUND_REASON_OF; spaces and hyphens read as underscores); None when neither."""
    word = "_".join(reason.strip().replace("-", " ").split())
    if word.upper() in REFUND_REASONS:
        return word.upper()
    return REFUND_REASON_OF.get(word.casefold())


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def already_read(item: Any, start: str, seen: list[str]) -> bool:
    """Whether a listed record is one the cursor read already: at the cursor's instant, among its ids."""
    if not isinstance(item, Mapping):
        return False
    return str(item.get("id")) in seen and _instant(item.get("updated_at")) == _instant(start)


def keyset_after(items: list[Any], start: str, seen: list[str]) -> dict[str, Any]:
    """The cursor after a page sorted by updated_at ascending: the latest updated_at in it (as Wish
    wrote it) and every id read at that instant (those of the cursor too when it is the same
    instant). A page without a readable updated_at keeps the cursor."""
    stamped = [(t, i) for i in items if isinstance(i, Mapping) and (t := _instant(i.get("updated_at"))) is not None]
    if not stamped:
        return {"from": start, "seen": seen}
    latest, _ = max(stamped, key=lambda pair: pair[0])
    at_latest = [i for t, i in stamped if t == latest]
    ids = [str(i.get("id")) for i in at_latest]
    if latest == _instant(start):
        ids = [*seen, *(i for i in ids if i not in seen)]
    return {"from": str(at_latest[0]["updated_at"]), "seen": ids}


def map_payload(payload: Mapping[str, Any], *, currency: str = "") -> list[Record]:
    kind, data = payload.get("kind"), payload.get("data")
    if not isinstance(data, Mapping):
        raise MappingError("the stored payload has no data object", field="data")
    if kind == "order":
        return [map_order(data, currency=currency)]
    if kind == "ticket":
        return map_ticket(data, payload.get("media"))
    raise MappingError(f"unknown payload kind {kind!r}", field="kind")


def version_key(kind: str, data: Any) -> str:
    return marketplace.version_key(kind, data, ident="id", modified="updated_at", malformed="no-id")


def return_state(status: str) -> ReturnState:
    """`status` in the one vocabulary (RETURN_STATE_OF; a word not there: unknown)."""
    return RETURN_STATE_OF.get(status, ReturnState.UNKNOWN)
