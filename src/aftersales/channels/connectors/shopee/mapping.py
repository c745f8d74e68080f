"""Pure mapping: Shopee Open Platform v2 payloads -> the engine's records (no database, no clock, no
HTTP). Pulled payloads are stored as {"kind": "order" | "return" | "message", "data": ...} (messages
also carry their "conversation"), so a quarantined record is mapped again from the stored payload.

Shopee timestamps are Unix epoch seconds (chat's are sometimes nanoseconds: `epoch` tells them
apart by size); amounts are JSON numbers in the site's currency. Anything missing, malformed or an
unknown enum value raises MappingError naming Shopee's field: that record is quarantined."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
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
from aftersales.channels.fields import amount, currency_code, epoch, instant, quantity, required, text
from aftersales.channels.fields import dig as dig  # re-exported: the connector reads mapping.dig

from .sites import SITES

# v2.order.get_order_detail order_status -> our status (OrderStatus values where one fits, else
# Shopee's word in lower case: shown as sent).
ORDER_STATUSES: dict[str, str] = {
    "UNPAID": OrderStatus.PENDING,
    "PENDING": OrderStatus.PENDING,
    "READY_TO_SHIP": OrderStatus.UNSHIPPED,
    "PROCESSED": OrderStatus.PROCESSING,
    "RETRY_SHIP": OrderStatus.PROCESSING,
    "SHIPPED": OrderStatus.SHIPPED,
    "TO_CONFIRM_RECEIVE": OrderStatus.DELIVERED,
    "IN_CANCEL": "in_cancel",
    "CANCELLED": OrderStatus.CANCELLED,
    "TO_RETURN": "to_return",
    "COMPLETED": OrderStatus.COMPLETED,
}
# v2.returns status values (kept as sent on the return request).
RETURN_STATUSES = frozenset(
    {"REQUESTED", "ACCEPTED", "CANCELLED", "JUDGING", "CLOSED", "PROCESSING", "SELLER_DISPUTE", "COMPLETED"}
)
# A return the seller can still act on (approve, offer, dispute).
# Each v2.returns status in the one vocabulary (channels.base.ReturnState).
RETURN_STATE_OF: dict[str, ReturnState] = {
    "REQUESTED": ReturnState.OPEN,
    "PROCESSING": ReturnState.OPEN,
    "ACCEPTED": ReturnState.WAITING_BUYER,
    "JUDGING": ReturnState.ESCALATED,
    "SELLER_DISPUTE": ReturnState.ESCALATED,
    "CANCELLED": ReturnState.CANCELLED,  # the buyer cancelled the return
    "CLOSED": ReturnState.CLOSED,  # Shopee closed it
    "COMPLETED": ReturnState.COMPLETED,
}
OPEN_RETURN_STATUSES = frozenset({"REQUESTED", "PROCESSING", "JUDGING", "SELLER_DISPUTE"})
# sellerchat message_type values this connector reads, and how a non-text one shows in the ticket.
MESSAGE_TYPES = {
    "text": "",
    "image": "[image]",
    "video": "[video]",
    "sticker": "[sticker]",
    "item": "[product]",
    "order": "[order]",
    "voucher": "[voucher]",
    "faq": "",
    "bundle_message": "[bundle]",
}


# --- field readers: channels.fields (shared with the other marketplace mappings) ------------------

_required = required
_currency = currency_code


def _country(region: Any) -> str:
    code = str(region or "").lower()
    return SITES[code].country if code in SITES else ""


def _language(region: Any) -> str:
    code = str(region or "").lower()
    return SITES[code].language if code in SITES else ""


# --- orders --------------------------------------------------------------------------------------


def line_id(item: Mapping[str, Any]) -> str:
    """Shopee identifies an order line by item_id and model_id (0 when the item has no variants)."""
    item_id = text(item, "item_id")
    model_id = text(item, "model_id", required=False) or "0"
    return f"{item_id}:{model_id}"


def map_order(data: Mapping[str, Any], *, currency: str = "") -> OrderRecord:
    order_sn = text(data, "order_sn")
    status_word = text(data, "order_status")
    if status_word not in ORDER_STATUSES:
        raise MappingError(f"unknown order_status {status_word!r}", field="order_status")
    order_currency = _currency(data, "currency", currency)
    items = data.get("item_list")
    if not isinstance(items, list):
        raise MappingError("item_list is missing", field="item_list")
    lines = []
    for n, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise MappingError(f"item_list[{n}] is not an object", field=f"item_list[{n}]")
        try:
            count = quantity(item, "model_quantity_purchased")
            # Line totals ("the subtotal of that specific item if quantity exceeds 1"); a bundle
            # deal's items have model_discounted_price 0 by design: the original price then.
            price = amount(item, "model_discounted_price", required=False) or amount(item, "model_original_price")
            assert price is not None
            lines.append(
                OrderLineRecord(
                    external_line_id=line_id(item),
                    sku=text(item, "model_sku", required=False)
                    or text(item, "item_sku", required=False)
                    or text(item, "item_id"),
                    quantity=count,
                    unit_price=(price / count).quantize(Decimal("0.01")) if count else price,
                    currency=order_currency,
                    title=" - ".join(
                        p
                        for p in (text(item, "item_name", required=False), text(item, "model_name", required=False))
                        if p
                    )[:300],
                )
            )
        except MappingError as exc:
            raise MappingError(exc.reason, field=f"item_list[{n}].{exc.field}") from exc
    buyer_id = text(data, "buyer_user_id", required=False)
    buyer = None
    if buyer_id and buyer_id != "0":
        buyer = Buyer(
            external_id=buyer_id,
            name=text(data, "buyer_username", required=False) or text(data, "recipient_address.name", required=False),
            country=_country(data.get("region")),
            language=_language(data.get("region")),
        )
    total = amount(data, "total_amount")
    assert total is not None
    return OrderRecord(
        external_id=order_sn,
        placed_at=epoch(_required(data, "create_time"), "create_time"),
        updated_at=instant(data, "update_time", required=False),
        status=ORDER_STATUSES[status_word],
        total=total,
        currency=order_currency,
        buyer=buyer,
        ship_country=_country(data.get("region")),
        ship_address=marketplace.ship_address(
            country=dig(data, "recipient_address.region") or data.get("region"),
            postal_code=dig(data, "recipient_address.zipcode"),
            lines=[dig(data, "recipient_address.full_address")],
            city=dig(data, "recipient_address.city"),
        ),
        lines=lines,
    )


# --- returns -------------------------------------------------------------------------------------


def respond_by(data: Mapping[str, Any]) -> datetime | None:
    """The seller's deadline: return_seller_due_date when Shopee sends it (the newer field), else
    due_date. When it passes, Shopee decides for the buyer."""
    for path in ("return_seller_due_date", "due_date"):
        when = instant(data, path, required=False)
        if when is not None:
            return when
    return None


def map_return(data: Mapping[str, Any], *, currency: str = "") -> ReturnRecord:
    return_sn = text(data, "return_sn")
    status = text(data, "status")
    if status not in RETURN_STATUSES:
        raise MappingError(f"unknown return status {status!r}", field="status")
    needs_logistics = data.get("needs_logistics")
    if needs_logistics is not None and not isinstance(needs_logistics, bool):
        raise MappingError(f"needs_logistics is not true or false: {needs_logistics!r}", field="needs_logistics")
    lines = []
    for n, item in enumerate(data.get("item") or []):
        if not isinstance(item, Mapping):
            raise MappingError(f"item[{n}] is not an object", field=f"item[{n}]")
        try:
            lines.append(
                ReturnLineRecord(
                    sku=text(item, "variation_sku", required=False)
                    or text(item, "item_sku", required=False)
                    or text(item, "item_id"),
                    quantity=quantity(item, "amount"),
                    external_line_id=line_id(item),
                )
            )
        except MappingError as exc:
            raise MappingError(exc.reason, field=f"item[{n}].{exc.field}") from exc
    return ReturnRecord(
        external_id=return_sn,
        kind=ReturnKind.REFUND_REQUEST if needs_logistics is False else ReturnKind.RETURN,
        status=status,
        state=return_state(status),
        created_at=epoch(_required(data, "create_time"), "create_time"),
        updated_at=instant(data, "update_time", required=False),
        order_external_id=text(data, "order_sn", required=False) or None,
        reason=text(data, "reason", required=False)[:120],
        buyer_comment=text(data, "text_reason", required=False),
        requested_amount=amount(data, "refund_amount", required=False),
        currency=_currency(data, "currency", currency),
        respond_by=respond_by(data),
        lines=lines,
    )


# --- seller chat ---------------------------------------------------------------------------------


def message_body(message: Mapping[str, Any]) -> str:
    kind = text(message, "message_type")
    if kind not in MESSAGE_TYPES:
        raise MappingError(f"unknown message_type {kind!r}", field="message_type")
    content = message.get("content")
    if not isinstance(content, Mapping):
        raise MappingError("content is missing", field="content")
    if kind == "text":
        body = text(message, "content.text")
        if not body.strip():
            raise MappingError("content.text is empty", field="content.text")
        return body
    if kind == "faq":
        return text(message, "content.text", required=False) or "[faq]"
    parts = [MESSAGE_TYPES[kind]]
    for key in ("text", "url", "image_url", "video_url", "order_sn", "item_id", "voucher_code"):
        value = content.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            parts.append(str(value))
    return " ".join(parts)


def media_urls(message: Any) -> list[str]:
    """The links of the picture of an image message (content.url, else content.image_url)."""
    if not isinstance(message, Mapping) or message.get("message_type") != "image":
        return []
    content = message.get("content")
    url = (content.get("url") or content.get("image_url")) if isinstance(content, Mapping) else None
    return [url] if isinstance(url, str) and url else []


def map_message(
    conversation: Mapping[str, Any], message: Mapping[str, Any], *, shop_id: str, downloaded: Any = None
) -> MessageRecord:
    """One sellerchat message. The buyer is the conversation's other party (to_id, to_name); a
    message whose from_shop_id is this shop was written by the seller in Shopee's Seller Centre."""
    message_id = text(message, "message_id")
    conversation_id = text(message, "conversation_id", required=False) or text(conversation, "conversation_id")
    from_shop = text(message, "from_shop_id", required=False)
    from_seller = bool(shop_id) and from_shop == str(shop_id)
    buyer_id = text(conversation, "to_id", required=False) or (
        text(message, "to_id") if from_seller else text(message, "from_id")
    )
    region = message.get("region") or ""
    order_sn = text(message, "source_content.order_sn", required=False) or (
        text(message, "content.order_sn", required=False) if message.get("message_type") == "order" else ""
    )
    files, body = media.message_files("[image]", downloaded, message_body(message))
    return MessageRecord(
        external_id=f"shopee:{message_id}",
        attachments=files,
        buyer=Buyer(
            external_id=buyer_id,
            name=text(conversation, "to_name", required=False),
            country=_country(region),
            language=_language(region),
        ),
        body=body,
        sent_at=epoch(_required(message, "created_timestamp"), "created_timestamp"),
        conversation_id=f"shopee:{conversation_id}",
        order_external_id=order_sn or None,
        from_seller=from_seller,
    )


# --- dispatch ------------------------------------------------------------------------------------


def map_payload(payload: Mapping[str, Any], *, shop_id: str, currency: str = "") -> list[Record]:
    kind = payload.get("kind")
    data = payload.get("data")
    if kind == "push":
        return [IgnoredRecord(reason="push", detail=f"code {payload.get('code')}")]
    if not isinstance(data, Mapping):
        raise MappingError("the record is not an object", field="data")
    if kind == "order":
        return [map_order(data, currency=currency)]
    if kind == "return":
        return [map_return(data, currency=currency)]
    if kind == "message":
        conversation = payload.get("conversation")
        head = conversation if isinstance(conversation, Mapping) else {}
        return [map_message(head, data, shop_id=shop_id, downloaded=payload.get("media"))]
    raise MappingError(f"unknown record kind {kind!r}", field="kind")


def version_key(kind: str, data: Any) -> str:
    """The event id of this version of a record: its id and Shopee's update_time (a message never
    changes: its id alone). A record without an id gets a key that cannot collide with real ones
    (it is quarantined by map_record, with its reason)."""
    ident = {"order": "order_sn", "return": "return_sn", "message": "message_id"}[kind]
    return marketplace.version_key(kind, data, ident=ident, modified="" if kind == "message" else "update_time")


def return_state(status: str) -> ReturnState:
    """`status` in the one vocabulary (RETURN_STATE_OF; a word not there: unknown)."""
    return RETURN_STATE_OF.get(status, ReturnState.UNKNOWN)
