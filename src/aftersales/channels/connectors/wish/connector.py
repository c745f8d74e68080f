"""Wish Merchant API v3 connector: pulls orders (GET /api/v3/orders) and tickets (GET
/api/v3/tickets: the buyer's messages with their pictures, a ticket appealed to Wish (AWAITING_WISH)
kept as a case), and writes back: ticket replies (POST /api/v3/tickets/{id}/replies), closing a
ticket and appealing one to Wish support (PUT /api/v3/tickets/{id} with the new state), the refund of
an order (PUT /api/v3/orders/{id}/refund) and its tracking (PUT /api/v3/orders/{id}/tracking).
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
    ShipmentConfirmation,
    StoreContext,
    Stream,
    WriteReceipt,
)
from aftersales.channels.connectors import marketplace, media
from aftersales.channels.fields import dig
from aftersales.channels.http import ClientPerCall
from aftersales.channels.replies import reply_text, send_through_store
from aftersales.core.clock import now

from . import mapping
from .client import DEFAULT_BASE_URL, WishClient

ORDERS_PATH = "/api/v3/orders"
TICKETS_PATH = "/api/v3/tickets"
PAGE_SIZE = 100
MAX_LIMIT = 500  # the lists' documented maximum `limit`
LOOKBACK = timedelta(days=30)
REFUND_ALREADY = frozenset({"REFUNDED"})
CARRIERS_PATH = "/api/v3/orders/shipping_carriers"
# The order state in which Wish takes a first tracking number ("APPROVED: Order is ready to be shipped").
TO_SHIP = "APPROVED"


class WishConnector(ClientPerCall[WishClient]):
    platform = "wish"
    capabilities = marketplace.MARKETPLACE_CAPABILITIES | {Capability.CLOSE_TICKET, Capability.MARK_SHIPPED}
    rate_limits: ClassVar[dict[str, tuple[float, int]]] = marketplace.store_buckets(
        "wish", ("orders", "tickets"), per_second=5.0, burst=20
    )
    credential_fields: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "refresh_token")
    default_base_url = DEFAULT_BASE_URL
    client_class = WishClient

    # -- pulling -----------------------------------------------------------------------------------
    def pull(self, ctx: StoreContext, stream: Stream, cursor: str | None, since: datetime | None) -> Page:
        """Keyset paging on updated_at, as Wish documents its lists (no offset): `updated_at_min`
        (inclusive), `sort_by=updated_at.asc`, `limit`. The cursor is the last updated_at read and
        the ids read at that instant ({"from", "seen"}); the next page asks from that instant again
        with a limit raised by the ids seen there, so records sharing one timestamp across a page
        boundary are neither lost nor read twice. An older cursor ({"from", "offset"}) reads again
        from its "from" (what was read twice is a known version: nothing is duplicated)."""
        kinds = {
            Stream.ORDERS: ("order", ORDERS_PATH, "wish:orders"),
            Stream.MESSAGES: ("ticket", TICKETS_PATH, "wish:tickets"),
        }
        if stream not in kinds:
            raise ConnectorError(f"Wish has no {stream} stream", permanent=True)
        kind, path, bucket = kinds[stream]
        state = marketplace.json_cursor(cursor, "Wish")
        start = str(state.get("from") or "") or (since or now() - LOOKBACK).isoformat()
        seen = [str(i) for i in state.get("seen") or [] if isinstance(i, str | int)]
        limit = PAGE_SIZE + len(seen)
        if limit > MAX_LIMIT:
            raise ConnectorError(
                f"more than {MAX_LIMIT - PAGE_SIZE} Wish {kind}s share the updated_at {start}: "
                "the documented paging cannot read past them",
                permanent=True,
            )
        params = {"updated_at_min": start, "sort_by": "updated_at.asc", "limit": limit}
        with self.client(ctx) as client:
            items = client.call("GET", path, params=params, bucket=bucket)
            if not isinstance(items, list):
                raise ConnectorError(f"Wish answered {path} without a list")
            following = mapping.keyset_after(items, start, seen)
            fresh = [i for i in items if not mapping.already_read(i, start, seen)]
            records = [
                RawRecord(stream, mapping.version_key(kind, item), self._with_pictures(client, kind, item))
                for item in fresh
            ]
        return Page(records, json.dumps(following), done=len(items) < limit)

    @staticmethod
    def _with_pictures(client: WishClient, kind: str, item: object) -> dict[str, object]:
        """The stored payload of a pulled order or ticket; a ticket's replies' supporting files
        (image links Wish lets expire after 60 minutes) are fetched now, under "media" by reply
        position, for the mapping to attach."""
        payload: dict[str, object] = {"kind": kind, "data": item}
        if kind == "ticket":
            pictures = {
                str(n): media.download_all(client, urls, bucket="wish:tickets", base_url=client.ctx.base_url)
                for n, urls in mapping.picture_urls(item).items()
            }
            if pictures:
                payload["media"] = pictures
        return payload

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
                f"{TICKETS_PATH}/{ticket_id}/replies",
                body={"message": text},
                bucket="wish:tickets",
                idempotent=False,
            )
        return SentReceipt(external_id=f"wish:{ticket_id}:reply:{reply.message_id}", sent_at=now())

    def _ticket_state(self, ctx: StoreContext, conversation_id: str, state: str) -> str:
        """Update a ticket (PUT /api/v3/tickets/{id}, UpdateTicket {"state": ...}); returns its id."""
        ticket_id = self._ticket_id(conversation_id)
        with self.client(ctx) as client:
            client.call("PUT", f"{TICKETS_PATH}/{ticket_id}", body={"state": state}, bucket="wish:tickets")
        return ticket_id

    def close_ticket(self, ctx: StoreContext, conversation_id: str) -> WriteReceipt:
        return WriteReceipt(external_id=self._ticket_state(ctx, conversation_id, "CLOSED"), detail="closed")

    def escalate_ticket(self, ctx: StoreContext, conversation_id: str) -> WriteReceipt:
        """Appeal the ticket to Wish support: UpdateTicket state AWAITING_WISH ("To appeal to wish
        for a ticket, update the state to be AWAITING_WISH"). Setting the same state twice is
        harmless, so a resend after a lost answer is safe."""
        ticket_id = self._ticket_state(ctx, conversation_id, mapping.ESCALATED)
        return WriteReceipt(external_id=ticket_id, detail="appealed to Wish support")

    def closed_state(self, store_id: int, conversation_id: str) -> str:
        """Wish's state of the ticket when it is closed there ("CLOSED", "PERMANENTLY_CLOSED"), else
        "": the latest of the state last pulled (the ticket's newest raw event) and our own close
        through the ledger (succeeded after that pull). Read here, without calling Wish, so the
        ticket page can stop offering "Escalate to Wish" (Wish refuses to appeal a closed ticket)."""
        from aftersales.channels.models import RawEvent, WriteBack, WriteBackStatus

        ticket_id = conversation_id.removeprefix("wish:")
        if not ticket_id or ticket_id == conversation_id:
            return ""
        pulled = (
            RawEvent.objects.filter(store_id=store_id, event_id__startswith=f"ticket:{ticket_id}:")
            .order_by("-pk")
            .values_list("payload", "received_at")
            .first()
        )
        closed_by_us = (
            WriteBack.objects.filter(
                store_id=store_id,
                idempotency_key=f"ticket:{conversation_id}:close",
                status=WriteBackStatus.SUCCEEDED,
            )
            .values_list("finished_at", flat=True)
            .first()
        )
        state = str(dig(pulled[0], "data.state") or "") if pulled else ""
        if closed_by_us is not None and (pulled is None or pulled[1] < closed_by_us):
            return "CLOSED"
        return state if state in mapping.CLOSED_STATES else ""

    def issue_refund(self, ctx: StoreContext, refund: RefundRequest) -> RefundReceipt:
        """Refund/Cancel an order (PUT /api/v3/orders/{id}/refund, RefundOrder: `refund_reason` from
        the RefundReason enum, `refund_reason_note`). Our reason is mapped onto Wish's enum before
        any call (mapping.refund_reason; one that does not map is refused naming `reason`); the
        order is read first (an order already REFUNDED is reconciled, not refunded twice; Wish
        refunds a whole order), then the reasons Wish accepts for it (GET .../refund_reasons), which
        must include ours."""
        reason = mapping.refund_reason(refund.reason)
        if reason is None:
            raise ConnectorError(
                f"reason: {refund.reason!r} is no refund reason Wish knows; use one of "
                f"{', '.join(sorted(mapping.REFUND_REASON_OF))} or Wish's own ({', '.join(mapping.REFUND_REASONS)})",
                permanent=True,
                code="reason",
            )
        path = f"{ORDERS_PATH}/{refund.order_external_id}"
        with self.client(ctx) as client:
            order = client.call("GET", path, bucket="wish:orders")
            if not isinstance(order, Mapping):
                raise ConnectorError("Wish answered the order without an object")
            if str(order.get("state")) in REFUND_ALREADY:
                return RefundReceipt(
                    refund.order_external_id, RefundState.SUCCEEDED, detail="already refunded (reconciled)"
                )
            total = mapping.amount(order, f"{mapping.PAYMENT}.payment_total.amount", required=False)
            if total is not None and refund.amount != total:
                raise ConnectorError(
                    f"Wish refunds a whole order ({total}): refund {refund.amount} on Wish", permanent=True
                )
            allowed = client.call("GET", f"{path}/refund_reasons", bucket="wish:orders")
            if not isinstance(allowed, list):
                raise ConnectorError("Wish answered the refund reasons without a list")
            if reason not in allowed:
                raise ConnectorError(
                    f"reason: Wish does not take {reason} for order {refund.order_external_id}; "
                    f"it takes {', '.join(str(r) for r in allowed) or 'none'}",
                    permanent=True,
                    code="reason",
                )
            note = (refund.note or refund.reason).strip()[:500] or reason
            client.call(
                "PUT",
                f"{path}/refund",
                body={"refund_reason": reason, "refund_reason_note": note},
                bucket="wish:orders",
            )
        return RefundReceipt(refund.order_external_id, RefundState.SUCCEEDED, detail=f"refunded ({reason})")

    def refund_status(self, ctx: StoreContext, refund: RefundRequest, receipt: RefundReceipt) -> RefundReceipt:
        return receipt

    # -- shipping ----------------------------------------------------------------------------------
    def mark_shipped(self, ctx: StoreContext, shipment: ShipmentConfirmation) -> WriteReceipt:
        """Ship or update tracking (PUT /api/v3/orders/{id}/tracking, `UpdateTracking`: tracking_number,
        shipping_provider, origin_country; Wish ships a whole order, one product per order, so line
        ids are not sent). Reconciled first: an order whose tracking_information already carries
        this number was marked, and is not sent again. The carrier is matched by name (any case) to
        Wish's accepted carriers (GET /api/v3/orders/shipping_carriers?order_type=GENERAL); the
        country the parcel leaves from is the store's `origin_country` (or the order's earlier
        tracking). docs/connectors/wish.md cites the reference."""
        order_id = shipment.order_external_id
        number = shipment.tracking_number
        if not number.isalnum():
            raise ConnectorError(f"Wish takes tracking numbers of letters and digits only: {number!r}", permanent=True)
        path = f"{ORDERS_PATH}/{order_id}"
        with self.client(ctx) as client:
            order = client.call("GET", path, bucket="wish:orders")
            if not isinstance(order, Mapping):
                raise ConnectorError("Wish answered the order without an object")
            tracking = [t for t in order.get("tracking_information") or [] if isinstance(t, Mapping)]
            if any(str(t.get("tracking_number") or "") == number for t in tracking):
                return WriteReceipt(external_id=order_id, detail=f"reconciled: shipped with {number}")
            state = str(order.get("state") or "")
            if state != TO_SHIP:
                raise ConnectorError(
                    f"Wish order {order_id} is {state or 'in no state'}, not awaiting shipment", permanent=True
                )
            origin = str(ctx.credentials.get("origin_country") or "").strip().upper() or next(
                (str(t.get("origin_country") or "").upper() for t in tracking if t.get("origin_country")), ""
            )
            if len(origin) != 2 or not origin.isalpha():
                raise ConnectorError(
                    "Wish needs the country the parcel ships from (origin_country, two letters): "
                    "set it on the store's credentials, or mark the order shipped on Wish",
                    permanent=True,
                )
            carriers = client.call("GET", CARRIERS_PATH, params={"order_type": "GENERAL"}, bucket="wish:orders")
            names = [str(c.get("name")) for c in carriers or [] if isinstance(c, Mapping) and c.get("name")]
            provider = next((n for n in names if n.casefold() == shipment.carrier.strip().casefold()), None)
            if provider is None:
                raise ConnectorError(
                    f"Wish accepts no shipping carrier {shipment.carrier!r}; accepted: {', '.join(names[:20])}",
                    permanent=True,
                )
            client.call(
                "PUT",
                f"{path}/tracking",
                body={"tracking_number": number, "shipping_provider": provider, "origin_country": origin},
                bucket="wish:orders",
                idempotent=False,  # not resent after a timeout: the next attempt reconciles
            )
        return WriteReceipt(external_id=order_id, detail=f"tracking {number} with {provider}")
