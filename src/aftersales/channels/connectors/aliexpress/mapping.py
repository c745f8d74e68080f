"""Pure mapping: AliExpress Open Platform payloads -> the engine's records (no database, no clock,
no HTTP). Pulled payloads are stored as {"kind": "order" | "issue" | "message", "data": ...}
(messages also carry their "relation", the buyer's message-centre channel), so a quarantined record
is mapped again from the stored payload alone.

AliExpress writes order and issue times as "yyyy-MM-dd HH:mm:ss" in US Pacific time (the order list
documentation says so for its query dates; docs/connectors/aliexpress.md); message times are epoch
milliseconds. Money is {"amount": "12.30", "currency_code": "USD"}. Anything missing, malformed or an
unknown enum value raises MappingError naming AliExpress's field: that record is quarantined."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

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
from aftersales.channels.fields import amount, currency_code, dig, epoch, quantity, required, text

PACIFIC = ZoneInfo("America/Los_Angeles")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# aliexpress.trade.seller.orderlist.get order_status -> our status (OrderStatus values where one
# fits, else AliExpress's word in lower case).
ORDER_STATUSES: dict[str, str] = {
    "PLACE_ORDER_SUCCESS": OrderStatus.PENDING,
    "RISK_CONTROL": OrderStatus.PENDING,
    "WAIT_SELLER_SEND_GOODS": OrderStatus.UNSHIPPED,
    "SELLER_PART_SEND_GOODS": OrderStatus.PARTIALLY_SHIPPED,
    "WAIT_BUYER_ACCEPT_GOODS": OrderStatus.SHIPPED,
    "FUND_PROCESSING": OrderStatus.PROCESSING,
    "WAIT_SELLER_EXAMINE_MONEY": OrderStatus.PROCESSING,
    "IN_CANCEL": "in_cancel",
    "IN_ISSUE": "in_issue",
    "IN_FROZEN": "in_frozen",
    "FINISH": OrderStatus.COMPLETED,
}
# aliexpress.issue.issuelist.get issue_status values (kept as sent on the return request).
ISSUE_STATUSES = frozenset(
    {
        "WAIT_SELLER_CONFIRM_REFUND",
        "SELLER_REFUSE_REFUND",
        "ACCEPTISSUE",
        "WAIT_BUYER_SEND_GOODS",
        "WAIT_SELLER_RECEIVE_GOODS",
        "ARBITRATING",
        "SELLER_RESPONSE_ISSUE_TIMEOUT",
        "processing",
        "canceled",
        "finish",
    }
)
# Each issue_status in the one vocabulary (channels.base.ReturnState).
RETURN_STATE_OF: dict[str, ReturnState] = {
    "WAIT_SELLER_CONFIRM_REFUND": ReturnState.OPEN,
    "processing": ReturnState.OPEN,
    "SELLER_RESPONSE_ISSUE_TIMEOUT": ReturnState.OPEN,
    "WAIT_SELLER_RECEIVE_GOODS": ReturnState.OPEN,
    "SELLER_REFUSE_REFUND": ReturnState.REJECTED,
    "ACCEPTISSUE": ReturnState.WAITING_BUYER,
    "WAIT_BUYER_SEND_GOODS": ReturnState.WAITING_BUYER,
    "ARBITRATING": ReturnState.ESCALATED,
    "canceled": ReturnState.CANCELLED,  # the buyer cancelled the dispute
    "finish": ReturnState.COMPLETED,
}
# Issues the seller can still answer with a solution.
OPEN_ISSUE_STATUSES = frozenset({"WAIT_SELLER_CONFIRM_REFUND", "SELLER_REFUSE_REFUND", "processing"})
# Issue statuses after which the buyer is waiting for the goods to come back (a return).
RETURN_ISSUE_STATUSES = frozenset({"WAIT_BUYER_SEND_GOODS", "WAIT_SELLER_RECEIVE_GOODS"})
# Message-centre message_type values and how a non-text one shows in the ticket.
MESSAGE_TYPES = {"text": "", "image": "[image]", "product": "[product]", "order": "[order]", "sticker": "[sticker]"}


def pacific_time(data: Mapping[str, Any], path: str, *, required_: bool = True) -> datetime | None:
    """A "yyyy-MM-dd HH:mm:ss" in US Pacific time, as an aware datetime."""
    value = dig(data, path)
    if value in (None, "") and not required_:
        return None
    if not isinstance(value, str):
        raise MappingError(f"{path} is not a date: {value!r}"[:200], field=path)
    try:
        return datetime.strptime(value.strip(), TIME_FORMAT).replace(tzinfo=PACIFIC)
    except ValueError as exc:
        raise MappingError(f"{path} is not a date: {value!r}"[:200], field=path) from exc


def _money(data: Mapping[str, Any], path: str, default_currency: str) -> tuple[Decimal, str]:
    value = amount(data, f"{path}.amount")
    assert value is not None
    return value, currency_code(data, f"{path}.currency_code", default_currency)


def _list(data: Mapping[str, Any], path: str, item: str) -> list[Any]:
    """AliExpress wraps lists: {"product_list": {"order_product_dto": [...]}} (sometimes bare)."""
    value = dig(data, path)
    if isinstance(value, Mapping):
        value = value.get(item)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MappingError(f"{path} is not a list", field=path)
    return value


def map_order(data: Mapping[str, Any], *, currency: str = "") -> OrderRecord:
    order_id = text(data, "order_id")
    status_word = str(required(data, "order_status"))
    if status_word not in ORDER_STATUSES:
        raise MappingError(f"unknown order_status {status_word!r}", field="order_status")
    total, total_currency = _money(data, "pay_amount", currency or "USD")
    lines: list[OrderLineRecord] = []
    for n, product in enumerate(_list(data, "product_list", "order_product_dto")):
        if not isinstance(product, Mapping):
            raise MappingError("a product_list entry is not an object", field=f"product_list[{n}]")
        try:
            count = quantity(product, "product_count")
            price, price_currency = _money(product, "product_unit_price", total_currency)
            line_id = text(product, "child_id")
        except MappingError as exc:
            raise MappingError(exc.reason, field=f"product_list[{n}].{exc.field}") from exc
        lines.append(
            OrderLineRecord(
                external_line_id=line_id,
                sku=str(product.get("sku_code") or product.get("product_id") or ""),
                quantity=count,
                unit_price=price,
                currency=price_currency,
                title=str(product.get("product_name") or ""),
            )
        )
    buyer_id = text(data, "buyer_login_id")
    placed = pacific_time(data, "gmt_create")
    assert placed is not None
    return OrderRecord(
        external_id=order_id,
        placed_at=placed,
        status=ORDER_STATUSES[status_word],
        total=total,
        currency=total_currency,
        updated_at=pacific_time(data, "gmt_update", required_=False),
        buyer=Buyer(external_id=buyer_id, name=str(data.get("buyer_signer_fullname") or "")),
        lines=lines,
    )


def map_issue(data: Mapping[str, Any], *, currency: str = "") -> ReturnRecord:
    """An issue (AliExpress's dispute: refund only, or return and refund)."""
    issue_id = text(data, "id")
    status = str(required(data, "issue_status"))
    if status not in ISSUE_STATUSES:
        raise MappingError(f"unknown issue_status {status!r}", field="issue_status")
    requested = None
    requested_currency = currency
    if dig(data, "refund_money_post") is not None:
        requested, requested_currency = _money(data, "refund_money_post", currency or "USD")
    created = pacific_time(data, "gmt_create")
    assert created is not None
    buyer_id = text(data, "buyer_login_id")
    return ReturnRecord(
        external_id=issue_id,
        kind=ReturnKind.RETURN if status in RETURN_ISSUE_STATUSES else ReturnKind.REFUND_REQUEST,
        status=status,
        state=return_state(status),
        created_at=created,
        order_external_id=text(data, "parent_order_id", required=False) or text(data, "order_id"),
        buyer=Buyer(external_id=buyer_id),
        reason=str(data.get("reason_english") or data.get("reason_chinese") or ""),
        requested_amount=requested,
        currency=requested_currency,
        updated_at=pacific_time(data, "gmt_modified", required_=False),
    )


def media_urls(message: Any) -> list[str]:
    """The picture of an image message: its `content` is the picture's link (an assumption: see
    docs/connectors/aliexpress.md)."""
    if not isinstance(message, Mapping) or message.get("message_type") != "image":
        return []
    url = message.get("content")
    return [url] if isinstance(url, str) and url.startswith(("https://", "http://")) else []


def map_message(relation: Mapping[str, Any], message: Mapping[str, Any], downloaded: Any = None) -> MessageRecord:
    """One message-centre message. The relation's other_login_id is the buyer; a message whose
    sender is not the buyer was written by the seller on AliExpress (kept, opens nothing)."""
    message_id = text(message, "id")
    kind = str(message.get("message_type") or "text")
    if kind not in MESSAGE_TYPES:
        raise MappingError(f"unknown message_type {kind!r}", field="message_type")
    buyer_id = text(relation, "other_login_id")
    content = text(message, "content", required=kind == "text")
    body = f"{MESSAGE_TYPES[kind]} {content}".strip() if MESSAGE_TYPES[kind] else content
    files, body = media.message_files("[image]", downloaded, body)
    return MessageRecord(
        external_id=f"aliexpress:{message_id}",
        attachments=files,
        buyer=Buyer(external_id=buyer_id, name=str(relation.get("other_name") or "")),
        body=body,
        sent_at=epoch(required(message, "gmt_create"), "gmt_create"),
        conversation_id=text(relation, "channel_id"),
        order_external_id=text(message, "summary.order_id", required=False) or None,
        from_seller=text(message, "sender_login_id") != buyer_id,
    )


def map_payload(payload: Mapping[str, Any], *, currency: str = "") -> list[Record]:
    kind, data = payload.get("kind"), payload.get("data")
    if not isinstance(data, Mapping):
        raise MappingError("the stored payload has no data object", field="data")
    if kind == "order":
        return [map_order(data, currency=currency)]
    if kind == "issue":
        return [map_issue(data, currency=currency)]
    if kind == "message":
        relation = payload.get("relation")
        if not isinstance(relation, Mapping):
            raise MappingError("the stored message has no relation", field="relation")
        return [map_message(relation, data, payload.get("media"))]
    raise MappingError(f"unknown payload kind {kind!r}", field="kind")


def version_key(kind: str, data: Any) -> str:
    """The event id of this version of a record: its id and its modification time (a message never
    changes: its id alone). A record without an id gets a key that cannot collide with real ones."""
    ident, modified = {"order": ("order_id", "gmt_update"), "issue": ("id", "gmt_modified")}.get(kind, ("id", ""))
    return marketplace.version_key(kind, data, ident=ident, modified=modified, malformed="no-id")


def return_state(status: str) -> ReturnState:
    """`status` in the one vocabulary (RETURN_STATE_OF; a word not there: unknown)."""
    return RETURN_STATE_OF.get(status, ReturnState.UNKNOWN)
