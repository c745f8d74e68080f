"""Shopee Open Platform v2 connector: pulls orders (get_order_list + get_order_detail), returns
(get_return_list) and seller chat (get_conversation_list + get_message), verifies push
notifications, and writes back: chat messages, return decisions (confirm, offer, dispute) and the
refund of a return (confirm). docs/connectors/shopee.md lists the calls and the facts relied on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

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
    SentReceipt,
    ShipmentConfirmation,
    SignatureInvalid,
    StoreContext,
    Stream,
    WriteReceipt,
)
from aftersales.channels.connectors import marketplace, media
from aftersales.channels.http import ClientPerCall
from aftersales.channels.replies import reply_text, send_through_store
from aftersales.core.clock import now

from . import mapping
from .client import ShopeeClient, response_of
from .sites import GLOBAL_HOST, host_for, site_for
from .webhooks import (
    ORDER_STATUS_PUSH,
    RETURN_UPDATES_PUSH,
    WEBCHAT_PUSH,
    parse_push,
    push_event_id,
    verify_signature,
)

SHOP_INFO_PATH = "/api/v2/shop/get_shop_info"
ORDER_LIST_PATH = "/api/v2/order/get_order_list"
ORDER_DETAIL_PATH = "/api/v2/order/get_order_detail"
RETURN_LIST_PATH = "/api/v2/returns/get_return_list"
RETURN_DETAIL_PATH = "/api/v2/returns/get_return_detail"
RETURN_CONFIRM_PATH = "/api/v2/returns/confirm"
RETURN_OFFER_PATH = "/api/v2/returns/offer"
RETURN_DISPUTE_PATH = "/api/v2/returns/dispute"
DISPUTE_REASONS_PATH = "/api/v2/returns/get_return_dispute_reason"
CONVERSATIONS_PATH = "/api/v2/sellerchat/get_conversation_list"
MESSAGES_PATH = "/api/v2/sellerchat/get_message"
SEND_MESSAGE_PATH = "/api/v2/sellerchat/send_message"
SHIPPING_PARAMETER_PATH = "/api/v2/logistics/get_shipping_parameter"
SHIP_ORDER_PATH = "/api/v2/logistics/ship_order"
TRACKING_NUMBER_PATH = "/api/v2/logistics/get_tracking_number"
# Order statuses in which the seller still has to arrange the shipment (ship_order is allowed).
TO_SHIP_STATUSES = frozenset({"READY_TO_SHIP", "RETRY_SHIP"})

# get_order_detail returns few fields unless asked (response_optional_fields).
ORDER_FIELDS = "buyer_user_id,buyer_username,recipient_address,item_list,total_amount,pay_time,package_list"
MAX_WINDOW = timedelta(days=15)  # get_order_list: "The maximum date range ... is 15 days"
ORDERS_LOOKBACK = timedelta(days=15)
RETURNS_LOOKBACK = timedelta(days=15)
MESSAGES_LOOKBACK = timedelta(days=7)
OVERLAP = timedelta(minutes=10)
ORDER_PAGE_SIZE = 50  # <= 100 allowed; 50 is get_order_detail's batch, one detail call per page
RETURN_PAGE_SIZE = 50
CHAT_PAGE_SIZE = 25
# Return statuses after which the buyer's money is on its way (the seller's part is done).
REFUNDED_RETURN_STATUSES = frozenset({"ACCEPTED", "COMPLETED"})


def _seconds(value: datetime) -> int:
    return int(value.timestamp())


def _window(state: Mapping[str, Any], since: datetime | None, lookback: timedelta) -> tuple[int, int]:
    """The [from, to] (epoch seconds) of the current window: frozen while it is paged; a new one
    starts OVERLAP before where the previous pass ended; never longer than 15 days (a longer
    backfill is walked window by window)."""
    current = _seconds(now())
    try:
        if state.get("from") is not None and state.get("to") is not None:
            return int(state["from"]), int(state["to"])
        if state.get("next_from") is not None:
            start = int(state["next_from"]) - int(OVERLAP.total_seconds())
        else:
            start = _seconds(since or (now() - lookback))
    except (TypeError, ValueError) as exc:
        raise ConnectorError(f"unreadable Shopee cursor {dict(state)!r}"[:200], permanent=True) from exc
    return start, min(current, start + int(MAX_WINDOW.total_seconds()))


def _after_window(start: int, end: int) -> tuple[str, bool]:
    """The cursor after the last page of [start, end]: the next window if it ended before now."""
    if end < _seconds(now()) - 1:
        following = min(_seconds(now()), end + int(MAX_WINDOW.total_seconds()))
        return json.dumps({"from": end, "to": following}), False
    return json.dumps({"next_from": end}), True


def _money(value: Decimal, currency: str) -> float:
    site_decimals = 0 if currency.upper() in {"VND", "IDR", "TWD"} else 2
    return float(value.quantize(Decimal(1).scaleb(-site_decimals)))


class ShopeeConnector(ClientPerCall[ShopeeClient]):
    client_class = ShopeeClient
    platform = "shopee"
    capabilities = marketplace.RETURNS_CAPABILITIES | {Capability.WEBHOOKS, Capability.MARK_SHIPPED}
    # Shopee publishes no per-call limits ("rate_limit" reads [0,0,0] on the API pages) and answers
    # 429 / error_too_many_request when a shop calls too fast: these pace one store's calls, and a
    # refusal is honoured with its Retry-After (recorded for the store's other workers).
    rate_limits: ClassVar[dict[str, tuple[float, int]]] = marketplace.store_buckets(
        "shopee", ("orders", "returns", "chat"), per_second=5.0, burst=20
    )
    credential_fields: ClassVar[tuple[str, ...]] = ("partner_id", "partner_key", "shop_id", "refresh_token")
    webhook_signs_url = True  # the webhook view passes the URL the push reached (Shopee signs url|body)

    @staticmethod
    def default_base_url(site: str) -> str:
        return host_for(site) or GLOBAL_HOST

    @staticmethod
    def _currency(ctx: StoreContext) -> str:
        site = site_for(ctx.site)
        return site.currency if site else ctx.currency

    # -- pulling -----------------------------------------------------------------------------------
    def pull(self, ctx: StoreContext, stream: Stream, cursor: str | None, since: datetime | None) -> Page:
        state = marketplace.json_cursor(cursor, "Shopee")
        with self.client(ctx) as client:
            if stream == Stream.ORDERS:
                return self._pull_orders(client, state, since)
            if stream == Stream.RETURNS:
                return self._pull_returns(client, state, since)
            if stream == Stream.MESSAGES:
                return self._pull_messages(client, state, since)
        raise ConnectorError(f"Shopee has no {stream} stream", permanent=True)

    def order_details(self, client: ShopeeClient, order_sns: list[str]) -> list[Any]:
        if not order_sns:
            return []
        data = client.call(
            "GET",
            ORDER_DETAIL_PATH,
            params={"order_sn_list": ",".join(order_sns), "response_optional_fields": ORDER_FIELDS},
            bucket="shopee:orders",
        )
        orders = response_of(data, "get_order_detail").get("order_list")
        if not isinstance(orders, list):
            raise ConnectorError("Shopee get_order_detail answered without an order_list")
        return orders

    def _pull_orders(self, client: ShopeeClient, state: dict[str, Any], since: datetime | None) -> Page:
        start, end = _window(state, since, ORDERS_LOOKBACK)
        params: dict[str, Any] = {
            "time_range_field": "update_time",
            "time_from": start,
            "time_to": end,
            "page_size": ORDER_PAGE_SIZE,
            "cursor": str(state.get("cursor") or ""),
        }
        listed = response_of(client.call("GET", ORDER_LIST_PATH, params=params, bucket="shopee:orders"), "order list")
        entries = listed.get("order_list")
        if not isinstance(entries, list):
            raise ConnectorError("Shopee get_order_list answered without an order_list")
        order_sns = [str(e["order_sn"]) for e in entries if isinstance(e, Mapping) and e.get("order_sn")]
        records = [
            RawRecord(Stream.ORDERS, mapping.version_key("order", o), {"kind": "order", "data": o})
            for o in self.order_details(client, order_sns)
        ]
        if listed.get("more") and listed.get("next_cursor"):
            return Page(records, json.dumps({"from": start, "to": end, "cursor": listed["next_cursor"]}), done=False)
        next_cursor, done = _after_window(start, end)
        return Page(records, next_cursor, done=done)

    def _pull_returns(self, client: ShopeeClient, state: dict[str, Any], since: datetime | None) -> Page:
        start, end = _window(state, since, RETURNS_LOOKBACK)
        page_no = int(state.get("page_no") or 0)
        data = client.call(
            "GET",
            RETURN_LIST_PATH,
            params={
                "page_no": page_no,
                "page_size": RETURN_PAGE_SIZE,
                "update_time_from": start,
                "update_time_to": end,
            },
            bucket="shopee:returns",
        )
        listed = response_of(data, "get_return_list")
        returns = listed.get("return")
        if returns is None and not listed.get("more"):
            returns = []
        if not isinstance(returns, list):
            raise ConnectorError("Shopee get_return_list answered without a return list")
        records = [
            RawRecord(Stream.RETURNS, mapping.version_key("return", r), {"kind": "return", "data": r}) for r in returns
        ]
        if listed.get("more") and returns:
            return Page(records, json.dumps({"from": start, "to": end, "page_no": page_no + 1}), done=False)
        next_cursor, done = _after_window(start, end)
        return Page(records, next_cursor, done=done)

    def _pull_messages(self, client: ShopeeClient, state: dict[str, Any], since: datetime | None) -> Page:
        """Conversations newest first (direction=older from now), each with activity since the
        watermark expanded into its messages (get_message, newest first, paged by offset). The pass
        ends at the first conversation older than the watermark; the next starts at the newest
        message time seen, less OVERLAP."""
        try:
            if state.get("watermark") is not None:
                watermark = int(state["watermark"])
            elif state.get("next_from") is not None:
                watermark = int(state["next_from"]) - int(OVERLAP.total_seconds())
            else:
                watermark = _seconds(since or (now() - MESSAGES_LOOKBACK))
            top = int(state.get("top") or state.get("next_from") or 0)
        except (TypeError, ValueError) as exc:
            raise ConnectorError(f"unreadable Shopee chat cursor {state!r}"[:200], permanent=True) from exc
        params: dict[str, Any] = {"direction": "older", "type": "all", "page_size": CHAT_PAGE_SIZE}
        if state.get("next_nano"):
            params["next_timestamp_nano"] = state["next_nano"]
        data = response_of(
            client.call("GET", CONVERSATIONS_PATH, params=params, bucket="shopee:chat"), "get_conversation_list"
        )
        conversations = data.get("conversations")
        if not isinstance(conversations, list):
            raise ConnectorError("Shopee get_conversation_list answered without conversations")
        records: list[RawRecord] = []
        reached_older = False
        for conversation in conversations:
            head = conversation if isinstance(conversation, Mapping) else {}
            conversation_id = head.get("conversation_id")
            try:
                last = mapping.epoch(head.get("last_message_timestamp"), "last_message_timestamp")
            except Exception:
                last = None
            if not conversation_id or last is None:
                records.append(
                    RawRecord(
                        Stream.MESSAGES,
                        mapping.version_key("message", head),
                        {"kind": "message", "conversation": dict(head), "data": {}},
                    )
                )
                continue
            if _seconds(last) < watermark:
                reached_older = True
                break
            top = max(top, _seconds(last))
            # Oldest first: a seller's answer from Seller Centre joins the buyer's thread, never opens one.
            for message in reversed(self._messages(client, str(conversation_id), watermark)):
                payload = {"kind": "message", "conversation": dict(head), "data": message}
                records.append(
                    RawRecord(
                        Stream.MESSAGES,
                        mapping.version_key("message", message),
                        media.with_downloads(client, payload, mapping.media_urls(message), bucket="shopee:chat"),
                    )
                )
        found = data.get("page_result")
        page_result: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        next_nano = mapping.dig(page_result, "next_cursor.next_message_time_nano")
        if not reached_older and page_result.get("more") and next_nano and conversations:
            state = {"watermark": watermark, "top": top, "next_nano": str(next_nano)}
            return Page(records, json.dumps(state), done=False)
        return Page(records, json.dumps({"next_from": max(top, watermark + int(OVERLAP.total_seconds()))}), True)

    def _messages(self, client: ShopeeClient, conversation_id: str, watermark: int) -> list[Any]:
        messages: list[Any] = []
        offset: str = ""
        for _ in range(40):  # at most 1,000 messages of one conversation per pass
            params: dict[str, Any] = {"conversation_id": conversation_id, "page_size": CHAT_PAGE_SIZE}
            if offset:
                params["offset"] = offset
            data = response_of(client.call("GET", MESSAGES_PATH, params=params, bucket="shopee:chat"), "get_message")
            batch = data.get("messages")
            if not isinstance(batch, list):
                raise ConnectorError("Shopee get_message answered without messages")
            older = False
            for message in batch:
                try:
                    sent = mapping.epoch(message.get("created_timestamp"), "created_timestamp")
                except Exception:
                    sent = None  # malformed: kept, quarantined by map_record
                if sent is not None and _seconds(sent) < watermark:
                    older = True
                    continue
                messages.append(message)
            following = mapping.dig(data, "page_result.next_offset")
            if older or not batch or not following or str(following) == offset:
                break
            offset = str(following)
        return messages

    def map_record(self, ctx: StoreContext, raw: RawRecord) -> list[Record]:
        return mapping.map_payload(
            raw.payload, shop_id=str(ctx.credentials.get("shop_id") or ""), currency=self._currency(ctx)
        )

    def test_connection(self, ctx: StoreContext) -> ConnectionCheck:
        try:
            with self.client(ctx) as client:
                data = client.call("GET", SHOP_INFO_PATH)
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, detail=str(exc))
        name = data.get("shop_name") or mapping.dig(data, "response.shop_name") or ""
        region = data.get("region") or mapping.dig(data, "response.region") or ""
        return ConnectionCheck(ok=True, detail=f"Shopee answered: shop {name} ({region})".replace(" ()", ""))

    # -- webhooks ----------------------------------------------------------------------------------
    def verify_webhook(
        self, ctx: StoreContext, headers: Mapping[str, str], body: bytes, endpoint_url: str = ""
    ) -> list[RawRecord]:
        key = str(ctx.credentials.get("push_key") or ctx.credentials.get("partner_key") or "")
        url = str(ctx.credentials.get("push_url") or endpoint_url)
        verify_signature(key=key, url=url, headers=headers, body=body)
        push = parse_push(body, shop_id=str(ctx.credentials.get("shop_id") or ""))
        if push is None:
            return []
        data = push.get("data") or {}
        code = push["code"]
        if code == ORDER_STATUS_PUSH and data.get("ordersn"):
            with self.client(ctx) as client:
                orders = self.order_details(client, [str(data["ordersn"])])
            return [
                RawRecord(Stream.ORDERS, mapping.version_key("order", o), {"kind": "order", "data": o}) for o in orders
            ]
        if code == RETURN_UPDATES_PUSH and data.get("return_sn"):
            with self.client(ctx) as client:
                detail = self._return_detail(client, str(data["return_sn"]))
            return [
                RawRecord(Stream.RETURNS, mapping.version_key("return", detail), {"kind": "return", "data": detail})
            ]
        content = data.get("content")
        if code == WEBCHAT_PUSH and isinstance(content, Mapping) and content.get("message_id"):
            head = {"conversation_id": content.get("conversation_id")}
            payload = {"kind": "message", "conversation": head, "data": dict(content)}
            with self.client(ctx) as client:
                payload = media.with_downloads(client, payload, mapping.media_urls(content), bucket="shopee:chat")
            return [RawRecord(Stream.MESSAGES, mapping.version_key("message", content), payload)]
        return [RawRecord(Stream.ORDERS, push_event_id(push, body), {"kind": "push", "code": code})]

    # -- write-backs -------------------------------------------------------------------------------
    def send_reply(self, reply: OutboundReply) -> SentReceipt:
        return send_through_store(self, reply)

    def send_message(self, ctx: StoreContext, reply: OutboundReply) -> SentReceipt:
        # No maximum length is documented for send_message: Shopee's own refusal is shown if any.
        text = reply_text(reply, limit=None, platform="Shopee chat", code="content.text")
        if reply.attachments:
            raise ConnectorError(
                "Shopee chat replies are sent as text only: attachments are not sent", permanent=True, code="content"
            )
        try:
            to_id = int(str(reply.customer_address).strip())
        except ValueError as exc:
            raise ConnectorError(
                f"the buyer's Shopee user id is unknown ({reply.customer_address!r})", permanent=True, code="to_id"
            ) from exc
        with self.client(ctx) as client:
            data = client.call(
                "POST",
                SEND_MESSAGE_PATH,
                body={"to_id": to_id, "message_type": "text", "content": {"text": text}},
                bucket="shopee:chat",
                idempotent=False,
            )
        sent = response_of(data, "send_message")
        message_id = sent.get("message_id")
        if not message_id:
            raise ConnectorError("Shopee accepted the message without a message_id")
        created = sent.get("created_timestamp")
        try:
            at = mapping.epoch(created, "created_timestamp") if created else now()
        except Exception:
            at = now()
        return SentReceipt(external_id=f"shopee:{message_id}", sent_at=at)

    def _return_detail(self, client: ShopeeClient, return_sn: str) -> Mapping[str, Any]:
        data = client.call("GET", RETURN_DETAIL_PATH, params={"return_sn": return_sn}, bucket="shopee:returns")
        return response_of(data, "get_return_detail")

    def decide_return(self, ctx: StoreContext, decision: ReturnDecision) -> WriteReceipt:
        if decision.kind not in (ReturnKind.RETURN, ReturnKind.REFUND_REQUEST):
            raise ConnectorError(f"Shopee has no {decision.kind} decisions", permanent=True)
        return_sn = decision.return_external_id
        kind = decision.decision
        with self.client(ctx) as client:
            if kind == ReturnDecisionKind.APPROVE:
                client.call("POST", RETURN_CONFIRM_PATH, body={"return_sn": return_sn}, bucket="shopee:returns")
                return WriteReceipt(external_id=return_sn, detail="confirm")
            if kind == ReturnDecisionKind.OFFER_PARTIAL_REFUND:
                if decision.amount is None or decision.amount <= 0:
                    raise ConnectorError("a partial refund offer needs an amount", permanent=True)
                currency = decision.currency or self._currency(ctx)
                client.call(
                    "POST",
                    RETURN_OFFER_PATH,
                    body={
                        "return_sn": return_sn,
                        "proposed_solution": "REFUND"
                        if decision.kind == ReturnKind.REFUND_REQUEST
                        else "RETURN_REFUND",
                        "proposed_adjusted_refund_amount": _money(decision.amount, currency),
                    },
                    bucket="shopee:returns",
                )
                return WriteReceipt(external_id=return_sn, detail=f"offer {decision.amount} {currency}")
            if kind == ReturnDecisionKind.DECLINE:
                return self._dispute(ctx, client, decision)
        raise ConnectorError(
            f"Shopee returns have no {kind} decision (Shopee arranges the return shipping itself)", permanent=True
        )

    def _dispute(self, ctx: StoreContext, client: ShopeeClient, decision: ReturnDecision) -> WriteReceipt:
        """A refusal is a dispute raised with Shopee: its reason is one Shopee offers for this return
        (get_return_dispute_reason), the comment its text; Shopee requires the seller's e-mail."""
        email = str(ctx.credentials.get("dispute_email") or "")
        if not email:
            raise ConnectorError(
                "Shopee disputes need the seller's e-mail: set the store's dispute_email", permanent=True, code="email"
            )
        if not decision.comment.strip():
            raise ConnectorError("a dispute needs a comment explaining the refusal", permanent=True)
        data = client.call(
            "GET", DISPUTE_REASONS_PATH, params={"return_sn": decision.return_external_id}, bucket="shopee:returns"
        )
        reasons = response_of(data, "get_return_dispute_reason").get("dispute_reason")
        if not isinstance(reasons, list) or not reasons:
            raise ConnectorError("Shopee offers no dispute reason for this return", permanent=True)
        chosen = reasons[0]
        for reason in reasons:  # "Other" when offered: the seller's comment says the rest
            if isinstance(reason, Mapping) and "other" in str(reason.get("reason_text", "")).lower():
                chosen = reason
                break
        try:
            reason_id = int(str(chosen.get("reason_id") if isinstance(chosen, Mapping) else chosen))
        except ValueError as exc:
            raise ConnectorError(f"Shopee sent an unreadable dispute reason {chosen!r}"[:200]) from exc
        client.call(
            "POST",
            RETURN_DISPUTE_PATH,
            body={
                "return_sn": decision.return_external_id,
                "email": email,
                "dispute_reason_id": reason_id,
                "dispute_text_reason": decision.comment.strip()[:1000],
                "image_list": [],
            },
            bucket="shopee:returns",
        )
        return WriteReceipt(external_id=decision.return_external_id, detail=f"dispute reason {reason_id}")

    def issue_refund(self, ctx: StoreContext, refund: RefundRequest) -> RefundReceipt:
        """Shopee has no seller-initiated refund of an order: the buyer's money comes back when the
        seller confirms their return or refund request (returns/confirm; Shopee refunds in full) or
        when Shopee decides. So a refund must name its return and be the return's whole amount; a
        resend finds the return already accepted and confirms nothing twice."""
        if not refund.return_external_id:
            raise ConnectorError(
                "Shopee refunds only through the buyer's return or refund request: refund this order on Shopee",
                permanent=True,
            )
        with self.client(ctx) as client:
            detail = self._return_detail(client, refund.return_external_id)
            status = str(detail.get("status") or "")
            external_id = f"return:{refund.return_external_id}"
            if status in REFUNDED_RETURN_STATUSES:
                return RefundReceipt(external_id, RefundState.SUCCEEDED, detail=f"return already {status} (reconciled)")
            requested = mapping.amount(detail, "refund_amount", required=False)
            if requested is not None and refund.amount.quantize(Decimal("0.01")) != requested.quantize(Decimal("0.01")):
                raise ConnectorError(
                    f"Shopee refunds a return in full ({requested} {detail.get('currency', '')}): "
                    f"offer {refund.amount} instead (a partial refund offer)",
                    permanent=True,
                )
            client.call(
                "POST", RETURN_CONFIRM_PATH, body={"return_sn": refund.return_external_id}, bucket="shopee:returns"
            )
        return RefundReceipt(external_id, RefundState.PENDING, detail="confirm")

    def refund_status(self, ctx: StoreContext, refund: RefundRequest, receipt: RefundReceipt) -> RefundReceipt:
        with self.client(ctx) as client:
            status = str(self._return_detail(client, receipt.external_id.removeprefix("return:")).get("status") or "")
        if status in REFUNDED_RETURN_STATUSES:
            return RefundReceipt(receipt.external_id, RefundState.SUCCEEDED, detail=status)
        if status in {"CANCELLED", "CLOSED"}:
            return RefundReceipt(receipt.external_id, RefundState.FAILED, detail=status)
        return RefundReceipt(receipt.external_id, RefundState.PENDING, detail=status)

    # -- shipping ----------------------------------------------------------------------------------
    def mark_shipped(self, ctx: StoreContext, shipment: ShipmentConfirmation) -> WriteReceipt:
        """Arrange the shipment of a READY_TO_SHIP order with the seller's own tracking number
        (v2.logistics.ship_order). Shopee fixes the logistics channel at checkout, so no carrier or
        channel id is sent: the seller's number goes where get_shipping_parameter asks for one
        (`non_integrated`, or a `dropoff` that needs a tracking_number). A channel for which Shopee
        issues the number itself (pickup, plain drop-off) is refused: that shipment is arranged in
        Seller Centre. Idempotent: an order already shipped with this number is reconciled, not
        shipped again; one shipped with another number is refused with both numbers."""
        order_sn = shipment.order_external_id
        with self.client(ctx) as client:
            found = self.order_details(client, [order_sn])
            order = found[0] if found else None
            if not isinstance(order, Mapping):
                raise ConnectorError(f"Shopee has no order {order_sn}", permanent=True)
            status = str(order.get("order_status") or "")
            if status not in TO_SHIP_STATUSES:
                return self._shipped_already(client, order_sn, status, shipment.tracking_number)
            data = client.call("GET", SHIPPING_PARAMETER_PATH, params={"order_sn": order_sn}, bucket="shopee:orders")
            needed = response_of(data, "get_shipping_parameter").get("info_needed")
            needed = needed if isinstance(needed, Mapping) else {}
            tracking = {"tracking_number": shipment.tracking_number}
            if "non_integrated" in needed:
                body: dict[str, Any] = {"order_sn": order_sn, "non_integrated": tracking}
            elif "tracking_number" in (needed.get("dropoff") or []):
                body = {"order_sn": order_sn, "dropoff": tracking}
            else:
                raise ConnectorError(
                    f"Shopee issues the tracking number of order {order_sn} itself (its logistics channel "
                    f"asks for {sorted(needed) or 'nothing'}): arrange the shipment in Seller Centre",
                    permanent=True,
                )
            # not resent after a timeout: the next attempt finds the order shipped and reconciles
            client.call("POST", SHIP_ORDER_PATH, body=body, bucket="shopee:orders", idempotent=False)
        return WriteReceipt(external_id=order_sn, detail=f"ship_order {shipment.tracking_number}")

    def _shipped_already(self, client: ShopeeClient, order_sn: str, status: str, tracking_number: str) -> WriteReceipt:
        data = client.call("GET", TRACKING_NUMBER_PATH, params={"order_sn": order_sn}, bucket="shopee:orders")
        known = str(response_of(data, "get_tracking_number").get("tracking_number") or "")
        if known == tracking_number:
            return WriteReceipt(external_id=order_sn, detail=f"reconciled: shipped with {known}")
        raise ConnectorError(
            f"Shopee order {order_sn} is {status}, not READY_TO_SHIP"
            + (f", with tracking number {known}" if known else ""),
            permanent=True,
        )


__all__ = ["ShopeeConnector", "SignatureInvalid"]
