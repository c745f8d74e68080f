"""Wish Merchant API v3 connector: pulls orders (GET /api/v3/orders) and tickets (GET
/api/v3/tickets: the buyer's messages, with Wish support's escalation kept as a case), and writes
back: ticket replies (POST /api/v3/tickets/{id}/reply), closing a ticket (PUT
/api/v3/tickets/{id}/close) and the refund of an order (PUT /api/v3/orders/{id}/refund).
docs/connectors/wish.md lists the calls, the facts relied on and what is not certain."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import ClassVar

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
    SentReceipt,
    StoreContext,
    Stream,
    WriteReceipt,
)
from aftersales.channels.connectors import marketplace
from aftersales.channels.http import ClientPerCall
from aftersales.channels.replies import reply_text, send_through_store
from aftersales.core.clock import now

from . import mapping
from .client import DEFAULT_BASE_URL, WishClient

ORDERS_PATH = "/api/v3/orders"
TICKETS_PATH = "/api/v3/tickets"
PAGE_SIZE = 100
LOOKBACK = timedelta(days=30)
OVERLAP = timedelta(minutes=10)
# Wish's refund reason codes (v3 refund): 18 = "Other", with the note as the explanation.
REFUND_REASON_OTHER = 18
REFUND_ALREADY = frozenset({"REFUNDED"})


class WishConnector(ClientPerCall[WishClient]):
    platform = "wish"
    capabilities = marketplace.MARKETPLACE_CAPABILITIES | {Capability.CLOSE_TICKET}
    rate_limits: ClassVar[dict[str, tuple[float, int]]] = marketplace.store_buckets(
        "wish", ("orders", "tickets"), per_second=5.0, burst=20
    )
    credential_fields: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "refresh_token")
    default_base_url = DEFAULT_BASE_URL
    client_class = WishClient

    # -- pulling -----------------------------------------------------------------------------------
    def pull(self, ctx: StoreContext, stream: Stream, cursor: str | None, since: datetime | None) -> Page:
        kinds = {
            Stream.ORDERS: ("order", ORDERS_PATH, "wish:orders"),
            Stream.MESSAGES: ("ticket", TICKETS_PATH, "wish:tickets"),
        }
        if stream not in kinds:
            raise ConnectorError(f"Wish has no {stream} stream", permanent=True)
        kind, path, bucket = kinds[stream]
        state = marketplace.json_cursor(cursor, "Wish")
        start = str(state.get("from") or "") or (since or now() - LOOKBACK).isoformat()
        offset = int(state.get("offset") or 0)
        params = {"updated_at_min": start, "sort_by": "updated_at.asc", "limit": PAGE_SIZE, "offset": offset}
        with self.client(ctx) as client:
            items = client.call("GET", path, params=params, bucket=bucket)
        if not isinstance(items, list):
            raise ConnectorError(f"Wish answered {path} without a list")
        records = [RawRecord(stream, mapping.version_key(kind, i), {"kind": kind, "data": i}) for i in items]
        if len(items) == PAGE_SIZE:
            return Page(records, json.dumps({"from": start, "offset": offset + PAGE_SIZE}), done=False)
        latest = max(
            (str(i.get("updated_at")) for i in items if isinstance(i, Mapping) and i.get("updated_at")), default=""
        )
        try:
            following = (
                (datetime.fromisoformat(latest.replace("Z", "+00:00")) - OVERLAP).isoformat() if latest else start
            )
        except ValueError:
            following = start
        return Page(records, json.dumps({"from": max(following, start)}), done=True)

    def map_record(self, ctx: StoreContext, raw: RawRecord) -> list[Record]:
        return mapping.map_payload(raw.payload, currency=ctx.currency)

    def test_connection(self, ctx: StoreContext) -> ConnectionCheck:
        try:
            with self.client(ctx) as client:
                client.call("GET", TICKETS_PATH, params={"limit": 1})
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, detail=str(exc))
        return ConnectionCheck(ok=True, detail="Wish answered the ticket list")

    # -- write-backs -------------------------------------------------------------------------------
    def send_reply(self, reply: OutboundReply) -> SentReceipt:
        return send_through_store(self, reply)

    @staticmethod
    def _ticket_id(conversation_id: str) -> str:
        ticket_id = conversation_id.removeprefix("wish:")
        if not ticket_id or ticket_id == conversation_id:
            raise ConnectorError("this conversation is not a Wish ticket: answer it on Wish", permanent=True)
        return ticket_id

    def send_message(self, ctx: StoreContext, reply: OutboundReply) -> SentReceipt:
        text = reply_text(reply, limit=None, platform="Wish", code="message")
        if reply.attachments:
            raise ConnectorError("Wish ticket replies are sent as text only", permanent=True, code="message")
        ticket_id = self._ticket_id(reply.conversation_id)
        with self.client(ctx) as client:
            client.call(
                "POST",
                f"{TICKETS_PATH}/{ticket_id}/reply",
                body={"message": text},
                bucket="wish:tickets",
                idempotent=False,
            )
        return SentReceipt(external_id=f"wish:{ticket_id}:reply:{reply.message_id}", sent_at=now())

    def close_ticket(self, ctx: StoreContext, conversation_id: str) -> WriteReceipt:
        ticket_id = self._ticket_id(conversation_id)
        with self.client(ctx) as client:
            client.call("PUT", f"{TICKETS_PATH}/{ticket_id}/close", body={}, bucket="wish:tickets")
        return WriteReceipt(external_id=ticket_id, detail="closed")

    def issue_refund(self, ctx: StoreContext, refund: RefundRequest) -> RefundReceipt:
        """Wish refunds a whole order (no partial amounts): reconciled first, so a resend after a
        lost answer refunds nothing twice."""
        path = f"{ORDERS_PATH}/{refund.order_external_id}"
        with self.client(ctx) as client:
            order = client.call("GET", path, bucket="wish:orders")
            if not isinstance(order, Mapping):
                raise ConnectorError("Wish answered the order without an object")
            if str(order.get("state")) in REFUND_ALREADY:
                return RefundReceipt(
                    refund.order_external_id, RefundState.SUCCEEDED, detail="already refunded (reconciled)"
                )
            total = mapping.amount(order, "order_payment.general_payment_details.payment_total.amount", required=False)
            if total is not None and refund.amount != total:
                raise ConnectorError(
                    f"Wish refunds a whole order ({total}): refund {refund.amount} on Wish", permanent=True
                )
            note = (refund.note or refund.reason or "Refund").strip()[:500]
            client.call(
                "PUT",
                f"{path}/refund",
                body={"reason_code": REFUND_REASON_OTHER, "reason_note": note},
                bucket="wish:orders",
            )
        return RefundReceipt(refund.order_external_id, RefundState.SUCCEEDED, detail="refunded")

    def refund_status(self, ctx: StoreContext, refund: RefundRequest, receipt: RefundReceipt) -> RefundReceipt:
        return receipt
