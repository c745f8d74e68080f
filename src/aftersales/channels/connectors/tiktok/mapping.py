"""Pure mapping: TikTok Shop Partner API 202309 payloads -> the engine's records (no database, no
clock, no HTTP). Pulled payloads are stored as {"kind": "order" | "return" | "cancellation" |
"message", "data": ...} (messages also carry their "conversation"), so a quarantined record is
mapped again from the stored payload.

TikTok timestamps are Unix epoch seconds; amounts are decimal strings ("12.50") with their
currency beside them. Anything missing, malformed or an unknown enum value raises MappingError
naming TikTok's field: that record is quarantined."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aftersales.catalog.models import OrderStatus
from aftersales.channels.base import (
    Buyer,
    IgnoredRecord,
    MappingError,
    MessageRecord,
    OrderLineRecord,
    OrderRecord,
    Record,
    ReturnKind,
    ReturnLineRecord,
    ReturnRecord,
    ReturnState,
)
from aftersales.channels.connectors import marketplace, media
from aftersales.channels.fields import amount, currency_code, dig, epoch, instant, required, text

from .regions import REGIONS

# Order status (Get Order Detail 202309 `status`) -> ours (OrderStatus where one fits, else
# TikTok's word in lower case).
ORDER_STATUSES: dict[str, str] = {
    "UNPAID": OrderStatus.PENDING,
    "ON_HOLD": OrderStatus.PENDING,
    "AWAITING_SHIPMENT": OrderStatus.UNSHIPPED,
    "PARTIALLY_SHIPPING": OrderStatus.PROCESSING,
    "AWAITING_COLLECTION": OrderStatus.PROCESSING,
    "IN_TRANSIT": OrderStatus.SHIPPED,
    "DELIVERED": OrderStatus.DELIVERED,
    "COMPLETED": OrderStatus.COMPLETED,
    "CANCELLED": OrderStatus.CANCELLED,
}
# return_type -> our kind. A replacement request is a return (the item comes back).
RETURN_TYPES: dict[str, ReturnKind] = {
    "REFUND": ReturnKind.REFUND_REQUEST,
    "RETURN_AND_REFUND": ReturnKind.RETURN,
    "REPLACEMENT": ReturnKind.RETURN,
}
RETURN_STATUSES = frozenset(
    {
        "RETURN_OR_REFUND_REQUEST_PENDING",
        "REFUND_OR_RETURN_REQUEST_REJECT",
        "AWAITING_BUYER_SHIP",
        "BUYER_SHIPPED_ITEM",
        "REJECT_RECEIVE_PACKAGE",
        "RETURN_OR_REFUND_REQUEST_SUCCESS",
        "RETURN_OR_REFUND_REQUEST_CANCEL",
        "RETURN_OR_REFUND_REQUEST_COMPLETE",
        "REPLACEMENT_REQUEST_PENDING",
        "REPLACEMENT_REQUEST_REJECT",
        "REPLACEMENT_REQUEST_REFUND_SUCCESS",
        "REPLACEMENT_REQUEST_CANCEL",
        "REPLACEMENT_REQUEST_COMPLETE",
        "AWAITING_BUYER_RESPONSE",
    }
)
CANCEL_STATUSES = frozenset(
    {
        "CANCELLATION_REQUEST_PENDING",
        "CANCELLATION_REQUEST_SUCCESS",
        "CANCELLATION_REQUEST_CANCEL",
        "CANCELLATION_REQUEST_COMPLETE",
    }
)
# Customer-service message types: how a non-text one shows in the ticket; None: not a message
# someone wrote (a notification), kept raw and ignored.
MESSAGE_TYPES: dict[str, str | None] = {
    "TEXT": "",
    "IMAGE": "[image]",
    "VIDEO": "[video]",
    "EMOTICONS": "[sticker]",
    "PRODUCT_CARD": "[product]",
    "ORDER_CARD": "[order]",
    "RETURN_REFUND_CARD": "[return]",
    "COUPON_CARD": "[coupon]",
    "LOGISTICS_CARD": "[shipping]",
    "ALLOCATED_SERVICE": None,
    "NOTIFICATION": None,
    "BUYER_ENTER_FROM_TRANSFER": None,
    "BUYER_ENTER_FROM_PRODUCT": None,
    "BUYER_ENTER_FROM_ORDER": None,
    "OTHER": "[message]",
}
SENDER_ROLES = frozenset({"BUYER", "SHOP", "CUSTOMER_SERVICE", "SYSTEM", "ROBOT"})
SELLER_ROLES = frozenset({"SHOP", "CUSTOMER_SERVICE"})
# Each return_status / cancel_status in the one vocabulary (channels.base.ReturnState).
RETURN_STATE_OF: dict[str, ReturnState] = {
    "RETURN_OR_REFUND_REQUEST_PENDING": ReturnState.OPEN,
    "REFUND_OR_RETURN_REQUEST_REJECT": ReturnState.REJECTED,
    "AWAITING_BUYER_SHIP": ReturnState.WAITING_BUYER,
    "BUYER_SHIPPED_ITEM": ReturnState.OPEN,  # the seller receives and decides
    "REJECT_RECEIVE_PACKAGE": ReturnState.REJECTED,
    "RETURN_OR_REFUND_REQUEST_SUCCESS": ReturnState.COMPLETED,
    "RETURN_OR_REFUND_REQUEST_CANCEL": ReturnState.CANCELLED,
    "RETURN_OR_REFUND_REQUEST_COMPLETE": ReturnState.COMPLETED,
    "REPLACEMENT_REQUEST_PENDING": ReturnState.OPEN,
    "REPLACEMENT_REQUEST_REJECT": ReturnState.REJECTED,
    "REPLACEMENT_REQUEST_REFUND_SUCCESS": ReturnState.COMPLETED,
    "REPLACEMENT_REQUEST_CANCEL": ReturnState.CANCELLED,
    "REPLACEMENT_REQUEST_COMPLETE": ReturnState.COMPLETED,
    "AWAITING_BUYER_RESPONSE": ReturnState.WAITING_BUYER,
    "CANCELLATION_REQUEST_PENDING": ReturnState.OPEN,
    "CANCELLATION_REQUEST_SUCCESS": ReturnState.COMPLETED,
    "CANCELLATION_REQUEST_CANCEL": ReturnState.CANCELLED,
    "CANCELLATION_REQUEST_COMPLETE": ReturnState.COMPLETED,
}


def _region(code: Any) -> tuple[str, str]:
    """(country, language) of a TikTok region code, ("", "") when unknown."""
    found = REGIONS.get(str(code or "").upper())
    return (found.country, found.language) if found else ("", "")


def _nested(exc: MappingError, prefix: str) -> MappingError:
    return MappingError(exc.reason, field=f"{prefix}.{exc.field}")


# --- orders --------------------------------------------------------------------------------------


def map_order(data: Mapping[str, Any], *, currency: str = "") -> OrderRecord:
    order_id = text(data, "id")
    status_word = text(data, "status")
    if status_word not in ORDER_STATUSES:
        raise MappingError(f"unknown order status {status_word!r}", field="status")
    order_currency = currency_code(data, "payment.currency", currency)
    items = data.get("line_items")
    if not isinstance(items, list) or not items:
        raise MappingError("line_items is missing", field="line_items")
    lines = []
    for n, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise MappingError(f"line_items[{n}] is not an object", field=f"line_items[{n}]")
        try:
            price = amount(item, "sale_price")
            assert price is not None
            # 202309 orders list one line item per unit: quantity 1 each.
            lines.append(
                OrderLineRecord(
                    external_line_id=text(item, "id"),
                    sku=text(item, "seller_sku", required=False) or text(item, "sku_id"),
                    quantity=1,
                    unit_price=price,
                    currency=currency_code(item, "currency", order_currency),
                    title=" - ".join(
                        p
                        for p in (text(item, "product_name", required=False), text(item, "sku_name", required=False))
                        if p
                    )[:300],
                )
            )
        except MappingError as exc:
            raise _nested(exc, f"line_items[{n}]") from exc
    country, language = _region(dig(data, "recipient_address.region_code"))
    buyer_id = text(data, "user_id", required=False)
    buyer = None
    if buyer_id:
        buyer = Buyer(
            external_id=buyer_id,
            name=text(data, "recipient_address.name", required=False),
            email=text(data, "buyer_email", required=False),
            country=country,
            language=language,
        )
    total = amount(data, "payment.total_amount")
    assert total is not None
    return OrderRecord(
        external_id=order_id,
        placed_at=epoch(required(data, "create_time"), "create_time"),
        updated_at=instant(data, "update_time", required=False),
        status=ORDER_STATUSES[status_word],
        total=total,
        currency=order_currency,
        buyer=buyer,
        ship_country=country,
        ship_address=marketplace.ship_address(
            country=dig(data, "recipient_address.region_code"),
            postal_code=dig(data, "recipient_address.postal_code"),
            lines=[dig(data, f"recipient_address.address_line{n}") for n in range(1, 5)]
            if dig(data, "recipient_address.address_line1")
            else [dig(data, "recipient_address.full_address")],
        ),
        lines=lines,
    )


# --- returns and cancellations -------------------------------------------------------------------


def respond_by(data: Mapping[str, Any]) -> datetime | None:
    """The seller's deadline: the earliest `deadline` of seller_next_action_response (TikTok
    decides for the buyer when it passes; how long it is depends on the market)."""
    actions = data.get("seller_next_action_response")
    if actions in (None, ""):
        return None
    if not isinstance(actions, list):
        raise MappingError("seller_next_action_response is not a list", field="seller_next_action_response")
    deadlines = []
    for n, action in enumerate(actions):
        if not isinstance(action, Mapping):
            raise MappingError("not an object", field=f"seller_next_action_response[{n}]")
        when = instant(action, "deadline", required=False)
        if when is not None:
            deadlines.append(when)
    return min(deadlines) if deadlines else None


def _lines(data: Mapping[str, Any], key: str) -> list[ReturnLineRecord]:
    lines = []
    items = data.get(key) or []
    if not isinstance(items, list):
        raise MappingError(f"{key} is not a list", field=key)
    for n, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise MappingError(f"{key}[{n}] is not an object", field=f"{key}[{n}]")
        try:
            lines.append(
                ReturnLineRecord(
                    sku=text(item, "seller_sku", required=False) or text(item, "sku_id"),
                    quantity=1,
                    external_line_id=text(item, "order_line_item_id"),
                )
            )
        except MappingError as exc:
            raise _nested(exc, f"{key}[{n}]") from exc
    return lines


def map_return(data: Mapping[str, Any], *, currency: str = "") -> ReturnRecord:
    return_id = text(data, "return_id")
    status = text(data, "return_status")
    if status not in RETURN_STATUSES:
        raise MappingError(f"unknown return_status {status!r}", field="return_status")
    kind = text(data, "return_type")
    if kind not in RETURN_TYPES:
        raise MappingError(f"unknown return_type {kind!r}", field="return_type")
    return ReturnRecord(
        external_id=return_id,
        kind=RETURN_TYPES[kind],
        status=status,
        state=return_state(status),
        created_at=epoch(required(data, "create_time"), "create_time"),
        updated_at=instant(data, "update_time", required=False),
        order_external_id=text(data, "order_id", required=False) or None,
        reason=text(data, "return_reason", required=False)[:120],
        buyer_comment=text(data, "return_reason_text", required=False),
        requested_amount=amount(data, "refund_amount.refund_total", required=False),
        currency=currency_code(data, "refund_amount.currency", currency),
        respond_by=respond_by(data),
        lines=_lines(data, "return_line_items"),
    )


def map_cancellation(data: Mapping[str, Any], *, currency: str = "") -> ReturnRecord:
    status = text(data, "cancel_status")
    if status not in CANCEL_STATUSES:
        raise MappingError(f"unknown cancel_status {status!r}", field="cancel_status")
    return ReturnRecord(
        external_id=text(data, "cancel_id"),
        kind=ReturnKind.CANCELLATION,
        status=status,
        state=return_state(status),
        created_at=epoch(required(data, "create_time"), "create_time"),
        updated_at=instant(data, "update_time", required=False),
        order_external_id=text(data, "order_id", required=False) or None,
        reason=text(data, "cancel_reason", required=False)[:120],
        buyer_comment=text(data, "cancel_reason_text", required=False),
        requested_amount=amount(data, "refund_amount.refund_total", required=False),
        currency=currency_code(data, "refund_amount.currency", currency),
        respond_by=respond_by(data),
        lines=_lines(data, "cancel_line_items"),
    )


# --- customer service ----------------------------------------------------------------------------


def message_content(message: Mapping[str, Any]) -> Mapping[str, Any]:
    """`content` is a JSON text ('{"content": "Hello"}' for TEXT)."""
    raw = message.get("content")
    if isinstance(raw, Mapping):
        return raw
    if not isinstance(raw, str):
        raise MappingError("content is missing", field="content")
    try:
        content = json.loads(raw)
    except ValueError as exc:
        raise MappingError("content is not JSON", field="content") from exc
    if not isinstance(content, Mapping):
        raise MappingError("content is not an object", field="content")
    return content


def message_body(message: Mapping[str, Any]) -> str | None:
    """The text shown in the ticket; None for a notification (not written by anyone)."""
    kind = text(message, "type")
    if kind not in MESSAGE_TYPES:
        raise MappingError(f"unknown message type {kind!r}", field="type")
    label = MESSAGE_TYPES[kind]
    if label is None:
        return None
    content = message_content(message)
    if kind == "TEXT":
        body = text(content, "content")
        if not body.strip():
            raise MappingError("content.content is empty", field="content.content")
        return body
    parts = [label]
    for key in ("content", "url", "order_id", "product_id", "return_id", "coupon_id"):
        value = content.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            parts.append(str(value))
    return " ".join(parts)


def buyer_of(conversation: Mapping[str, Any]) -> Mapping[str, Any]:
    participants = conversation.get("participants")
    if not isinstance(participants, list):
        raise MappingError("participants is missing", field="participants")
    for participant in participants:
        if isinstance(participant, Mapping) and participant.get("role") == "BUYER":
            return participant
    raise MappingError("the conversation has no BUYER participant", field="participants")


def media_urls(message: Any) -> list[str]:
    """The link of the picture of an IMAGE message (its content's `url`)."""
    if not isinstance(message, Mapping) or message.get("type") != "IMAGE":
        return []
    try:
        url = message_content(message).get("url")
    except MappingError:
        return []  # quarantined by map_message, with its reason
    return [url] if isinstance(url, str) and url else []


def map_message(
    conversation: Mapping[str, Any], message: Mapping[str, Any], *, region: str = "", downloaded: Any = None
) -> MessageRecord | IgnoredRecord:
    """One customer-service message. The buyer is the conversation's BUYER participant; a message
    whose sender role is SHOP or CUSTOMER_SERVICE was written by the seller (Seller Center)."""
    message_id = text(message, "id")
    role = text(message, "sender.role")
    if role not in SENDER_ROLES:
        raise MappingError(f"unknown sender role {role!r}", field="sender.role")
    body = message_body(message)
    if body is None or role in ("SYSTEM", "ROBOT"):
        return IgnoredRecord(reason="tiktok_notification", detail=f"{message.get('type')} from {role}")
    buyer = buyer_of(conversation)
    country, language = _region(region)
    order_id = ""
    if message.get("type") == "ORDER_CARD":
        order_id = text(message_content(message), "order_id", required=False)
    files, body = media.message_files("[image]", downloaded, body)
    return MessageRecord(
        external_id=f"tiktok:{message_id}",
        attachments=files,
        buyer=Buyer(
            external_id=text(buyer, "user_id"),
            name=text(buyer, "nickname", required=False),
            country=country,
            language=language,
        ),
        body=body,
        sent_at=epoch(required(message, "create_time"), "create_time"),
        conversation_id=f"tiktok:{text(conversation, 'id')}",
        order_external_id=order_id or None,
        from_seller=role in SELLER_ROLES,
    )


# --- dispatch ------------------------------------------------------------------------------------


def map_payload(payload: Mapping[str, Any], *, currency: str = "", region: str = "") -> list[Record]:
    kind = payload.get("kind")
    data = payload.get("data")
    if kind == "push":
        return [IgnoredRecord(reason="push", detail=f"type {payload.get('type')}")]
    if not isinstance(data, Mapping):
        raise MappingError("the record is not an object", field="data")
    if kind == "order":
        return [map_order(data, currency=currency)]
    if kind == "return":
        return [map_return(data, currency=currency)]
    if kind == "cancellation":
        return [map_cancellation(data, currency=currency)]
    if kind == "message":
        conversation = payload.get("conversation")
        head = conversation if isinstance(conversation, Mapping) else {}
        return [map_message(head, data, region=region, downloaded=payload.get("media"))]
    raise MappingError(f"unknown record kind {kind!r}", field="kind")


IDS = {"order": "id", "return": "return_id", "cancellation": "cancel_id", "message": "id"}


def version_key(kind: str, data: Any) -> str:
    """The event id of this version of a record: its id and TikTok's update_time (a message never
    changes: its id alone). A record without an id gets a key that cannot collide with real ones
    (it is quarantined by map_record, with its reason)."""
    return marketplace.version_key(kind, data, ident=IDS[kind], modified="" if kind == "message" else "update_time")


def return_state(status: str) -> ReturnState:
    """`status` in the one vocabulary (RETURN_STATE_OF; a word not there: unknown)."""
    return RETURN_STATE_OF.get(status, ReturnState.UNKNOWN)
