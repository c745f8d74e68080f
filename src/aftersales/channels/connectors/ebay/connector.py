"""eBay connector: pulls orders (Sell Fulfillment), buyer messages (Message API) and returns,
inquiries and cases (Post-Order v2, polled: they have no REST push topic), verifies Notification API
pushes, and writes back (messages, return decisions, labels, refunds)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import quote

from aftersales.channels.base import (
    Capability,
    ConnectionCheck,
    ConnectorError,
    OutboundReply,
    Page,
    RawRecord,
    Record,
    RefundReceipt,
    RefundRequest,
    RefundState,
    ReturnDecision,
    ReturnDecisionKind,
    ReturnKind,
    ReturnLabel,
    SentReceipt,
    ShipmentConfirmation,
    StoreContext,
    Stream,
    WriteReceipt,
)
from aftersales.channels.replies import reply_text, send_through_store
from aftersales.core.clock import now

from . import mapping
from .client import PRODUCTION, EbayClient
from .limits import MEDIA_PER_MESSAGE, MESSAGE_MAX_CHARS, REPLY_IMAGE_MAX_BYTES, REPLY_IMAGE_TYPES
from .media import download_media, in_window
from .webhooks import challenge_response, verify_push

ORDERS_PATH = "/sell/fulfillment/v1/order"
RETURN_PATH = "/post-order/v2/return"
CONVERSATIONS_PATH = "/commerce/message/v1/conversation"
SEND_MESSAGE_PATH = "/commerce/message/v1/send_message"
SEARCH_PATHS = {
    "return": ("/post-order/v2/return/search", "creation_date_range_from", "creation_date_range_to"),
    "return_closed": ("/post-order/v2/return/search", "creation_date_range_from", "creation_date_range_to"),
    "inquiry": ("/post-order/v2/inquiry/search", "inquiry_creation_date_range_from", "inquiry_creation_date_range_to"),
    "case": ("/post-order/v2/casemanagement/search", "case_creation_date_range_from", "case_creation_date_range_to"),
}
RETURN_PHASES = ("return", "return_closed", "inquiry", "case")
# Without `return_state` eBay's return search answers open returns only (ReturnCountFilterEnum
# ALL_OPEN, per CountSummaryType): the "return_closed" phase asks for CLOSED ones, and reads each new
# one's detail (GET /post-order/v2/return/{returnId}: its closeInfo says who closed it), once. The ids
# already read are kept in the cursor (the last CLOSED_DETAILS_KEPT; a closed return is terminal), so
# the passes re-reading RETURNS_REFRESH neither call again nor emit the summary alone.
RETURN_SEARCH_STATE = {"return_closed": "CLOSED"}
CLOSED_DETAILS_KEPT = 2000
# Media API: a reply's images are uploaded to eBay Picture Services first, then sent by URL.
CREATE_IMAGE_PATH = "/commerce/media/v1_beta/image/create_image_from_file"

# How far back a first sync looks, and how much each pass re-reads of the previous one. Post-Order
# searches filter on the creation date only, so a return's later changes are seen by re-reading
# the returns created within RETURNS_REFRESH (its version key makes an unchanged one a no-op).
DEFAULT_LOOKBACK = timedelta(days=30)
OVERLAP = timedelta(minutes=10)
RETURNS_REFRESH = timedelta(days=30)
PAGE_SIZE = 50
# Post-Order searches: the return-search reference reads `offset` as the 1-based page number
# (paginationOutput.totalPages says how many); eBay's generic PaginationOutput type page describes
# entries skipped instead. Page numbers are used (the fake speaks them); False switches to entries.
POST_ORDER_OFFSET_IS_PAGE = True

RETURN_REFUNDED_STATES = {"REFUND_ISSUED", "LESS_THAN_A_FULL_REFUND_ISSUED"}
REFUND_STATES = {"REFUNDED": RefundState.SUCCEEDED, "FAILED": RefundState.FAILED, "PENDING": RefundState.PENDING}
REFUND_REASONS = {
    "BUYER_CANCEL",
    "BUYER_RETURN",
    "ITEM_NOT_RECEIVED",
    "SELLER_WRONG_ITEM",
    "SELLER_OUT_OF_STOCK",
    "SELLER_FOUND_CHEAPER_PRICE",
    "OTHER",
}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _cursor(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ConnectorError(f"unreadable eBay cursor {raw[:80]!r}", permanent=True) from exc
    return data if isinstance(data, dict) else {}


class EbayConnector:
    platform = "ebay"
    default_base_url = PRODUCTION["api"]
    capabilities = frozenset(
        {
            Capability.PULL_ORDERS,
            Capability.PULL_MESSAGES,
            Capability.PULL_RETURNS,
            Capability.WEBHOOKS,
            Capability.SEND_MESSAGE,
            Capability.DECIDE_RETURN,
            Capability.ISSUE_REFUND,
            Capability.MARK_SHIPPED,
            Capability.TEST_CONNECTION,
            Capability.FETCH_RETURN_LABEL,
        }
    )
    # Return statuses (ReturnStatusEnum) in which eBay has issued the return shipping label, so the
    # sync fetches it (returns.rma_labels). READY_FOR_SHIPPING: the buyer can print it and ship.
    return_label_statuses = frozenset({"READY_FOR_SHIPPING"})
    # {bucket: (calls per second, burst)} per store. eBay's limits are daily quotas per eBay
    # application ("API Call Limits" on developer.ebay.com; OAuth: 50,000 refresh-token and 1,000
    # client-credentials grants a day), shared by every store of the app, so a per-store bucket
    # cannot enforce them: these pace one store's calls (no bursts hammering eBay) and a 429 when a
    # quota is spent is honoured with its Retry-After, recorded for the store's other workers.
    rate_limits = {
        "ebay:fulfillment": (2.0, 100),
        "ebay:post-order": (2.0, 100),
        "ebay:message": (2.0, 100),
        "ebay:notification": (1.0, 10),
        "ebay:identity": (0.5, 5),
        "ebay:media": (5.0, 20),
    }

    # The credentials a store must have (channels/credentials.py declares every key this connector
    # reads; see client.py's docstring).
    credential_fields: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "refresh_token")

    def __init__(self, **client_options: Any) -> None:
        # Tests inject sleep/clock/transport here; production uses the defaults.
        self.client_options = client_options

    @contextmanager
    def client(self, ctx: StoreContext) -> Iterator[EbayClient]:
        client = EbayClient(ctx, **self.client_options)
        try:
            yield client
        finally:
            client.close()

    # -- pulling ---------------------------------------------------------------------------------
    def pull(self, ctx: StoreContext, stream: Stream, cursor: str | None, since: datetime | None) -> Page:
        with self.client(ctx) as client:
            if stream == Stream.ORDERS:
                return self._pull_orders(client, _cursor(cursor), since)
            if stream == Stream.MESSAGES:
                return self._pull_messages(client, _cursor(cursor), since)
            if stream == Stream.RETURNS:
                return self._pull_returns(client, _cursor(cursor), since)
        raise ConnectorError(f"eBay has no {stream} stream", permanent=True)

    def _window(self, state: dict[str, Any], since: datetime | None, overlap: timedelta) -> tuple[str, str]:
        """The [from, to] of the current pass: frozen at its first page so that paging is stable;
        a new pass starts `overlap` before where the previous one ended."""
        try:
            if state.get("from") and state.get("to"):
                return _iso(_parse(str(state["from"]))), _iso(_parse(str(state["to"])))
            start = state.get("next_from")
            begin = _parse(str(start)) - overlap if start else since or (now() - DEFAULT_LOOKBACK)
        except ValueError as exc:
            raise ConnectorError(f"unreadable eBay cursor dates {state!r}"[:200], permanent=True) from exc
        return _iso(begin), _iso(now())

    def _pull_orders(self, client: EbayClient, state: dict[str, Any], since: datetime | None) -> Page:
        start, end = self._window(state, since, OVERLAP)
        offset = int(state.get("offset") or 0)
        data = client.json(
            "GET",
            ORDERS_PATH,
            params={"filter": f"lastmodifieddate:[{start}..{end}]", "limit": PAGE_SIZE, "offset": offset},
            bucket="ebay:fulfillment",
        )
        orders = data.get("orders") if isinstance(data, Mapping) else None
        if not isinstance(orders, list):
            raise ConnectorError("eBay getOrders answered without an orders list")
        records = [
            RawRecord(
                stream=Stream.ORDERS,
                event_id=mapping.version_key("order", o if isinstance(o, Mapping) else {}),
                payload={"kind": "order", "data": o},
            )
            for o in orders
        ]
        total = int(data.get("total") or 0)
        if orders and offset + len(orders) < total:
            return Page(records, json.dumps({"from": start, "to": end, "offset": offset + len(orders)}), done=False)
        return Page(records, json.dumps({"next_from": end}), done=True)

    def _pull_returns(self, client: EbayClient, state: dict[str, Any], since: datetime | None) -> Page:
        start, end = self._window(state, since, RETURNS_REFRESH)
        phase = state.get("phase") or RETURN_PHASES[0]
        if phase not in RETURN_PHASES:
            raise ConnectorError(f"unreadable eBay returns cursor phase {phase!r}", permanent=True)
        page = int(state.get("page") or 1)
        offset = page if POST_ORDER_OFFSET_IS_PAGE else (page - 1) * PAGE_SIZE
        path, from_param, to_param = SEARCH_PATHS[phase]
        params: dict[str, Any] = {from_param: start, to_param: end, "limit": PAGE_SIZE, "offset": offset}
        if phase in RETURN_SEARCH_STATE:
            params["return_state"] = RETURN_SEARCH_STATE[phase]
        data = client.json("GET", path, auth="iaf", params=params, bucket="ebay:post-order")
        members = data.get("members", []) if isinstance(data, Mapping) else None
        if not isinstance(members, list):
            raise ConnectorError(f"eBay {phase} search answered without a members list")
        kind = "return" if phase == "return_closed" else phase
        detailed = [str(i) for i in state.get("closed_detailed") or [] if i]
        if phase == "return_closed":
            members = self._closed_details(client, members, detailed)
        records = [
            RawRecord(
                stream=Stream.RETURNS,
                event_id=mapping.version_key(kind, m if isinstance(m, Mapping) else {}),
                payload={"kind": kind, "data": m},
            )
            for m in members
        ]
        pagination = data.get("paginationOutput") or {}
        total_pages = int(pagination.get("totalPages") or 0) if isinstance(pagination, Mapping) else 0
        kept = {"closed_detailed": detailed[-CLOSED_DETAILS_KEPT:]} if detailed else {}
        window = {"from": start, "to": end, **kept}
        if data.get("members") and page < total_pages:
            return Page(records, json.dumps({**window, "phase": phase, "page": page + 1}), done=False)
        following = RETURN_PHASES.index(phase) + 1
        if following < len(RETURN_PHASES):
            return Page(records, json.dumps({**window, "phase": RETURN_PHASES[following], "page": 1}), done=False)
        return Page(records, json.dumps({"next_from": end, **kept}), done=True)

    def _closed_details(self, client: EbayClient, members: list[Any], detailed: list[str]) -> list[Any]:
        """The closed-return search's members as they are emitted: a CLOSED return not read yet is
        replaced by its detail (GET /post-order/v2/return/{returnId}: summary + detail.closeInfo) and
        its id appended to `detailed`; one already read is left out (closed is terminal). A return gone
        between the search and the call (404) is emitted as its summary."""
        seen = set(detailed)
        emitted: list[Any] = []
        for member in members:
            return_id = str(member.get("returnId") or "") if isinstance(member, Mapping) else ""
            if not return_id or member.get("state") != "CLOSED":
                emitted.append(member)
                continue
            if return_id in seen:
                continue
            try:
                detail = client.json(
                    "GET", f"{RETURN_PATH}/{quote(return_id, safe='')}", auth="iaf", bucket="ebay:post-order"
                )
            except ConnectorError as exc:
                if exc.status != 404:
                    raise
                detail = member
            emitted.append(detail if isinstance(detail, Mapping) and detail.get("summary") else member)
            seen.add(return_id)
            detailed.append(return_id)
        return emitted

    def _pull_messages(self, client: EbayClient, state: dict[str, Any], since: datetime | None) -> Page:
        """One page of conversations with activity in the window, each expanded into its messages."""
        start, end = self._window(state, since, OVERLAP)
        offset = int(state.get("offset") or 0)
        data = client.json(
            "GET",
            CONVERSATIONS_PATH,
            params={
                "conversation_type": "FROM_MEMBERS",
                "start_time": start,
                "end_time": end,
                "limit": PAGE_SIZE,
                "offset": offset,
            },
            bucket="ebay:message",
        )
        conversations = data.get("conversations") if isinstance(data, Mapping) else None
        if not isinstance(conversations, list):
            raise ConnectorError("eBay getConversations answered without a conversations list")
        records: list[RawRecord] = []
        for conversation in conversations:
            conversation_id = conversation.get("conversationId") if isinstance(conversation, Mapping) else None
            if not isinstance(conversation_id, str) or not conversation_id:
                records.append(
                    RawRecord(
                        stream=Stream.MESSAGES,
                        event_id="conversation:malformed:"
                        + hashlib.sha256(json.dumps(conversation, sort_keys=True, default=str).encode()).hexdigest(),
                        payload={"kind": "message", "conversation": conversation, "data": {}},
                    )
                )
                continue
            head = {k: v for k, v in conversation.items() if k not in ("messages", "latestMessage")}
            for message in self._new_messages(client, conversation, conversation_id):
                payload: dict[str, Any] = {"kind": "message", "conversation": head, "data": message}
                if isinstance(message, Mapping) and message.get("messageMedia") and in_window(message, start):
                    payload["media"] = download_media(client, message["messageMedia"])
                records.append(
                    RawRecord(
                        stream=Stream.MESSAGES,
                        event_id=mapping.version_key("message", message if isinstance(message, Mapping) else {}),
                        payload=payload,
                    )
                )
        total = int(data.get("total") or 0)
        if conversations and offset + len(conversations) < total:
            return Page(records, json.dumps({"from": start, "to": end, "offset": offset + len(conversations)}), False)
        return Page(records, json.dumps({"next_from": end}), done=True)

    def _new_messages(self, client: EbayClient, conversation: Mapping[str, Any], conversation_id: str) -> list[Any]:
        """A conversation whose latest message is its first (same creation instant: a new buyer
        question, the common case) is complete in getConversations' `latestMessage`: no call. Any
        other is read with getConversation (eBay's list gives only the latest message)."""
        latest = conversation.get("latestMessage")
        if (
            isinstance(latest, Mapping)
            and latest.get("messageId")
            and latest.get("createdDate")
            and latest.get("createdDate") == conversation.get("createdDate")
        ):
            return [latest]
        return self._conversation_messages(client, conversation_id)

    def _conversation_messages(self, client: EbayClient, conversation_id: str) -> list[Any]:
        messages: list[Any] = []
        offset = 0
        while True:
            try:
                data = client.json(
                    "GET",
                    f"{CONVERSATIONS_PATH}/{quote(conversation_id, safe='')}",
                    params={"conversation_type": "FROM_MEMBERS", "limit": PAGE_SIZE, "offset": offset},
                    bucket="ebay:message",
                )
            except ConnectorError as exc:
                if exc.status == 404:  # deleted between the list and this call: nothing to read, go on
                    return messages
                raise
            batch = data.get("messages") if isinstance(data, Mapping) else None
            if not isinstance(batch, list):
                raise ConnectorError("eBay getConversation answered without a messages list")
            messages.extend(batch)
            offset += len(batch)
            if not batch or offset >= int(data.get("total") or 0):
                return messages

    def map_record(self, ctx: StoreContext, raw: RawRecord) -> list[Record]:
        return mapping.map_payload(raw.payload, seller_username=ctx.seller_id)

    def test_connection(self, ctx: StoreContext) -> ConnectionCheck:
        try:
            with self.client(ctx) as client:
                data = client.json("GET", ORDERS_PATH, params={"limit": 1}, bucket="ebay:fulfillment")
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, detail=str(exc))
        return ConnectionCheck(ok=True, detail=f"eBay answered: {int(data.get('total') or 0)} orders visible")

    # -- webhooks --------------------------------------------------------------------------------
    def verify_webhook(self, ctx: StoreContext, headers: Mapping[str, str], body: bytes) -> list[RawRecord]:
        with self.client(ctx) as client:
            return verify_push(client, headers, body)

    def webhook_challenge(self, ctx: StoreContext, challenge_code: str, endpoint_url: str) -> dict[str, str]:
        """The answer to eBay's GET <endpoint>?challenge_code=...: the endpoint URL is the one
        registered with eBay (credentials["endpoint_url"] when set, else the URL called)."""
        token = str(ctx.credentials.get("verification_token") or "")
        if not token:
            raise ConnectorError("the store has no Notification API verification_token", permanent=True)
        endpoint = str(ctx.credentials.get("endpoint_url") or endpoint_url)
        return {"challengeResponse": challenge_response(challenge_code, token, endpoint)}

    # -- write-backs -----------------------------------------------------------------------------
    def send_reply(self, reply: OutboundReply) -> SentReceipt:
        return send_through_store(self, reply)

    def send_message(self, ctx: StoreContext, reply: OutboundReply) -> SentReceipt:
        text = reply_text(reply, limit=MESSAGE_MAX_CHARS, platform="eBay", code="messageText")
        check_reply_media(reply.attachments)
        body: dict[str, Any] = {"messageText": text}
        if reply.conversation_id:
            body["conversationId"] = reply.conversation_id
        else:
            body["otherPartyUsername"] = reply.customer_address
            if reply.order_external_id:
                body["reference"] = {"referenceId": reply.order_external_id, "referenceType": "ORDER"}
        with self.client(ctx) as client:
            if reply.attachments:
                body["messageMedia"] = [
                    {"mediaName": name, "mediaType": "IMAGE", "mediaUrl": upload_image(client, name, content, kind)}
                    for name, content, kind in reply.attachments
                ]
            data = client.json("POST", SEND_MESSAGE_PATH, json_body=body, bucket="ebay:message")
        message_id = data.get("messageId") if isinstance(data, Mapping) else None
        if not message_id:
            raise ConnectorError("eBay accepted the message without a messageId")
        sent = data.get("createdDate")
        return SentReceipt(external_id=str(message_id), sent_at=_parse(sent) if isinstance(sent, str) else now())

    def decide_return(self, ctx: StoreContext, decision: ReturnDecision) -> WriteReceipt:
        with self.client(ctx) as client:
            if decision.kind == ReturnKind.RETURN:
                return self._decide_return(client, decision)
            if decision.kind in (ReturnKind.INQUIRY, ReturnKind.CASE):
                return self._decide_dispute(client, decision)
        raise ConnectorError(f"eBay has no {decision.kind} decisions", permanent=True)

    def _decide_return(self, client: EbayClient, decision: ReturnDecision) -> WriteReceipt:
        base = f"/post-order/v2/return/{quote(decision.return_external_id, safe='')}"
        comments = {"comments": {"content": decision.comment}} if decision.comment else {}
        kind = decision.decision
        if kind in (
            ReturnDecisionKind.APPROVE,
            ReturnDecisionKind.DECLINE,
            ReturnDecisionKind.OFFER_PARTIAL_REFUND,
            ReturnDecisionKind.PROVIDE_RMA,
        ):
            body: dict[str, Any] = {"decision": kind.upper(), **comments}
            if kind == ReturnDecisionKind.OFFER_PARTIAL_REFUND:
                if decision.amount is None or decision.amount <= 0 or not decision.currency:
                    raise ConnectorError("a partial refund offer needs an amount and a currency", permanent=True)
                body["partialRefundAmount"] = {"value": _money(decision.amount), "currency": decision.currency}
            if kind == ReturnDecisionKind.PROVIDE_RMA:
                if not decision.rma_number:
                    raise ConnectorError("PROVIDE_RMA needs an RMA number", permanent=True)
                body["RMANumber"] = decision.rma_number
            if kind == ReturnDecisionKind.APPROVE and decision.rma_number:
                body["RMANumber"] = decision.rma_number
            client.json("POST", f"{base}/decide", auth="iaf", json_body=body, signed=True, bucket="ebay:post-order")
            return WriteReceipt(external_id=decision.return_external_id, detail=f"decide {kind.upper()}")
        if kind == ReturnDecisionKind.PROVIDE_LABEL:
            detail = []
            if decision.label is not None:
                upload = client.json(
                    "POST",
                    f"{base}/file/upload",
                    auth="iaf",
                    json_body={
                        "fileName": decision.label.filename,
                        "data": base64.b64encode(decision.label.content).decode(),
                        "filePurpose": "LABEL_RELATED",
                    },
                    bucket="ebay:post-order",
                )
                client.json(
                    "POST",
                    f"{base}/file/submit",
                    auth="iaf",
                    json_body={"filePurpose": "LABEL_RELATED"},
                    bucket="ebay:post-order",
                )
                detail.append(f"label file {upload.get('fileId', '')}")
            if decision.tracking_number:
                client.json(
                    "POST",
                    f"{base}/add_shipping_label",
                    auth="iaf",
                    json_body={
                        "carrierName": decision.carrier,
                        "trackingNumber": decision.tracking_number,
                        **comments,
                    },
                    bucket="ebay:post-order",
                )
                detail.append(f"tracking {decision.tracking_number}")
            if not detail:
                raise ConnectorError("a return label needs a label file or a tracking number", permanent=True)
            return WriteReceipt(external_id=decision.return_external_id, detail=", ".join(detail))
        if kind == ReturnDecisionKind.MARK_RECEIVED:
            client.json("POST", f"{base}/mark_as_received", auth="iaf", json_body=comments, bucket="ebay:post-order")
            return WriteReceipt(external_id=decision.return_external_id, detail="mark_as_received")
        raise ConnectorError(f"eBay returns have no {kind} decision", permanent=True)

    def fetch_return_label(self, ctx: StoreContext, return_external_id: str) -> ReturnLabel | None:
        """eBay's return shipping label: GET /post-order/v2/return/{returnId}/get_shipping_label
        (GetShippingLabelResponse: labelContent base64, labelFormat, carrier, trackingNumber). None
        when eBay has no label for the return yet (an error answer, or no labelContent)."""
        path = f"{RETURN_PATH}/{quote(return_external_id, safe='')}/get_shipping_label"
        with self.client(ctx) as client:
            try:
                data = client.json("GET", path, auth="iaf", bucket="ebay:post-order")
            except ConnectorError as exc:
                if exc.permanent:
                    return None  # no label for this return (eBay: initiate_shipping_label first)
                raise
        content = data.get("labelContent") if isinstance(data, Mapping) else None
        if not isinstance(content, str) or not content:
            return None
        try:
            raw = base64.b64decode(content, validate=True)
        except ValueError as exc:
            raise ConnectorError("eBay's labelContent is not base64", permanent=True) from exc
        label_format = str(data.get("labelFormat") or "PDF").lower()
        return ReturnLabel(
            content=raw,
            filename=f"ebay-return-{return_external_id}-label.{label_format}",
            carrier=str(data.get("carrier") or "")[:80],
            tracking_number=str(data.get("trackingNumber") or "")[:80],
        )

    def _decide_dispute(self, client: EbayClient, decision: ReturnDecision) -> WriteReceipt:
        """Inquiries and cases: APPROVE refunds the buyer in full (issue_refund), PROVIDE_LABEL
        with a tracking number provides the shipment info, DECLINE on a case is an appeal."""
        resource = "inquiry" if decision.kind == ReturnKind.INQUIRY else "casemanagement"
        base = f"/post-order/v2/{resource}/{quote(decision.return_external_id, safe='')}"
        comments = {"comments": {"content": decision.comment}} if decision.comment else {}
        kind = decision.decision
        if kind == ReturnDecisionKind.APPROVE:
            data = client.json(
                "POST", f"{base}/issue_refund", auth="iaf", json_body=comments, signed=True, bucket="ebay:post-order"
            )
            result = data.get("refundResult") if isinstance(data, Mapping) else None
            status = result.get("refundStatus", "") if isinstance(result, Mapping) else ""
            return WriteReceipt(external_id=decision.return_external_id, detail=f"issue_refund {status}".strip())
        if kind == ReturnDecisionKind.PROVIDE_LABEL:
            if not decision.tracking_number or not decision.carrier:
                raise ConnectorError("shipment info needs a carrier and a tracking number", permanent=True)
            client.json(
                "POST",
                f"{base}/provide_shipment_info",
                auth="iaf",
                json_body={
                    "shippingCarrierName": decision.carrier,
                    "trackingNumber": decision.tracking_number,
                    **comments,
                },
                bucket="ebay:post-order",
            )
            return WriteReceipt(external_id=decision.return_external_id, detail="provide_shipment_info")
        if kind == ReturnDecisionKind.DECLINE and decision.kind == ReturnKind.CASE:
            if not decision.comment:
                raise ConnectorError("an appeal needs a comment", permanent=True)
            client.json(
                "POST",
                f"{base}/appeal",
                auth="iaf",
                json_body={"comments": {"content": decision.comment}},
                bucket="ebay:post-order",
            )
            return WriteReceipt(external_id=decision.return_external_id, detail="appeal")
        raise ConnectorError(f"eBay {decision.kind}s have no {kind} decision", permanent=True)

    # -- refunds (Sell Fulfillment issue_refund; no idempotency header: reconcile first) ----------
    def _order(self, client: EbayClient, order_id: str) -> Mapping[str, Any]:
        data = client.json("GET", f"{ORDERS_PATH}/{quote(order_id, safe='')}", bucket="ebay:fulfillment")
        if not isinstance(data, Mapping):
            raise ConnectorError("eBay getOrder answered something else than an order")
        return data

    @staticmethod
    def _receipt(refund: Mapping[str, Any], detail: str = "") -> RefundReceipt:
        state = REFUND_STATES.get(str(refund.get("refundStatus", "")).upper(), RefundState.PENDING)
        return RefundReceipt(external_id=str(refund.get("refundId", "")), state=state, detail=detail)

    def issue_refund(self, ctx: StoreContext, refund: RefundRequest) -> RefundReceipt:
        """eBay takes no idempotency key. The engine stored ours before calling; a resend (the first
        outcome unknown) first looks at what eBay already holds and returns that instead of refunding
        twice: the refunds on the order (same amount and currency, not failed) and, for a return, a
        return already refunded. A refund for a return (`return_external_id`) goes through the
        return (Post-Order issue_refund, which also closes it); any other through Sell Fulfillment
        issue_refund. Both are signed for EU/UK sellers."""
        if refund.amount <= 0:
            raise ConnectorError("a refund amount must be positive", permanent=True)
        with self.client(ctx) as client:
            order = self._order(client, refund.order_external_id)
            for existing in mapping.order_refunds(order):
                amount = existing.get("amount") or {}
                if (
                    str(existing.get("refundStatus", "")).upper() != "FAILED"
                    and isinstance(amount, Mapping)
                    and str(amount.get("currency", "")).upper() == refund.currency.upper()
                    and _decimal(amount.get("value")) == refund.amount.quantize(Decimal("0.01"))
                ):
                    return self._receipt(existing, detail="already on the order (reconciled, not resent)")
            if refund.return_external_id:
                return self._refund_return(client, refund)
            return self._refund_order(client, refund)

    def _refund_order(self, client: EbayClient, refund: RefundRequest) -> RefundReceipt:
        reason = refund.reason.upper() if refund.reason.upper() in REFUND_REASONS else "OTHER"
        body: dict[str, Any] = {"reasonForRefund": reason}
        if refund.note:
            body["comment"] = refund.note[:100]
        if refund.lines:
            body["refundItems"] = [
                {
                    "lineItemId": line.external_line_id,
                    "refundAmount": {"value": _money(line.amount), "currency": refund.currency},
                }
                for line in refund.lines
            ]
        else:
            body["orderLevelRefundAmount"] = {"value": _money(refund.amount), "currency": refund.currency}
        data = client.json(
            "POST",
            f"{ORDERS_PATH}/{quote(refund.order_external_id, safe='')}/issue_refund",
            json_body=body,
            host="apiz",
            signed=True,
            bucket="ebay:fulfillment",
        )
        if not isinstance(data, Mapping) or not data.get("refundId"):
            raise ConnectorError("eBay accepted the refund without a refundId")
        return self._receipt(data)

    def _return_state(self, client: EbayClient, return_id: str) -> str:
        data = client.json("GET", f"{RETURN_PATH}/{quote(return_id, safe='')}", auth="iaf", bucket="ebay:post-order")
        summary = data.get("summary") if isinstance(data, Mapping) else None
        return str((summary or {}).get("state", "")) if isinstance(summary, Mapping) else ""

    def _refund_return(self, client: EbayClient, refund: RefundRequest) -> RefundReceipt:
        external_id = f"return:{refund.return_external_id}"
        state = self._return_state(client, refund.return_external_id)
        if state in RETURN_REFUNDED_STATES:
            return RefundReceipt(external_id, RefundState.SUCCEEDED, detail=f"return already {state} (reconciled)")
        total = {"value": _money(refund.amount), "currency": refund.currency}
        body: dict[str, Any] = {
            "refundDetail": {
                "itemizedRefundDetail": [{"refundAmount": total, "refundFeeType": "PURCHASE_PRICE"}],
                "totalAmount": total,
            }
        }
        if refund.note:
            body["comments"] = {"content": refund.note}
        data = client.json(
            "POST",
            f"{RETURN_PATH}/{quote(refund.return_external_id, safe='')}/issue_refund",
            auth="iaf",
            json_body=body,
            signed=True,
            bucket="ebay:post-order",
        )
        status = str(data.get("refundStatus", "")).upper() if isinstance(data, Mapping) else ""
        states = {"SUCCESS": RefundState.SUCCEEDED, "FAILED": RefundState.FAILED}
        return RefundReceipt(external_id, states.get(status, RefundState.PENDING), detail=f"refundStatus {status}")

    def refund_status(self, ctx: StoreContext, refund: RefundRequest, receipt: RefundReceipt) -> RefundReceipt:
        with self.client(ctx) as client:
            if receipt.external_id.startswith("return:"):
                state = self._return_state(client, receipt.external_id.removeprefix("return:"))
                if state in RETURN_REFUNDED_STATES:
                    return RefundReceipt(receipt.external_id, RefundState.SUCCEEDED, detail=state)
                if state == "PARTIAL_REFUND_FAILED":
                    return RefundReceipt(receipt.external_id, RefundState.FAILED, detail=state)
                return RefundReceipt(receipt.external_id, RefundState.PENDING, detail=state)
            order = self._order(client, refund.order_external_id)
        for existing in mapping.order_refunds(order):
            if str(existing.get("refundId", "")) == receipt.external_id:
                return self._receipt(existing)
        return RefundReceipt(
            external_id=receipt.external_id, state=RefundState.PENDING, detail="not listed on the order yet"
        )

    def mark_shipped(self, ctx: StoreContext, shipment: ShipmentConfirmation) -> WriteReceipt:
        with self.client(ctx) as client:
            order = self._order(client, shipment.order_external_id)
            items = [i for i in order.get("lineItems") or [] if isinstance(i, Mapping)]
            wanted = set(shipment.line_ids)
            line_items = [
                {"lineItemId": str(i.get("lineItemId")), "quantity": int(i.get("quantity") or 1)}
                for i in items
                if not wanted or str(i.get("lineItemId")) in wanted
            ]
            if not line_items:
                raise ConnectorError("none of the shipment's lines are on the eBay order", permanent=True)
            response = client.call(
                "POST",
                f"{ORDERS_PATH}/{quote(shipment.order_external_id, safe='')}/shipping_fulfillment",
                json_body={
                    "lineItems": line_items,
                    "shippedDate": _iso(shipment.shipped_at),
                    "shippingCarrierCode": shipment.carrier,
                    "trackingNumber": shipment.tracking_number,
                },
                bucket="ebay:fulfillment",
            )
        location = response.headers.get("Location", "")
        return WriteReceipt(external_id=location.rstrip("/").rpartition("/")[2], detail="shipping_fulfillment")


def check_reply_media(attachments: list[tuple[str, bytes, str]]) -> None:
    """Refuse, before anything is uploaded, what eBay's Message API cannot carry: more than five media,
    a file that is not a picture format eBay Picture Services takes, or one above 12 MB."""
    if len(attachments) > MEDIA_PER_MESSAGE:
        raise ConnectorError(
            f"eBay messages carry at most {MEDIA_PER_MESSAGE} images ({len(attachments)} attached)",
            permanent=True,
            code="messageMedia",
        )
    for name, content, kind in attachments:
        if kind.lower() not in REPLY_IMAGE_TYPES:
            raise ConnectorError(
                "eBay messages carry pictures only (JPG, GIF, PNG, BMP, TIFF, AVIF, HEIC, WEBP): "
                f"{name} is {kind or 'unknown'}",
                permanent=True,
                code="messageMedia",
            )
        if len(content) > REPLY_IMAGE_MAX_BYTES:
            raise ConnectorError(
                f"eBay takes pictures of at most 12 MB: {name} has {len(content) / 1048576:.1f} MB",
                permanent=True,
                code="messageMedia",
            )


def upload_image(client: EbayClient, name: str, content: bytes, content_type: str) -> str:
    """Upload one picture to eBay Picture Services (Media API createImageFromFile, multipart field
    "image") and return its EPS URL: from the 201 answer's body, else from getImage at the Location
    header. A resend after a lost answer uploads a second copy, which eBay lets expire unused."""
    response = client.call(
        "POST",
        CREATE_IMAGE_PATH,
        files={"image": (name, content, content_type)},
        host="apim",
        bucket="ebay:media",
    )
    try:
        data = response.json() if response.content else {}
    except ValueError:
        data = {}
    url = data.get("imageUrl") if isinstance(data, Mapping) else None
    if not url:
        location = response.headers.get("location", "")
        image_id = location.rstrip("/").rsplit("/", 1)[-1] if location else ""
        if not image_id:
            raise ConnectorError("eBay created the image without saying where it is (no imageUrl, no Location)")
        found = client.json(
            "GET", f"{CREATE_IMAGE_PATH.rsplit('/', 1)[0]}/{quote(image_id, safe='')}", host="apim", bucket="ebay:media"
        )
        url = found.get("imageUrl") if isinstance(found, Mapping) else None
        if not url:
            raise ConnectorError(f"eBay's getImage answered without an imageUrl for {image_id}")
    return str(url)
