"""Pure mapping: eBay payloads -> the connector contract's records.

Raw records carry a small envelope so that one stream can hold several eBay resources:
`{"kind": "order" | "return" | "inquiry" | "case" | "message" | "notification", "data": {...}}`
where `data` is the platform's JSON exactly as received (for a message also `"conversation"`:
the conversation it belongs to, without its message list). Every error names the field as eBay
spells it (dotted path)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import mimetypes
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aftersales.channels.base import (
    AccountDeletionRecord,
    AttachmentRecord,
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
    ShipAddress,
)

# Sell Fulfillment: orderFulfillmentStatus / orderPaymentStatus / cancelStatus.cancelState
FULFILLMENT_STATUSES = {"NOT_STARTED", "IN_PROGRESS", "FULFILLED"}
PAYMENT_STATUSES = {"PENDING", "PAID", "PARTIALLY_REFUNDED", "FULLY_REFUNDED", "FAILED"}
CANCEL_STATES = {"NONE_REQUESTED", "IN_PROGRESS", "CANCELED"}

# Post-Order v2 enumerations the mapping accepts (anything else is quarantined: a new value must be
# looked at before it is shown to a seller as a deadline-bearing state).
RETURN_STATES = {
    "CLOSED",
    "ESCALATED",
    "ITEM_DELIVERED",
    "ITEM_READY_TO_SHIP",
    "ITEM_SHIPPED",
    "LESS_THAN_A_FULL_REFUND_ISSUED",
    "PARTIAL_REFUND_DECLINED",
    "PARTIAL_REFUND_FAILED",
    "PARTIAL_REFUND_INITIATED",
    "PARTIAL_REFUND_REQUESTED",
    "READY_FOR_SHIPPING",
    "REFUND_INITIATED",
    "REFUND_ISSUED",
    "REPLACED",
    "REPLACEMENT_CLOSED",
    "REPLACEMENT_DELIVERED",
    "REPLACEMENT_LABEL_REQUESTED",
    "REPLACEMENT_REQUESTED",
    "REPLACEMENT_SHIPPED",
    "REPLACEMENT_STARTED",
    "REPLACEMENT_WAITING_FOR_RMA",
    "RETURN_LABEL_REQUESTED",
    "RETURN_REJECTED",
    "RETURN_REQUESTED",
    "RETURN_REQUESTED_TIMEOUT",
    "UNKNOWN",
    "WAITING_FOR_RETURN_LABEL",
    "WAITING_FOR_RMA",
}
# Each Post-Order state / inquiry and case status in the one vocabulary (channels.base.ReturnState).
# eBay's CLOSED says neither who closed nor whether a refund was made: `closed`.
RETURN_STATE_OF: dict[str, ReturnState] = {
    "CLOSED": ReturnState.CLOSED,
    "CS_CLOSED": ReturnState.CLOSED,  # closed by eBay customer service
    "CLOSED_WITH_ESCALATION": ReturnState.ESCALATED,
    "ESCALATED": ReturnState.ESCALATED,
    "WAITING_CS": ReturnState.ESCALATED,
    "ON_HOLD": ReturnState.ESCALATED,
    "OPEN": ReturnState.OPEN,
    "PENDING": ReturnState.OPEN,
    "WAITING_SELLER_RESPONSE": ReturnState.OPEN,
    "WAITING_BUYER_RESPONSE": ReturnState.WAITING_BUYER,
    "OTHER": ReturnState.UNKNOWN,
    "UNKNOWN": ReturnState.UNKNOWN,
    "RETURN_REQUESTED": ReturnState.OPEN,
    "RETURN_REQUESTED_TIMEOUT": ReturnState.OPEN,
    "WAITING_FOR_RMA": ReturnState.OPEN,
    "WAITING_FOR_RETURN_LABEL": ReturnState.OPEN,
    "RETURN_LABEL_REQUESTED": ReturnState.OPEN,
    "PARTIAL_REFUND_REQUESTED": ReturnState.OPEN,
    "PARTIAL_REFUND_DECLINED": ReturnState.OPEN,
    "PARTIAL_REFUND_FAILED": ReturnState.OPEN,
    "PARTIAL_REFUND_INITIATED": ReturnState.WAITING_BUYER,
    "READY_FOR_SHIPPING": ReturnState.WAITING_BUYER,
    "ITEM_READY_TO_SHIP": ReturnState.WAITING_BUYER,
    "ITEM_SHIPPED": ReturnState.WAITING_BUYER,
    "ITEM_DELIVERED": ReturnState.OPEN,  # back with the seller, who refunds
    "REFUND_INITIATED": ReturnState.OPEN,
    "REFUND_ISSUED": ReturnState.COMPLETED,
    "LESS_THAN_A_FULL_REFUND_ISSUED": ReturnState.COMPLETED,
    "RETURN_REJECTED": ReturnState.REJECTED,
    "REPLACED": ReturnState.COMPLETED,
    "REPLACEMENT_CLOSED": ReturnState.COMPLETED,
    "REPLACEMENT_DELIVERED": ReturnState.COMPLETED,
    "REPLACEMENT_LABEL_REQUESTED": ReturnState.OPEN,
    "REPLACEMENT_REQUESTED": ReturnState.OPEN,
    "REPLACEMENT_SHIPPED": ReturnState.WAITING_BUYER,
    "REPLACEMENT_STARTED": ReturnState.OPEN,
    "REPLACEMENT_WAITING_FOR_RMA": ReturnState.OPEN,
}
RETURN_TYPES = {"MONEY_BACK", "REPLACEMENT", "UNKNOWN"}
# ReturnCloseInfoType (`detail.closeInfo` of GET /post-order/v2/return/{returnId}; the search's
# ReturnSummaryType has none): why a CLOSED return was closed. buyerCloseReason
# (BuyerCloseReturnReasonEnum) is there only when the buyer closed it; returnCloseReason
# (CloseReturnReasonEnum) says BUYER_CLOSED for that, or why eBay closed it (refunded, escalated,
# timed out...). The buyer withdrawing the return reads `cancelled` (an RMA follows with reason
# buyer_cancelled); the buyer closing it because they were refunded or opened a chargeback, and every
# other close, read `closed`. docs/connectors/ebay.md cites the reference.
BUYER_CLOSE_REASONS = {
    "BUYER_NO_LONGER_WANTS_RETURN",
    "BUYER_RECEIVED_REFUND",
    "BUYER_RECEIVED_REPLACEMENT",
    "BUYER_STARTED_RETURN_ACCIDENTALLY",
    "CHARGE_BACK_OPENED",
    "OTHER",
    "UNKNOWN",
}
BUYER_WITHDREW = {"BUYER_NO_LONGER_WANTS_RETURN", "BUYER_STARTED_RETURN_ACCIDENTALLY", "OTHER", "UNKNOWN"}
RETURN_CLOSED_BY_BUYER = "BUYER_CLOSED"  # CloseReturnReasonEnum: "closed by the buyer"
INQUIRY_STATUSES = {
    "CLOSED",
    "CLOSED_WITH_ESCALATION",
    "CS_CLOSED",
    "OPEN",
    "OTHER",
    "PENDING",
    "WAITING_BUYER_RESPONSE",
    "WAITING_SELLER_RESPONSE",
}
CASE_STATUSES = {
    "CLOSED",
    "CS_CLOSED",
    "ESCALATED",
    "OPEN",
    "OTHER",
    "WAITING_BUYER_RESPONSE",
    "WAITING_CS",
    "WAITING_SELLER_RESPONSE",
    "ON_HOLD",
}

KINDS = {"order", "return", "inquiry", "case", "message", "notification"}


# --- small typed readers -------------------------------------------------------------------------


def _get(data: Mapping[str, Any], path: str, *, required: bool = True) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping):
            raise MappingError(f"{path} is not an object", field=path)
        node = node.get(part)
        if node is None:
            if required:
                raise MappingError(f"{path} is missing", field=path)
            return None
    return node


def _str(data: Mapping[str, Any], path: str, *, required: bool = True) -> str:
    value = _get(data, path, required=required)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MappingError(f"{path} must be a string, got {type(value).__name__}", field=path)
    text = str(value).strip()
    if required and not text:
        raise MappingError(f"{path} is empty", field=path)
    return text


def _instant(data: Mapping[str, Any], path: str, *, required: bool = True) -> datetime | None:
    raw = _str(data, path, required=required)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MappingError(f"{path} is not an ISO 8601 instant: {raw!r}", field=path) from exc
    if value.tzinfo is None:  # eBay's dates are UTC; a date without offset is read as UTC
        value = value.replace(tzinfo=UTC)
    return value


def _amount(data: Mapping[str, Any], path: str, *, required: bool = True) -> tuple[Decimal | None, str]:
    """eBay's Amount: {"value": "12.50", "currency": "USD"} (Post-Order sometimes sends a number)."""
    node = _get(data, path, required=required)
    if node is None:
        return None, ""
    if not isinstance(node, Mapping):
        raise MappingError(f"{path} must be an amount object", field=path)
    raw = node.get("value")
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise MappingError(f"{path}.value is missing or not a number", field=f"{path}.value")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise MappingError(f"{path}.value is not a number: {raw!r}", field=f"{path}.value") from exc
    if not value.is_finite() or value < 0:
        raise MappingError(f"{path}.value must be a finite amount >= 0: {raw!r}", field=f"{path}.value")
    currency = node.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise MappingError(f"{path}.currency must be an ISO 4217 code", field=f"{path}.currency")
    return value, currency.upper()


def _enum(data: Mapping[str, Any], path: str, allowed: set[str], *, required: bool = True) -> str:
    value = _str(data, path, required=required)
    if value and value not in allowed:
        raise MappingError(f"{path} has an unknown value {value!r}", field=path)
    return value


def _country(value: str) -> str:
    return value.upper() if len(value) == 2 and value.isalpha() else ""


# --- orders (Sell Fulfillment getOrders / getOrder) ---------------------------------------------


def order_status(fulfillment: str, payment: str, cancel_state: str) -> str:
    """One catalog OrderStatus value from eBay's three order-level statuses."""
    if cancel_state == "CANCELED":
        return "cancelled"
    if payment == "FULLY_REFUNDED":
        return "refunded"
    if payment == "PARTIALLY_REFUNDED":
        return "partially_refunded"
    if fulfillment == "FULFILLED":
        return "shipped"
    if fulfillment == "IN_PROGRESS":
        return "partially_shipped"
    if payment in {"PENDING", "FAILED"}:
        return "pending"
    return "unshipped"


def map_order(data: Mapping[str, Any]) -> OrderRecord:
    order_id = _str(data, "orderId")
    fulfillment = _enum(data, "orderFulfillmentStatus", FULFILLMENT_STATUSES)
    payment = _enum(data, "orderPaymentStatus", PAYMENT_STATUSES)
    cancel_state = _enum(data, "cancelStatus.cancelState", CANCEL_STATES, required=False)
    total, currency = _amount(data, "pricingSummary.total")
    assert total is not None
    username = _str(data, "buyer.username")
    ship_to: Mapping[str, Any] = {}
    instructions = data.get("fulfillmentStartInstructions") or []
    if not isinstance(instructions, list):
        raise MappingError("fulfillmentStartInstructions must be a list", field="fulfillmentStartInstructions")
    if instructions and isinstance(instructions[0], Mapping):
        ship_to = (instructions[0].get("shippingStep") or {}).get("shipTo") or {}
    country = _country(str((ship_to.get("contactAddress") or {}).get("countryCode") or ""))
    ship_address = _ship_address(instructions[0] if instructions else {}, ship_to)
    buyer = Buyer(
        external_id=username,
        name=str(ship_to.get("fullName") or ""),
        email=str(ship_to.get("email") or ""),
        country=country or _country(str(((data.get("buyer") or {}).get("taxAddress") or {}).get("countryCode") or "")),
    )
    items = data.get("lineItems")
    if not isinstance(items, list) or not items:
        raise MappingError("lineItems is missing or empty", field="lineItems")
    lines = []
    for index, item in enumerate(items):
        where = f"lineItems[{index}]"
        if not isinstance(item, Mapping):
            raise MappingError(f"{where} must be an object", field=where)
        try:
            quantity = int(item.get("quantity"))  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise MappingError(f"{where}.quantity is not an integer", field=f"{where}.quantity") from exc
        if quantity < 1:
            raise MappingError(f"{where}.quantity must be at least 1", field=f"{where}.quantity")
        try:
            cost, line_currency = _amount(item, "lineItemCost")
        except MappingError as exc:
            raise MappingError(f"{where}.{exc.reason}", field=f"{where}.{exc.field}") from exc
        assert cost is not None
        line_id = str(item.get("lineItemId") or "").strip()
        if not line_id:
            raise MappingError(f"{where}.lineItemId is missing", field=f"{where}.lineItemId")
        lines.append(
            OrderLineRecord(
                external_line_id=line_id,
                sku=str(item.get("sku") or item.get("legacyItemId") or ""),
                quantity=quantity,
                unit_price=(cost / quantity).quantize(Decimal("0.01")),
                currency=line_currency,
                title=str(item.get("title") or "")[:300],
            )
        )
    placed_at = _instant(data, "creationDate")
    assert placed_at is not None
    return OrderRecord(
        external_id=order_id,
        placed_at=placed_at,
        status=order_status(fulfillment, payment, cancel_state),
        total=total,
        currency=currency,
        updated_at=_instant(data, "lastModifiedDate", required=False),
        buyer=buyer,
        ship_country=country,
        lines=lines,
        ship_address=ship_address,
    )


def _ship_address(instruction: Any, ship_to: Mapping[str, Any]) -> ShipAddress | None:
    """The buyer's delivery address (Address: addressLine1/2, city, postalCode, countryCode). For
    eBay's Global Shipping Program / eBay International Shipping (`ebaySupportedFulfillment`) shipTo
    is the shipping partner's domestic hub, shared by every such buyer: the buyer's own address is
    `finalDestinationAddress` (none given: no address)."""
    if not isinstance(instruction, Mapping):
        return None
    if instruction.get("ebaySupportedFulfillment") is True:
        address = instruction.get("finalDestinationAddress")
    else:
        address = ship_to.get("contactAddress")
    if not isinstance(address, Mapping):
        return None
    return ShipAddress.of(
        country=address.get("countryCode"),
        postal_code=address.get("postalCode"),
        lines=(address.get("addressLine1"), address.get("addressLine2")),
        city=address.get("city"),
    )


def order_refunds(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The refunds eBay lists on an order (paymentSummary.refunds): what issue_refund reconciles by."""
    refunds = (data.get("paymentSummary") or {}).get("refunds") or []
    return [r for r in refunds if isinstance(r, Mapping)]


# --- Post-Order v2: returns, inquiries, cases ----------------------------------------------------


def _post_order_buyer(username: str) -> Buyer | None:
    return Buyer(external_id=username) if username else None


def map_return(data: Mapping[str, Any]) -> ReturnRecord:
    """A ReturnSummaryType (return/search members) or a ReturnDetailType's `summary`."""
    close_info: Mapping[str, Any] = {}
    if isinstance(data.get("summary"), Mapping):
        detail = data.get("detail")
        if isinstance(detail, Mapping) and detail.get("closeInfo") is not None:
            close_info = _get(detail, "closeInfo")
            if not isinstance(close_info, Mapping):
                raise MappingError("detail.closeInfo is not an object", field="detail.closeInfo")
        data = data["summary"]
    return_id = _str(data, "returnId")
    state = _enum(data, "state", RETURN_STATES)
    _enum(data, "currentType", RETURN_TYPES, required=False)
    created = _instant(data, "creationInfo.creationDate.value")
    assert created is not None
    amount, currency = _amount(data, "sellerTotalRefund.estimatedRefundAmount", required=False)
    if amount is None:
        amount, currency = _amount(data, "buyerTotalRefund.estimatedRefundAmount", required=False)
    item = _get(data, "creationInfo.item", required=False) or {}
    lines = []
    if item:
        try:
            quantity = int(item.get("returnQuantity") or 1)
        except (TypeError, ValueError) as exc:
            raise MappingError(
                "creationInfo.item.returnQuantity is not an integer", field="creationInfo.item.returnQuantity"
            ) from exc
        lines.append(
            ReturnLineRecord(
                sku=str(item.get("sku") or item.get("itemId") or ""),
                quantity=quantity,
                external_line_id=str(item.get("transactionId") or ""),
                reason=_str(data, "creationInfo.reason", required=False),
            )
        )
    return ReturnRecord(
        external_id=return_id,
        kind=ReturnKind.RETURN,
        status=state,
        state=closed_return_state(state, close_info),
        created_at=created,
        order_external_id=_str(data, "orderId", required=False) or None,
        buyer=_post_order_buyer(_str(data, "buyerLoginName", required=False)),
        reason=_str(data, "creationInfo.reason", required=False),
        buyer_comment=_str(data, "creationInfo.comments.content", required=False),
        requested_amount=amount,
        currency=currency,
        respond_by=_instant(data, "sellerResponseDue.respondByDate.value", required=False),
        updated_at=None,
        lines=lines,
    )


def _dispute(
    data: Mapping[str, Any], *, kind: ReturnKind, id_field: str, status_field: str, statuses: set[str]
) -> ReturnRecord:
    external_id = _str(data, id_field)
    status = _enum(data, status_field, statuses)
    created = _instant(data, "creationDate.value")
    assert created is not None
    amount, currency = _amount(data, "claimAmount", required=False)
    item_id = _str(data, "itemId", required=False)
    transaction_id = _str(data, "transactionId", required=False)
    order_id = _str(data, "orderId", required=False) or (
        f"{item_id}-{transaction_id}" if item_id and transaction_id else ""
    )
    lines = [ReturnLineRecord(sku=item_id, quantity=1, external_line_id=transaction_id)] if item_id else []
    return ReturnRecord(
        external_id=external_id,
        kind=kind,
        status=status,
        state=return_state(status),
        created_at=created,
        order_external_id=order_id or None,
        buyer=_post_order_buyer(_str(data, "buyer", required=False)),
        reason=_str(data, "reason", required=False) or _str(data, "caseType", required=False),
        requested_amount=amount,
        currency=currency,
        respond_by=_instant(data, "respondByDate.value", required=False),
        updated_at=_instant(data, "lastModifiedDate.value", required=False),
        lines=lines,
    )


def map_inquiry(data: Mapping[str, Any]) -> ReturnRecord:
    """An InquirySummaryType (inquiry/search members)."""
    return _dispute(
        data, kind=ReturnKind.INQUIRY, id_field="inquiryId", status_field="inquiryStatusEnum", statuses=INQUIRY_STATUSES
    )


def map_case(data: Mapping[str, Any]) -> ReturnRecord:
    """A CaseSummaryType (casemanagement/search members)."""
    return _dispute(
        data, kind=ReturnKind.CASE, id_field="caseId", status_field="caseStatusEnum", statuses=CASE_STATUSES
    )


# --- Message API (commerce/message/v1) -----------------------------------------------------------


def map_message(conversation: Mapping[str, Any], message: Mapping[str, Any], *, seller_username: str) -> MessageRecord:
    """One message of a conversation (getConversation's `messages`). The other party is the
    conversation's buyer; a message whose sender is the seller is kept as `from_seller`."""
    message_id = _str(message, "messageId")
    sender = _str(message, "senderUsername")
    recipient = _str(message, "recipientUsername", required=False)
    body = _get(message, "messageBody")
    if not isinstance(body, str):
        raise MappingError("messageBody must be a string", field="messageBody")
    sent_at = _instant(message, "createdDate")
    assert sent_at is not None
    from_seller = bool(seller_username) and sender.casefold() == seller_username.casefold()
    buyer_name = recipient if from_seller else sender
    if not buyer_name:
        raise MappingError("recipientUsername is missing on a seller's message", field="recipientUsername")
    reference_type = _str(conversation, "referenceType", required=False)
    reference_id = _str(conversation, "referenceId", required=False)
    return MessageRecord(
        external_id=message_id,
        buyer=Buyer(external_id=buyer_name, name=buyer_name),
        body=body,
        sent_at=sent_at,
        conversation_id=_str(conversation, "conversationId"),
        order_external_id=reference_id if reference_type == "ORDER" and reference_id else None,
        subject=_str(message, "subject", required=False) or _str(conversation, "conversationTitle", required=False),
        from_seller=from_seller,
    )


MEDIA_TYPES = {"IMAGE": "image/jpeg", "PDF": "application/pdf", "DOC": "application/msword", "TXT": "text/plain"}


def map_media(media: Any) -> tuple[list[AttachmentRecord], list[str]]:
    """The downloaded messageMedia (see connector._download_media): attachments, and a line naming
    each file that could not be fetched (so the agent knows the buyer sent it)."""
    if not isinstance(media, list):
        raise MappingError("media must be a list", field="media")
    attachments: list[AttachmentRecord] = []
    missing: list[str] = []
    for index, entry in enumerate(media):
        where = f"media[{index}]"
        if not isinstance(entry, Mapping):
            raise MappingError(f"{where} must be an object", field=where)
        name = str(entry.get("mediaName") or "attachment")
        encoded = entry.get("content_b64")
        if encoded is None:
            missing.append(f"[{name}: not retrieved from eBay ({entry.get('error', 'unknown error')})]")
            continue
        try:
            content = base64.b64decode(str(encoded), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MappingError(f"{where}.content_b64 is not base64", field=f"{where}.content_b64") from exc
        content_type = mimetypes.guess_type(name)[0] or MEDIA_TYPES.get(str(entry.get("mediaType", "")).upper(), "")
        attachments.append(AttachmentRecord(filename=name, content=content, content_type=content_type))
    return attachments, missing


# --- Notification API push envelopes -------------------------------------------------------------


def validate_notification(payload: Any) -> Mapping[str, Any]:
    """Check a push body against platform-specs/ebay/asyncapi.yaml (metadata + notification
    envelope; MarketplaceAccountDeletionData for that topic). Returns the payload; raises
    MappingError naming the first offending field."""
    if not isinstance(payload, Mapping):
        raise MappingError("the notification body must be a JSON object", field="")
    for name, kind in (("metadata", Mapping), ("notification", Mapping)):
        if not isinstance(payload.get(name), kind):
            raise MappingError(f"{name} must be an object", field=name)
    metadata = payload["metadata"]
    notification = payload["notification"]
    for name in ("topic", "schemaVersion"):
        if not isinstance(metadata.get(name), str) or not metadata[name]:
            raise MappingError(f"metadata.{name} must be a non-empty string", field=f"metadata.{name}")
    if "deprecated" in metadata and not isinstance(metadata["deprecated"], bool):
        raise MappingError("metadata.deprecated must be a boolean", field="metadata.deprecated")
    for name in ("notificationId", "eventDate", "publishDate"):
        if not isinstance(notification.get(name), str) or not notification[name]:
            raise MappingError(f"notification.{name} must be a non-empty string", field=f"notification.{name}")
    for name in ("eventDate", "publishDate"):
        try:
            _instant(notification, name)
        except MappingError as exc:
            raise MappingError(f"notification.{exc.reason}", field=f"notification.{name}") from exc
    count = notification.get("publishAttemptCount")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        raise MappingError(
            "notification.publishAttemptCount must be an integer", field="notification.publishAttemptCount"
        )
    data = notification.get("data")
    if data is not None and not isinstance(data, Mapping):
        raise MappingError("notification.data must be an object", field="notification.data")
    if metadata["topic"] == "MARKETPLACE_ACCOUNT_DELETION":
        if data is None:
            raise MappingError("notification.data is missing", field="notification.data")
        for name in ("username", "userId", "eiasToken"):
            if not isinstance(data.get(name), str):
                raise MappingError(f"notification.data.{name} must be a string", field=f"notification.data.{name}")
    return payload


def map_notification(payload: Mapping[str, Any]) -> IgnoredRecord | AccountDeletionRecord:
    """A push is a trigger, not the truth: it opens nothing itself (polling reconciles). An account
    deletion asks us to erase what we hold about that eBay user: its username (our identities of
    eBay buyers) and immutable user id."""
    validate_notification(payload)
    topic = payload["metadata"]["topic"]
    data = payload["notification"].get("data") or {}
    if topic == "MARKETPLACE_ACCOUNT_DELETION":
        ids = tuple(str(data.get(name) or "").strip() for name in ("username", "userId"))
        if not any(ids):
            raise MappingError("notification.data names no username or userId", field="notification.data.username")
        return AccountDeletionRecord(external_ids=tuple(i for i in ids if i))
    return IgnoredRecord(reason="notification", detail=topic)


# --- the envelope --------------------------------------------------------------------------------


def map_payload(payload: Mapping[str, Any], *, seller_username: str) -> list[Record]:
    kind = payload.get("kind")
    if kind not in KINDS:
        raise MappingError(f"unknown record kind {kind!r}", field="kind")
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise MappingError("data must be an object", field="data")
    if kind == "order":
        return [map_order(data)]
    if kind == "return":
        return [map_return(data)]
    if kind == "inquiry":
        return [map_inquiry(data)]
    if kind == "case":
        return [map_case(data)]
    if kind == "message":
        conversation = payload.get("conversation")
        if not isinstance(conversation, Mapping):
            raise MappingError("conversation must be an object", field="conversation")
        record = map_message(conversation, data, seller_username=seller_username)
        media = payload.get("media")
        if media is None:
            return [record]
        attachments, missing = map_media(media)
        body = record.body
        if missing:
            body = (body + "\n\n" if body else "") + "\n".join(missing)
        return [dataclasses.replace(record, body=body, attachments=attachments)]
    return [map_notification(data)]


def _dig(data: Any, *path: str) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, Mapping) else None
    return data


def version_key(kind: str, data: Mapping[str, Any]) -> str:
    """The RawRecord.event_id of one version of a resource: seeing it again unchanged is a no-op,
    a changed status / deadline / modification date is a new version. Never raises (a malformed
    record still gets a key, so that it can be stored and quarantined)."""
    if kind == "order":
        return f"order:{_dig(data, 'orderId')}:{_dig(data, 'lastModifiedDate')}"
    if kind == "return":
        summary = data["summary"] if isinstance(data.get("summary"), Mapping) else data
        due = _dig(summary, "sellerResponseDue", "respondByDate", "value")
        key = f"return:{_dig(summary, 'returnId')}:{_dig(summary, 'state')}:{_dig(summary, 'status')}:{due}"
        closed = _dig(data, "detail", "closeInfo")
        if isinstance(closed, Mapping):  # the detail's close reasons make it a version of its own
            key += f":{_dig(closed, 'returnCloseReason')}:{_dig(closed, 'buyerCloseReason')}"
        return key
    if kind == "inquiry":
        modified = _dig(data, "lastModifiedDate", "value")
        return f"inquiry:{_dig(data, 'inquiryId')}:{_dig(data, 'inquiryStatusEnum')}:{modified}"
    if kind == "case":
        modified = _dig(data, "lastModifiedDate", "value")
        return f"case:{_dig(data, 'caseId')}:{_dig(data, 'caseStatusEnum')}:{modified}"
    if kind == "message":
        return f"message:{_dig(data, 'messageId')}"
    return f"notification:{_dig(data, 'notification', 'notificationId')}"


def closed_return_state(state: str, close_info: Mapping[str, Any]) -> ReturnState:
    """A return's `state` in the one vocabulary, a CLOSED one told apart by its closeInfo: the buyer
    withdrawing it is `cancelled`, any other close `closed` (see BUYER_WITHDREW). A buyerCloseReason
    outside BuyerCloseReturnReasonEnum is a MappingError naming detail.closeInfo.buyerCloseReason."""
    if state != "CLOSED" or not close_info:
        return return_state(state)
    buyer = close_info.get("buyerCloseReason") or ""
    if buyer and buyer not in BUYER_CLOSE_REASONS:
        raise MappingError(
            f"detail.closeInfo.buyerCloseReason {buyer!r} is not a BuyerCloseReturnReasonEnum value",
            field="detail.closeInfo.buyerCloseReason",
        )
    if buyer in BUYER_WITHDREW or (not buyer and close_info.get("returnCloseReason") == RETURN_CLOSED_BY_BUYER):
        return ReturnState.CANCELLED
    return ReturnState.CLOSED


def return_state(status: str) -> ReturnState:
    """`status` in the one vocabulary (RETURN_STATE_OF; a word not there: unknown)."""
    return RETURN_STATE_OF.get(status, ReturnState.UNKNOWN)
