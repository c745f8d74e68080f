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


def map_order(data: Mapping[str, Any], *, currency: str = "") -> OrderRecord:
    state = str(required(data, "state"))
    if state not in ORDER_STATES:
        raise MappingError(f"unknown state {state!r}", field="state")
    total, total_currency = _money(data, "order_payment.general_payment_details.payment_total", currency or "USD")
    product = dig(data, "product_information")
    if not isinstance(product, Mapping):
        raise MappingError("product_information is missing", field="product_information")
    try:
        unit, unit_currency = _money(product, "price", total_currency)
        line = OrderLineRecord(
            external_line_id=text(product, "variation_id"),
            sku=text(product, "sku"),
            quantity=quantity(product, "quantity"),
            unit_price=unit,
            currency=unit_currency,
            title=str(product.get("name") or ""),
        )
    except MappingError as exc:
        raise MappingError(exc.reason, field=f"product_information.{exc.field}") from exc
    placed = iso(data, "released_at")
    assert placed is not None
    return OrderRecord(
        external_id=text(data, "id"),
        placed_at=placed,
        status=ORDER_STATES[state],
        total=total,
        currency=total_currency,
        updated_at=iso(data, "updated_at", required_=False),
        buyer=Buyer(external_id=text(data, "user_id"), country=str(dig(data, "shipping_details.country_code") or "")),
        ship_address=marketplace.ship_address(
            country=dig(data, "shipping_details.country_code"),
            postal_code=dig(data, "shipping_details.zipcode"),
            lines=[dig(data, "shipping_details.street_address1"), dig(data, "shipping_details.street_address2")],
            city=dig(data, "shipping_details.city"),
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
    buyer = Buyer(
        external_id=text(data, "user_info.id"),
        name=str(dig(data, "user_info.name") or ""),
        language=str(dig(data, "user_info.locale") or "")[:2],
    )
    order_ids = dig(data, "order_ids") or []
    if not isinstance(order_ids, list):
        raise MappingError("order_ids is not a list", field="order_ids")
    order_id = str(order_ids[0]) if order_ids else None
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
        sent = iso(reply, "replied_at" if "replied_at" in reply else "created_at")
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
        created = iso(data, "created_at")
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
