"""TikTok Shop connector (Partner API 202309): pulls orders (orders/search), returns and
cancellations (return_refund returns/search, cancellations/search) and customer-service
conversations (conversations + messages), verifies webhooks, and writes back: messages, return and
cancellation decisions (approve / reject with one of TikTok's reasons) and the refund of a return
(its approval: TikTok refunds the buyer). docs/connectors/tiktok.md lists the calls and the facts
relied on."""

from __future__ import annotations

import hashlib
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
    StoreContext,
    Stream,
    WriteReceipt,
)
from aftersales.channels.connectors import marketplace, media
from aftersales.channels.http import ClientPerCall
from aftersales.channels.replies import reply_text, send_through_store
from aftersales.core.clock import now

from . import mapping
from .client import SHOPS_PATH, TikTokClient
from .regions import API_HOST, region_code, region_for
from .webhooks import (
    CANCELLATION_STATUS_CHANGE,
    NEW_MESSAGE,
    ORDER_STATUS_CHANGE,
    RETURN_STATUS_CHANGE,
    parse_webhook,
    verify_signature,
    webhook_event_id,
)

ORDERS_SEARCH_PATH = "/order/202309/orders/search"
ORDERS_PATH = "/order/202309/orders"
RETURNS_SEARCH_PATH = "/return_refund/202309/returns/search"
CANCELLATIONS_SEARCH_PATH = "/return_refund/202309/cancellations/search"
REJECT_REASONS_PATH = "/return_refund/202309/reject_reasons"
CONVERSATIONS_PATH = "/customer_service/202309/conversations"
PROVIDERS_PATH = "/logistics/202309/delivery_options/{delivery_option_id}/shipping_providers"
PACKAGES_PATH = "/fulfillment/202309/orders/{order_id}/packages"
# Orders the seller may still ship (some or all of their lines).
TO_SHIP_STATUSES = frozenset({"AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"})
PAGE_SIZE = 50  # orders/search and returns/search take 1..100
CHAT_PAGE_SIZE = 20
LOOKBACK = timedelta(days=15)
MESSAGES_LOOKBACK = timedelta(days=7)
OVERLAP = timedelta(minutes=10)
# Return statuses after which the buyer's money is on its way (the seller's part is done).
REFUNDED_STATUSES = frozenset({"RETURN_OR_REFUND_REQUEST_SUCCESS", "RETURN_OR_REFUND_REQUEST_COMPLETE"})
CLOSED_STATUSES = frozenset({"REFUND_OR_RETURN_REQUEST_REJECT", "RETURN_OR_REFUND_REQUEST_CANCEL"})
# The seller's approval decision by the return's current status (Approve Return `decision`).
APPROVALS = {
    ("RETURN_OR_REFUND_REQUEST_PENDING", "REFUND"): "APPROVE_REFUND",
    ("RETURN_OR_REFUND_REQUEST_PENDING", "RETURN_AND_REFUND"): "APPROVE_RETURN",
    ("BUYER_SHIPPED_ITEM", "RETURN_AND_REFUND"): "APPROVE_RECEIVED_PACKAGE",
    ("REPLACEMENT_REQUEST_PENDING", "REPLACEMENT"): "APPROVE_REPLACEMENT",
    ("BUYER_SHIPPED_ITEM", "REPLACEMENT"): "APPROVE_RECEIVED_PACKAGE",
}
REJECTIONS = {
    ("RETURN_OR_REFUND_REQUEST_PENDING", "REFUND"): "REJECT_REFUND",
    ("RETURN_OR_REFUND_REQUEST_PENDING", "RETURN_AND_REFUND"): "REJECT_RETURN",
    ("BUYER_SHIPPED_ITEM", "RETURN_AND_REFUND"): "REJECT_RECEIVED_PACKAGE",
    ("REPLACEMENT_REQUEST_PENDING", "REPLACEMENT"): "REJECT_REPLACEMENT",
}


def _seconds(value: datetime) -> int:
    return int(value.timestamp())


def _window(state: Mapping[str, Any], since: datetime | None, lookback: timedelta) -> tuple[int, int]:
    """[from, to) in epoch seconds: frozen while it is paged; a new pass starts OVERLAP before
    where the previous one ended."""
    try:
        if state.get("from") is not None and state.get("to") is not None:
            return int(state["from"]), int(state["to"])
        if state.get("next_from") is not None:
            return int(state["next_from"]) - int(OVERLAP.total_seconds()), _seconds(now()) + 1
    except (TypeError, ValueError) as exc:
        raise ConnectorError(f"unreadable TikTok Shop cursor {dict(state)!r}"[:200], permanent=True) from exc
    return _seconds(since or (now() - lookback)), _seconds(now()) + 1


def _key(*parts: str) -> str:
    """A deterministic idempotency_key: a resend of the same decision is the same request."""
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:32]


def _list(data: Mapping[str, Any], name: str, call: str) -> list[Any]:
    found = data.get(name)
    if found is None:
        return []
    if not isinstance(found, list):
        raise ConnectorError(f"TikTok Shop {call} answered {name} that is not a list")
    return found


class TikTokConnector(ClientPerCall[TikTokClient]):
    client_class = TikTokClient
    platform = "tiktok"
    capabilities = marketplace.RETURNS_CAPABILITIES | {Capability.WEBHOOKS, Capability.MARK_SHIPPED}
    # TikTok publishes per-API QPS limits on each API's page; these pace one store's calls under
    # them, and a 429 is honoured with its Retry-After (recorded for the store's other workers).
    rate_limits: ClassVar[dict[str, tuple[float, int]]] = marketplace.store_buckets(
        "tiktok", ("orders", "returns", "chat"), per_second=10.0, burst=20
    )
    credential_fields: ClassVar[tuple[str, ...]] = ("app_key", "app_secret", "shop_cipher", "refresh_token")

    @staticmethod
    def default_base_url(site: str) -> str:
        return API_HOST

    @staticmethod
    def _currency(ctx: StoreContext) -> str:
        region = region_for(ctx.site)
        return region.currency if region else ctx.currency

    # -- pulling -----------------------------------------------------------------------------------
    def pull(self, ctx: StoreContext, stream: Stream, cursor: str | None, since: datetime | None) -> Page:
        state = marketplace.json_cursor(cursor, "TikTok Shop")
        with self.client(ctx) as client:
            if stream == Stream.ORDERS:
                return self._pull_orders(client, state, since)
            if stream == Stream.RETURNS:
                return self._pull_returns(client, state, since)
            if stream == Stream.MESSAGES:
                return self._pull_messages(client, state, since)
        raise ConnectorError(f"TikTok Shop has no {stream} stream", permanent=True)

    def _search(
        self, client: TikTokClient, path: str, state: Mapping[str, Any], body: dict[str, Any], bucket: str
    ) -> Mapping[str, Any]:
        params: dict[str, Any] = {"page_size": PAGE_SIZE, "sort_field": "update_time", "sort_order": "ASC"}
        if state.get("token"):
            params["page_token"] = state["token"]
        return client.call("POST", path, params=params, body=body, bucket=bucket)

    def _pull_orders(self, client: TikTokClient, state: dict[str, Any], since: datetime | None) -> Page:
        start, end = _window(state, since, LOOKBACK)
        data = self._search(
            client, ORDERS_SEARCH_PATH, state, {"update_time_ge": start, "update_time_lt": end}, "tiktok:orders"
        )
        records = [
            RawRecord(Stream.ORDERS, mapping.version_key("order", o), {"kind": "order", "data": o})
            for o in _list(data, "orders", "orders/search")
        ]
        if data.get("next_page_token"):
            return Page(records, json.dumps({"from": start, "to": end, "token": data["next_page_token"]}), done=False)
        return Page(records, json.dumps({"next_from": end}), done=True)

    def _pull_returns(self, client: TikTokClient, state: dict[str, Any], since: datetime | None) -> Page:
        """Returns of the window, then its cancellations (phase "cancel"), each paged by token."""
        start, end = _window(state, since, LOOKBACK)
        phase = state.get("phase") or "return"
        path, name, kind = (
            (RETURNS_SEARCH_PATH, "return_orders", "return")
            if phase == "return"
            else (CANCELLATIONS_SEARCH_PATH, "cancellations", "cancellation")
        )
        data = self._search(client, path, state, {"update_time_ge": start, "update_time_lt": end}, "tiktok:returns")
        records = [
            RawRecord(Stream.RETURNS, mapping.version_key(kind, r), {"kind": kind, "data": r})
            for r in _list(data, name, path)
        ]
        window = {"from": start, "to": end}
        if data.get("next_page_token"):
            return Page(records, json.dumps({**window, "phase": phase, "token": data["next_page_token"]}), done=False)
        if phase == "return":
            return Page(records, json.dumps({**window, "phase": "cancel"}), done=False)
        return Page(records, json.dumps({"next_from": end}), done=True)

    def _pull_messages(self, client: TikTokClient, state: dict[str, Any], since: datetime | None) -> Page:
        """Conversations newest first, each with activity since the watermark expanded into its
        messages (newest first, paged); the pass ends at the first conversation older than the
        watermark. The next starts at the newest message time seen, less OVERLAP."""
        try:
            if state.get("watermark") is not None:
                watermark = int(state["watermark"])
            elif state.get("next_from") is not None:
                watermark = int(state["next_from"]) - int(OVERLAP.total_seconds())
            else:
                watermark = _seconds(since or (now() - MESSAGES_LOOKBACK))
            top = int(state.get("top") or state.get("next_from") or 0)
        except (TypeError, ValueError) as exc:
            raise ConnectorError(f"unreadable TikTok Shop chat cursor {state!r}"[:200], permanent=True) from exc
        params: dict[str, Any] = {"page_size": CHAT_PAGE_SIZE}
        if state.get("token"):
            params["page_token"] = state["token"]
        data = client.call("GET", CONVERSATIONS_PATH, params=params, bucket="tiktok:chat")
        records: list[RawRecord] = []
        reached_older = False
        for conversation in _list(data, "conversations", "conversations"):
            head = conversation if isinstance(conversation, Mapping) else {}
            latest = mapping.dig(head, "latest_message.create_time")
            if not head.get("id") or not isinstance(latest, int) or isinstance(latest, bool):
                records.append(
                    RawRecord(
                        Stream.MESSAGES,
                        mapping.version_key("message", head),
                        {"kind": "message", "conversation": dict(head), "data": {}},
                    )
                )
                continue
            if latest < watermark:
                reached_older = True
                break
            top = max(top, latest)
            for message in reversed(self._messages(client, str(head["id"]), watermark)):
                payload = {"kind": "message", "conversation": dict(head), "data": message}
                records.append(
                    RawRecord(
                        Stream.MESSAGES,
                        mapping.version_key("message", message),
                        media.with_downloads(client, payload, mapping.media_urls(message), bucket="tiktok:chat"),
                    )
                )
        if not reached_older and data.get("next_page_token"):
            state = {"watermark": watermark, "top": top, "token": str(data["next_page_token"])}
            return Page(records, json.dumps(state), done=False)
        return Page(records, json.dumps({"next_from": max(top, watermark + int(OVERLAP.total_seconds()))}), True)

    def _messages(self, client: TikTokClient, conversation_id: str, watermark: int) -> list[Any]:
        messages: list[Any] = []
        token = ""
        for _ in range(50):  # at most 1,000 messages of one conversation per pass
            params: dict[str, Any] = {"page_size": CHAT_PAGE_SIZE, "sort_order": "DESC"}
            if token:
                params["page_token"] = token
            path = f"{CONVERSATIONS_PATH}/{conversation_id}/messages"
            data = client.call("GET", path, params=params, bucket="tiktok:chat")
            batch = _list(data, "messages", "messages")
            older = False
            for message in batch:
                sent = message.get("create_time") if isinstance(message, Mapping) else None
                if isinstance(sent, int) and not isinstance(sent, bool) and sent < watermark:
                    older = True
                    continue
                messages.append(message)  # malformed ones too: quarantined by map_record
            following = str(data.get("next_page_token") or "")
            if older or not batch or not following or following == token:
                break
            token = following
        return messages

    def map_record(self, ctx: StoreContext, raw: RawRecord) -> list[Record]:
        return mapping.map_payload(raw.payload, currency=self._currency(ctx), region=region_code(ctx.site))

    def test_connection(self, ctx: StoreContext) -> ConnectionCheck:
        try:
            with self.client(ctx) as client:
                data = client.call("GET", SHOPS_PATH, shop=False)
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, detail=str(exc))
        cipher = str(ctx.credentials.get("shop_cipher") or "")
        for shop in _list(data, "shops", "shops"):
            if isinstance(shop, Mapping) and shop.get("cipher") == cipher:
                return ConnectionCheck(
                    ok=True, detail=f"TikTok Shop answered: shop {shop.get('name')} ({shop.get('region')})"
                )
        return ConnectionCheck(ok=False, detail="TikTok Shop does not list this shop_cipher among the authorised shops")

    # -- webhooks ----------------------------------------------------------------------------------
    def verify_webhook(self, ctx: StoreContext, headers: Mapping[str, str], body: bytes) -> list[RawRecord]:
        verify_signature(
            app_key=str(ctx.credentials.get("app_key") or ""),
            app_secret=str(ctx.credentials.get("app_secret") or ""),
            headers=headers,
            body=body,
        )
        push = parse_webhook(body, shop_id=str(ctx.credentials.get("shop_id") or ctx.seller_id or ""))
        data = push.get("data") or {}
        kind = push["type"]
        with self.client(ctx) as client:
            if kind == ORDER_STATUS_CHANGE and data.get("order_id"):
                found = client.call("GET", ORDERS_PATH, params={"ids": str(data["order_id"])}, bucket="tiktok:orders")
                return [
                    RawRecord(Stream.ORDERS, mapping.version_key("order", o), {"kind": "order", "data": o})
                    for o in _list(found, "orders", "orders")
                ]
            if kind == RETURN_STATUS_CHANGE and data.get("return_id"):
                return [self._return_record(r) for r in self._find_returns(client, str(data["return_id"]))]
            if kind == CANCELLATION_STATUS_CHANGE and data.get("cancel_id"):
                found = client.call(
                    "POST",
                    CANCELLATIONS_SEARCH_PATH,
                    body={"cancel_ids": [str(data["cancel_id"])]},
                    bucket="tiktok:returns",
                )
                return [
                    RawRecord(
                        Stream.RETURNS, mapping.version_key("cancellation", c), {"kind": "cancellation", "data": c}
                    )
                    for c in _list(found, "cancellations", "cancellations/search")
                ]
            if kind == NEW_MESSAGE and data.get("conversation_id"):
                since = int(push.get("timestamp") or _seconds(now())) - int(OVERLAP.total_seconds())
                conversation_id = str(data["conversation_id"])
                head = self._conversation(client, {"id": conversation_id, "participants": data.get("participants")})
                return [
                    RawRecord(
                        Stream.MESSAGES,
                        mapping.version_key("message", m),
                        media.with_downloads(
                            client,
                            {"kind": "message", "conversation": head, "data": m},
                            mapping.media_urls(m),
                            bucket="tiktok:chat",
                        ),
                    )
                    for m in reversed(self._messages(client, conversation_id, since))
                ]
        return [RawRecord(Stream.ORDERS, webhook_event_id(push, body), {"kind": "push", "type": kind})]

    def _conversation(self, client: TikTokClient, head: dict[str, Any]) -> dict[str, Any]:
        """The conversation of a new-message webhook, with its participants (from the list)."""
        if isinstance(head.get("participants"), list):
            return head
        data = client.call("GET", CONVERSATIONS_PATH, params={"page_size": CHAT_PAGE_SIZE}, bucket="tiktok:chat")
        for conversation in _list(data, "conversations", "conversations"):
            if isinstance(conversation, Mapping) and str(conversation.get("id")) == head["id"]:
                return dict(conversation)
        return head

    # -- returns -----------------------------------------------------------------------------------
    @staticmethod
    def _return_record(data: Mapping[str, Any]) -> RawRecord:
        return RawRecord(Stream.RETURNS, mapping.version_key("return", data), {"kind": "return", "data": data})

    def _find_returns(self, client: TikTokClient, return_id: str) -> list[Any]:
        data = client.call("POST", RETURNS_SEARCH_PATH, body={"return_ids": [return_id]}, bucket="tiktok:returns")
        return _list(data, "return_orders", "returns/search")

    def _return(self, client: TikTokClient, return_id: str) -> Mapping[str, Any]:
        for found in self._find_returns(client, return_id):
            if isinstance(found, Mapping) and str(found.get("return_id")) == return_id:
                return found
        raise ConnectorError(f"TikTok Shop knows no return {return_id}", permanent=True)

    def decide_return(self, ctx: StoreContext, decision: ReturnDecision) -> WriteReceipt:
        with self.client(ctx) as client:
            if decision.kind == ReturnKind.CANCELLATION:
                return self._decide_cancellation(client, decision)
            current = self._return(client, decision.return_external_id)
            state = (str(current.get("return_status")), str(current.get("return_type")))
            if decision.decision in (ReturnDecisionKind.APPROVE, ReturnDecisionKind.MARK_RECEIVED):
                word = APPROVALS.get(state)
                if word is None or (decision.decision == ReturnDecisionKind.MARK_RECEIVED) != (
                    word == "APPROVE_RECEIVED_PACKAGE"
                ):
                    raise ConnectorError(
                        f"TikTok Shop allows no {decision.decision} of a {state[1]} return in {state[0]}",
                        permanent=True,
                    )
                self._post_decision(client, decision.return_external_id, "approve", {"decision": word})
                return WriteReceipt(external_id=decision.return_external_id, detail=word)
            if decision.decision == ReturnDecisionKind.DECLINE:
                word = REJECTIONS.get(state)
                if word is None:
                    raise ConnectorError(
                        f"TikTok Shop allows no rejection of a {state[1]} return in {state[0]}", permanent=True
                    )
                reason = self._reject_reason(client, decision)
                body = {"decision": word, "reject_reason": reason, "comment": decision.comment.strip()[:1000]}
                self._post_decision(client, decision.return_external_id, "reject", body)
                return WriteReceipt(external_id=decision.return_external_id, detail=f"{word} {reason}")
            if decision.decision == ReturnDecisionKind.OFFER_PARTIAL_REFUND:
                return self._offer_partial_refund(client, decision, current, state, ctx.currency)
        raise ConnectorError(
            f"TikTok Shop returns have no {decision.decision} decision (TikTok arranges the return shipping)",
            permanent=True,
        )

    def _offer_partial_refund(
        self,
        client: TikTokClient,
        decision: ReturnDecision,
        current: Mapping[str, Any],
        state: tuple[str, str],
        store_currency: str,
    ) -> WriteReceipt:
        """Approve Return (202309) with decision OFFER_PARTIAL_REFUND and partial_refund {amount,
        currency} (amount a decimal string): the buyer keeps the item and, if they accept, gets that
        amount. Offered on a refund or return-and-refund request still awaiting the seller, for less
        than the refund the buyer asked (refund_amount.refund_total) and in its currency."""
        if state[0] != "RETURN_OR_REFUND_REQUEST_PENDING" or state[1] not in ("REFUND", "RETURN_AND_REFUND"):
            raise ConnectorError(
                f"TikTok Shop allows no partial refund offer on a {state[1]} return in {state[0]}", permanent=True
            )
        raw = current.get("refund_amount")
        asked: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        currency = str(asked.get("currency") or decision.currency or store_currency)
        if decision.currency and decision.currency != currency:
            raise ConnectorError(
                f"the offer is in {decision.currency}, the request in {currency}", permanent=True, code="currency"
            )
        amount = decision.amount
        if amount is None or amount <= 0:
            raise ConnectorError("a partial refund offer needs an amount", permanent=True, code="amount")
        try:
            total = Decimal(str(asked.get("refund_total")))
        except (ArithmeticError, ValueError):
            total = None
        if total is not None and amount >= total:
            raise ConnectorError(
                f"a partial refund is less than the {total} {currency} asked: approve the request instead",
                permanent=True,
                code="amount",
            )
        offer = {"amount": str(amount.quantize(Decimal("0.01"))), "currency": currency}
        body = {"decision": "OFFER_PARTIAL_REFUND", "partial_refund": offer}
        self._post_decision(client, decision.return_external_id, "approve", body)
        return WriteReceipt(
            external_id=decision.return_external_id, detail=f"OFFER_PARTIAL_REFUND {offer['amount']} {currency}"
        )

    def _post_decision(
        self, client: TikTokClient, return_id: str, verb: str, body: dict[str, Any], *, what: str = "returns"
    ) -> None:
        client.call(
            "POST",
            f"/return_refund/202309/{what}/{return_id}/{verb}",
            params={"idempotency_key": _key(what, return_id, verb, json.dumps(body, sort_keys=True))},
            body=body,
            bucket="tiktok:returns",
            idempotent=True,  # the idempotency_key makes a resend the same request
        )

    def _reject_reason(self, client: TikTokClient, decision: ReturnDecision) -> str:
        """A rejection names one of the reasons TikTok offers for this request (Get Reject
        Reasons); the seller's comment says the rest. TikTok asks for a comment: it is required."""
        if not decision.comment.strip():
            raise ConnectorError("a rejection needs a comment explaining it", permanent=True, code="comment")
        data = client.call(
            "GET",
            REJECT_REASONS_PATH,
            params={"return_or_cancel_id": decision.return_external_id},
            bucket="tiktok:returns",
        )
        reasons = [r for r in _list(data, "reasons", "reject_reasons") if isinstance(r, Mapping) and r.get("name")]
        if not reasons:
            raise ConnectorError("TikTok Shop offers no rejection reason for this request", permanent=True)
        for reason in reasons:  # "Other" when offered: the comment says the rest
            if "other" in str(reason.get("text", "")).lower():
                return str(reason["name"])
        return str(reasons[0]["name"])

    def _decide_cancellation(self, client: TikTokClient, decision: ReturnDecision) -> WriteReceipt:
        cancel_id = decision.return_external_id
        if decision.decision == ReturnDecisionKind.APPROVE:
            self._post_decision(client, cancel_id, "approve", {}, what="cancellations")
            return WriteReceipt(external_id=cancel_id, detail="approve cancellation")
        if decision.decision == ReturnDecisionKind.DECLINE:
            reason = self._reject_reason(client, decision)
            body = {"reject_reason": reason, "comment": decision.comment.strip()[:1000]}
            self._post_decision(client, cancel_id, "reject", body, what="cancellations")
            return WriteReceipt(external_id=cancel_id, detail=f"reject cancellation {reason}")
        raise ConnectorError(f"TikTok Shop cancellations have no {decision.decision} decision", permanent=True)

    def issue_refund(self, ctx: StoreContext, refund: RefundRequest) -> RefundReceipt:
        """TikTok refunds the buyer when the seller approves a refund request or a received return
        package; the seller cannot send money otherwise through return_refund 202309. So a refund
        names its return and is its whole amount; a resend finds the return already refunded."""
        if not refund.return_external_id:
            raise ConnectorError(
                "TikTok Shop refunds only through the buyer's return or refund request: refund this order on TikTok",
                permanent=True,
            )
        external_id = f"return:{refund.return_external_id}"
        with self.client(ctx) as client:
            current = self._return(client, refund.return_external_id)
            status, kind = str(current.get("return_status")), str(current.get("return_type"))
            if status in REFUNDED_STATUSES:
                return RefundReceipt(external_id, RefundState.SUCCEEDED, detail=f"return already {status} (reconciled)")
            requested = mapping.amount(current, "refund_amount.refund_total", required=False)
            if requested is not None and refund.amount.quantize(Decimal("0.01")) != requested.quantize(Decimal("0.01")):
                raise ConnectorError(
                    f"TikTok Shop refunds a return in full ({requested} "
                    f"{mapping.dig(current, 'refund_amount.currency') or ''}): approve the request instead",
                    permanent=True,
                )
            word = {
                ("RETURN_OR_REFUND_REQUEST_PENDING", "REFUND"): "APPROVE_REFUND",
                ("BUYER_SHIPPED_ITEM", "RETURN_AND_REFUND"): "APPROVE_RECEIVED_PACKAGE",
            }.get((status, kind))
            if word is None:
                raise ConnectorError(
                    f"TikTok Shop cannot refund a {kind} return in {status} yet (the item must be received first)",
                    permanent=True,
                )
            self._post_decision(client, refund.return_external_id, "approve", {"decision": word})
        return RefundReceipt(external_id, RefundState.PENDING, detail=word)

    def refund_status(self, ctx: StoreContext, refund: RefundRequest, receipt: RefundReceipt) -> RefundReceipt:
        with self.client(ctx) as client:
            status = str(self._return(client, receipt.external_id.removeprefix("return:")).get("return_status"))
        if status in REFUNDED_STATUSES:
            return RefundReceipt(receipt.external_id, RefundState.SUCCEEDED, detail=status)
        if status in CLOSED_STATUSES:
            return RefundReceipt(receipt.external_id, RefundState.FAILED, detail=status)
        return RefundReceipt(receipt.external_id, RefundState.PENDING, detail=status)

    # -- messages ----------------------------------------------------------------------------------
    def send_reply(self, reply: OutboundReply) -> SentReceipt:
        return send_through_store(self, reply)

    def send_message(self, ctx: StoreContext, reply: OutboundReply) -> SentReceipt:
        # No maximum length is documented for Send Message: TikTok's own refusal is shown if any.
        text = reply_text(reply, limit=None, platform="TikTok Shop", code="content")
        if reply.attachments:
            raise ConnectorError(
                "TikTok Shop replies are sent as text only: attachments are not sent", permanent=True, code="content"
            )
        conversation_id = reply.conversation_id.removeprefix("tiktok:")
        if not conversation_id:
            raise ConnectorError("the TikTok Shop conversation is unknown", permanent=True, code="conversation_id")
        with self.client(ctx) as client:
            data = client.call(
                "POST",
                f"{CONVERSATIONS_PATH}/{conversation_id}/messages",
                body={"type": "TEXT", "content": json.dumps({"content": text}, ensure_ascii=False)},
                bucket="tiktok:chat",
                idempotent=False,
            )
        message_id = data.get("message_id")
        if not message_id:
            raise ConnectorError("TikTok Shop accepted the message without a message_id")
        return SentReceipt(external_id=f"tiktok:{message_id}", sent_at=now())

    # -- shipping ----------------------------------------------------------------------------------
    def mark_shipped(self, ctx: StoreContext, shipment: ShipmentConfirmation) -> WriteReceipt:
        """Mark Package As Shipped (fulfillment 202309) for an order the seller ships itself
        (shipping_type SELLER): the carrier is matched by name to one of the shipping providers of
        the order's delivery option (TikTok wants its `shipping_provider_id`), the lines are the
        given ones or every line not shipped yet. An order TikTok ships with its own label is
        refused. Idempotent: a line that already carries this tracking number means the package was
        marked: reconciled, not sent again."""
        order_id = shipment.order_external_id
        with self.client(ctx) as client:
            data = client.call("GET", ORDERS_PATH, params={"ids": order_id}, bucket="tiktok:orders")
            found = _list(data, "orders", "Get Order Detail")
            order = found[0] if found and isinstance(found[0], Mapping) else None
            if order is None:
                raise ConnectorError(f"TikTok Shop has no order {order_id}", permanent=True)
            lines = [item for item in order.get("line_items") or [] if isinstance(item, Mapping)]
            shipped = {str(item.get("tracking_number") or "") for item in lines} - {""}
            if shipment.tracking_number in shipped:
                package = next(
                    str(i.get("package_id") or "")
                    for i in lines
                    if i.get("tracking_number") == shipment.tracking_number
                )
                return WriteReceipt(external_id=package, detail=f"reconciled: shipped with {shipment.tracking_number}")
            status = str(order.get("status") or "")
            if status not in TO_SHIP_STATUSES:
                raise ConnectorError(
                    f"TikTok Shop order {order_id} is {status}, not awaiting shipment"
                    + (f" (tracking {', '.join(sorted(shipped))})" if shipped else ""),
                    permanent=True,
                )
            if str(order.get("shipping_type") or "") != "SELLER":
                raise ConnectorError(
                    f"TikTok Shop ships order {order_id} with its own label (shipping_type "
                    f"{order.get('shipping_type') or 'unknown'}): print the label in Seller Center",
                    permanent=True,
                )
            provider = self._provider(client, str(order.get("delivery_option_id") or ""), shipment.carrier)
            line_ids = list(shipment.line_ids) or [
                str(item.get("id")) for item in lines if not item.get("tracking_number")
            ]
            answer = client.call(
                "POST",
                PACKAGES_PATH.format(order_id=order_id),
                body={
                    "order_line_item_ids": line_ids,
                    "tracking_number": shipment.tracking_number,
                    "shipping_provider_id": provider,
                },
                bucket="tiktok:orders",
                idempotent=False,  # not resent after a timeout: the next attempt reconciles
            )
        return WriteReceipt(
            external_id=str(answer.get("package_id") or ""), detail=f"package {shipment.tracking_number}"
        )

    def _provider(self, client: TikTokClient, delivery_option_id: str, carrier: str) -> str:
        """The id of the shipping provider named `carrier` (case, spaces and punctuation aside)."""
        if not delivery_option_id:
            raise ConnectorError("the TikTok Shop order has no delivery_option_id", permanent=True)
        data = client.call("GET", PROVIDERS_PATH.format(delivery_option_id=delivery_option_id), bucket="tiktok:orders")
        providers = [p for p in _list(data, "shipping_providers", "Get Shipping Providers") if isinstance(p, Mapping)]

        def plain(name: str) -> str:
            return "".join(c for c in name.casefold() if c.isalnum())

        for candidate in providers:
            if plain(str(candidate.get("name") or "")) == plain(carrier):
                return str(candidate.get("id"))
        names = ", ".join(str(p.get("name")) for p in providers[:12])
        raise ConnectorError(
            f"TikTok Shop has no shipping provider {carrier!r} for this order's delivery option; it offers: {names}",
            permanent=True,
        )


__all__ = ["TikTokConnector"]
