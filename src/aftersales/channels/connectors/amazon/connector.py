"""The Amazon connector (SP-API): orders, returns, refunds through the payment-adjustment feed,
shipment confirmation. See docs/connectors/amazon.md for what a seller gets and what Amazon does
not allow.

Streams
- orders: searchOrders (Orders API 2026-01-01) by lastUpdatedAfter, page by page
  (paginationToken); the cursor is a watermark (the latest lastUpdatedTime seen, minus an overlap)
  plus the pagination token of the page in progress. One raw record per order version.
- returns: the flat-file report GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE, requested per window
  of at most 60 days (the report's limit), polled until done, downloaded (GZIP or plain), its rows
  grouped per Amazon RMA. The report holds no last-modified time, so every run asks again for the
  last RETURNS_OVERLAP days (status changes of recent returns); unchanged returns are no-ops.

Not offered (and why): buyer messages and replies (SEND_MESSAGE, PULL_MESSAGES): buyers write
through Amazon's e-mail relay, handled by the e-mail channel; SP-API's Messaging API sends only
templated seller-initiated messages and cannot answer a buyer. Deciding a return (DECIDE_RETURN):
SP-API has no operation to authorise or close a merchant-fulfilled return (Seller Central only)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from aftersales.catalog.models import Store
from aftersales.channels import http as channels_http
from aftersales.channels.base import (
    Capability,
    ConnectionCheck,
    ConnectorError,
    IgnoredRecord,
    MappingError,
    OutboundReply,
    Page,
    RawRecord,
    Record,
    RefundReceipt,
    RefundRequest,
    RefundState,
    ReturnDecision,
    SentReceipt,
    ShipmentConfirmation,
    StoreContext,
    Stream,
    WriteReceipt,
)

from . import client as amazon_client
from . import feeds, mapping, schemas
from .client import AmazonClient

RETURNS_REPORT = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
REPORT_WINDOW = timedelta(days=60)  # the longest date range the returns report accepts
RETURNS_OVERLAP = timedelta(days=14)
ORDERS_OVERLAP = timedelta(minutes=10)
ORDERS_LOOKBACK = timedelta(days=30)
DATA_LAG = timedelta(minutes=2)  # SP-API's "before" bounds must be at least two minutes ago

# Carrier codes Amazon's confirmShipment accepts as carrierCode; any other is sent as
# carrierCode "Other" with the carrier's name.
CARRIER_CODES = {
    "ups": "UPS",
    "usps": "USPS",
    "fedex": "FedEx",
    "dhl": "DHL",
    "dhl express": "DHL Express",
    "dpd": "DPD",
    "gls": "GLS",
    "hermes": "Hermes",
    "royal mail": "Royal Mail",
    "parcelforce": "Parcelforce",
    "canada post": "Canada Post",
    "la poste": "La Poste",
    "colissimo": "Colissimo",
    "chronopost": "Chronopost",
    "deutsche post": "Deutsche Post",
    "poste italiane": "Poste Italiane",
    "correos": "Correos",
    "postnl": "PostNL",
    "yamato transport": "Yamato Transport",
    "japan post": "Japan Post",
    "australia post": "Australia Post",
    "ontrac": "OnTrac",
    "amazon shipping": "Amazon Shipping",
}

NOT_OFFERED_MESSAGES = (
    "Amazon buyers write through Amazon's e-mail relay: replies go from the store's mailbox to the "
    "relay address (the e-mail channel). SP-API's Messaging API only sends templated seller-initiated "
    "messages and cannot answer a buyer's message."
)
NOT_OFFERED_RETURNS = (
    "SP-API has no operation to authorise, decline or close a merchant-fulfilled return: decide it in "
    "Seller Central (Manage Returns); the returns report brings the decision back here."
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _load_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError as exc:
        raise ConnectorError(f"unreadable Amazon cursor {cursor[:80]!r}", permanent=True) from exc
    if not isinstance(data, dict):
        raise ConnectorError(f"unreadable Amazon cursor {cursor[:80]!r}", permanent=True)
    return data


def _dump_cursor(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True)


def _unshipped(item: Mapping[str, Any]) -> int:
    """The quantity still to ship: fulfillment.quantityUnfulfilled when Amazon says it, else the
    quantity ordered."""
    fulfillment = item.get("fulfillment")
    if isinstance(fulfillment, Mapping) and fulfillment.get("quantityUnfulfilled") is not None:
        return int(fulfillment["quantityUnfulfilled"])
    return int(item["quantityOrdered"])


def _moment(value: Any) -> datetime | None:
    try:
        return mapping.parse_instant(value, "cursor")
    except MappingError:
        return None


class AmazonConnector:
    platform = "amazon"
    capabilities = frozenset(
        {
            Capability.PULL_ORDERS,
            Capability.PULL_RETURNS,
            Capability.ISSUE_REFUND,
            Capability.MARK_SHIPPED,
            Capability.TEST_CONNECTION,
        }
    )
    # What a seller must provide (POST /api/v1/stores credentials for platform amazon).
    credential_fields: ClassVar[tuple[str, ...]] = ("lwa_client_id", "lwa_client_secret", "refresh_token")
    rate_limits: ClassVar[dict[str, tuple[float, int]]] = dict(amazon_client.RATE_LIMITS)
    not_offered: ClassVar[dict[Capability, str]] = {
        Capability.SEND_MESSAGE: NOT_OFFERED_MESSAGES,
        Capability.PULL_MESSAGES: NOT_OFFERED_MESSAGES,
        Capability.DECIDE_RETURN: NOT_OFFERED_RETURNS,
    }

    # Tunables (tests make them small): orders per page, report polling.
    page_size = 100
    # up to 5 minutes of polling per run, well inside the engine's 10-minute stream lease; a report
    # not ready by then is polled again by the next run (its id stays in the cursor)
    report_poll_attempts = 20
    report_poll_interval = 15.0  # seconds between getReport polls (rate 2/s, burst 15)
    # None: the engine's channels.http.wait_seconds (what tests monkeypatch to record waits)
    sleep: Callable[[float], None] | None = None

    def notification_poll(self, store: Store) -> None:
        """The engine's periodic notification poll (channels/tasks.py, once a minute per store):
        ORDER_CHANGE messages of the store's SQS queue, when it has one (else nothing to do; the
        five-minute orders poll reconciles either way)."""
        if not (store.credentials or {}).get("sqs_queue_url"):
            return
        from .notifications import order_change_poll  # boto3 loads only for stores that use SQS

        order_change_poll(store=store)

    @staticmethod
    def default_base_url(site: str) -> str:
        return amazon_client.default_base_url(site)

    def client(self, ctx: StoreContext) -> AmazonClient:
        return AmazonClient(ctx, sleep=self.sleep)

    # -- pulling ----------------------------------------------------------------------------------
    def pull(self, ctx: StoreContext, stream: Stream, cursor: str | None, since: datetime | None) -> Page:
        if stream == Stream.ORDERS:
            return self._pull_orders(ctx, cursor, since)
        if stream == Stream.RETURNS:
            return self._pull_returns(ctx, cursor, since)
        raise ConnectorError(f"Amazon offers no {stream} stream here", permanent=True)

    def _pull_orders(self, ctx: StoreContext, cursor: str | None, since: datetime | None) -> Page:
        state = _load_cursor(cursor)
        after = _moment(state.get("after")) or since or (datetime.now(UTC) - ORDERS_LOOKBACK)
        with self.client(ctx) as api:
            orders, next_token = api.search_orders(
                last_updated_after=after, pagination_token=state.get("token"), page_size=self.page_size
            )
        records = [self.order_raw(order) for order in orders]
        seen = [m for order in orders if isinstance(order, dict) and (m := _moment(order.get("lastUpdatedTime")))]
        newest = max([*seen, *filter(None, [_moment(state.get("newest"))])], default=None)
        if next_token:
            following = {"after": _iso(after), "token": next_token}
            if newest:
                following["newest"] = _iso(newest)
            return Page(records=records, next_cursor=_dump_cursor(following), done=False)
        watermark = max(after, newest - ORDERS_OVERLAP) if newest else after
        return Page(records=records, next_cursor=_dump_cursor({"after": _iso(watermark)}), done=True)

    @staticmethod
    def order_raw(order: Any) -> RawRecord:
        """An order as stored raw; a payload without orderId / lastUpdatedTime still gets a stable
        event id (its content) so that it is quarantined once, not on every run."""
        if isinstance(order, dict) and order.get("orderId") and order.get("lastUpdatedTime"):
            event_id = mapping.order_event_id(order)
        else:
            digest = hashlib.sha256(json.dumps(order, sort_keys=True, default=str).encode()).hexdigest()[:24]
            event_id = f"malformed-order:{digest}"
        payload = order if isinstance(order, dict) else {"value": order}
        return RawRecord(stream=Stream.ORDERS, event_id=event_id, payload=payload)

    def _pull_returns(self, ctx: StoreContext, cursor: str | None, since: datetime | None) -> Page:
        state = _load_cursor(cursor)
        now = datetime.now(UTC) - DATA_LAG
        start = _moment(state.get("start")) or since or (now - REPORT_WINDOW)
        start = max(start, now - timedelta(days=730))  # the engine's backfill limit: two years
        end = min(start + REPORT_WINDOW, now)
        with self.client(ctx) as api:
            report_id = state.get("report_id")
            if report_id:
                end = _moment(state.get("end")) or end
            else:
                report_id = api.create_report(RETURNS_REPORT, start, end)
            report: dict[str, Any] = {}
            for attempt in range(self.report_poll_attempts):
                report = api.get_report(report_id)
                if report.get("processingStatus") not in ("IN_QUEUE", "IN_PROGRESS"):
                    break
                if attempt + 1 < self.report_poll_attempts:
                    (self.sleep or channels_http.wait_seconds)(self.report_poll_interval)
            status = report.get("processingStatus")
            if status in ("IN_QUEUE", "IN_PROGRESS"):  # not ready: the next run polls the same report
                pending = {"start": _iso(start), "end": _iso(end), "report_id": report_id}
                return Page(records=[], next_cursor=_dump_cursor(pending), done=True)
            if status == "CANCELLED":  # Amazon cancels a report that would be empty
                text = ""
            elif status == "DONE" and report.get("reportDocumentId"):
                text = api.download_report(str(report["reportDocumentId"]))
            else:
                raise ConnectorError(f"Amazon could not produce the returns report {report_id} ({status})")
        records = [
            RawRecord(
                stream=Stream.RETURNS,
                event_id=mapping.return_event_id(external_id, rows),
                payload={"report_id": report_id, "rows": rows},
            )
            for external_id, rows in mapping.group_return_rows(mapping.parse_returns_report(text)).items()
        ]
        if end < now - timedelta(minutes=1):  # a backfill: the next window starts where this one ends
            return Page(records=records, next_cursor=_dump_cursor({"start": _iso(end - timedelta(days=1))}), done=False)
        return Page(records=records, next_cursor=_dump_cursor({"start": _iso(end - RETURNS_OVERLAP)}), done=True)

    def map_record(self, ctx: StoreContext, raw: RawRecord) -> list[Record]:
        if raw.stream == Stream.ORDERS and "order_change" in raw.payload:
            return [self._map_order_change(ctx, raw.payload)]
        if raw.stream == Stream.ORDERS:
            return [mapping.map_order(raw.payload, default_currency=ctx.currency)]
        if raw.stream == Stream.RETURNS:
            return [mapping.map_return(raw.payload)]
        raise MappingError(f"Amazon records of stream {raw.stream} are not mapped here", field="stream")

    def test_connection(self, ctx: StoreContext) -> ConnectionCheck:
        try:
            with self.client(ctx) as api:
                api.tokens.refresh()
                orders, _ = api.search_orders(
                    last_updated_after=datetime.now(UTC) - timedelta(days=1), pagination_token=None, page_size=1
                )
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, detail=str(exc))
        return ConnectionCheck(
            ok=True,
            detail=f"Connected to marketplace {amazon_client.marketplace_id(ctx)} ({len(orders)} recent order(s) seen)",
        )

    # -- SQS notifications: a trigger, getOrder is the truth ---------------------------------------
    @staticmethod
    def _map_order_change(ctx: StoreContext, payload: Mapping[str, Any]) -> IgnoredRecord:
        """An ORDER_CHANGE notification is checked against Amazon's schema; a valid one changes
        nothing by itself (notifications.py fetches the order it names)."""
        notification = payload.get("order_change")
        if not isinstance(notification, dict):
            raise MappingError("the SQS message body is not a JSON notification", field="Body")
        schemas.check_order_change(notification)
        change = notification["Payload"]["OrderChangeNotification"]
        if ctx.seller_id and change["SellerId"] != ctx.seller_id:
            raise MappingError(
                f"the notification is for seller {change['SellerId']}, not this store's",
                field="Payload.OrderChangeNotification.SellerId",
            )
        return IgnoredRecord(
            reason="trigger", detail=f"ORDER_CHANGE {change['OrderChangeType']} of order {change['AmazonOrderId']}"
        )

    def fetch_order(self, ctx: StoreContext, order_id: str) -> RawRecord:
        with self.client(ctx) as api:
            return self.order_raw(api.get_order(order_id))

    # -- write-backs ------------------------------------------------------------------------------
    def send_reply(self, reply: OutboundReply) -> SentReceipt:
        raise ConnectorError(NOT_OFFERED_MESSAGES, permanent=True, code="not_offered")

    def send_message(self, ctx: StoreContext, reply: OutboundReply) -> SentReceipt:
        raise ConnectorError(NOT_OFFERED_MESSAGES, permanent=True, code="not_offered")

    def decide_return(self, ctx: StoreContext, decision: ReturnDecision) -> WriteReceipt:
        raise ConnectorError(NOT_OFFERED_RETURNS, permanent=True, code="not_offered")

    def issue_refund(self, ctx: StoreContext, refund: RefundRequest) -> RefundReceipt:
        """Submits one POST_PAYMENT_ADJUSTMENT_DATA feed. The engine has stored the WriteBack row
        with the idempotency key before this call and stores the feed id it returns; the feed is
        never resent from here (createFeed is not retried: an unconfirmed feed is reported as
        such, and a human checks Seller Central before retrying)."""
        if refund.amount <= 0:
            raise ConnectorError("the refund amount must be positive", permanent=True, code="invalid_amount")
        with self.client(ctx) as api:
            items = self._adjusted_items(api, refund)
            content = feeds.payment_adjustment_feed(
                seller_id=ctx.seller_id or "",
                order_id=refund.order_external_id,
                items=items,
                currency=refund.currency,
                reason=feeds.adjustment_reason(refund.reason, is_return=bool(refund.return_external_id)),
                idempotency_key=refund.idempotency_key,
            )
            feed_id = api.submit_feed(feeds.FEED_TYPE, content, feeds.CONTENT_TYPE)
        return RefundReceipt(external_id=feed_id, state=RefundState.PENDING, detail="payment-adjustment feed submitted")

    @staticmethod
    def _adjusted_items(api: AmazonClient, refund: RefundRequest) -> list[feeds.AdjustedItem]:
        if refund.lines:
            items = [
                feeds.AdjustedItem(order_item_id=line.external_line_id, amount=line.amount) for line in refund.lines
            ]
            total = sum((item.amount for item in items), Decimal("0"))
            if total != refund.amount:
                raise ConnectorError(
                    f"the refund lines add up to {total}, not {refund.amount}", permanent=True, code="invalid_amount"
                )
            return items
        order_items = api.get_order(refund.order_external_id).get("orderItems") or []
        if len(order_items) != 1:
            raise ConnectorError(
                "Amazon refunds per order item: name the lines of a refund on an order with several items",
                permanent=True,
                code="lines_required",
            )
        return [feeds.AdjustedItem(order_item_id=str(order_items[0]["orderItemId"]), amount=refund.amount)]

    def refund_status(self, ctx: StoreContext, refund: RefundRequest, receipt: RefundReceipt) -> RefundReceipt:
        """The feed's processing (getFeed, then its processing report), then the order's finances:
        a processed adjustment is SUCCEEDED once its refund shows in RefundEventList."""
        with self.client(ctx) as api:
            feed = api.get_feed(receipt.external_id)
            status = feed.get("processingStatus")
            if status in ("IN_QUEUE", "IN_PROGRESS"):
                return RefundReceipt(receipt.external_id, RefundState.PENDING, f"feed {status}")
            if status in ("CANCELLED", "FATAL"):
                return RefundReceipt(
                    receipt.external_id, RefundState.FAILED, f"Amazon's feed processing ended {status}"
                )
            if status != "DONE":
                raise ConnectorError(f"getFeed answered an unknown processingStatus {status!r}")
            if feed.get("resultFeedDocumentId"):
                report = feeds.parse_processing_report(api.download_feed_document(str(feed["resultFeedDocumentId"])))
                if report.with_error:
                    detail = "; ".join(report.errors) or f"{report.with_error} message(s) with errors"
                    return RefundReceipt(receipt.external_id, RefundState.FAILED, detail)
            try:
                refunded = mapping.refunded_by_item(api.financial_events_for_order(refund.order_external_id))
            except MappingError as exc:
                raise ConnectorError(f"the order's financial events are unreadable: {exc}") from exc
        wanted = {line.external_line_id: line.amount for line in refund.lines}
        if not wanted:  # a whole-order refund on its only item
            return RefundReceipt(
                receipt.external_id,
                RefundState.SUCCEEDED if sum(refunded.values(), Decimal("0")) >= refund.amount else RefundState.PENDING,
                "refund among the order's financial events" if refunded else "processed; not yet in the finances",
            )
        if all(refunded.get(item_id, Decimal("0")) >= amount for item_id, amount in wanted.items()):
            return RefundReceipt(
                receipt.external_id, RefundState.SUCCEEDED, "refund among the order's financial events"
            )
        return RefundReceipt(
            receipt.external_id, RefundState.PENDING, "processed; not yet in the order's financial events"
        )

    def mark_shipped(self, ctx: StoreContext, shipment: ShipmentConfirmation) -> WriteReceipt:
        with self.client(ctx) as api:
            order = api.get_order(shipment.order_external_id)
            try:
                items: list[dict[str, Any]] = [
                    {"orderItemId": str(item["orderItemId"]), "quantity": _unshipped(item)}
                    for item in order.get("orderItems") or []
                    if not shipment.line_ids or str(item.get("orderItemId")) in shipment.line_ids
                ]
            except (KeyError, TypeError, ValueError) as exc:
                raise ConnectorError(f"getOrder answered an order without readable items: {exc!r}") from exc
            items = [item for item in items if item["quantity"] > 0]
            unknown = set(shipment.line_ids) - {item["orderItemId"] for item in items}
            if unknown or not items:
                raise ConnectorError(
                    f"order {shipment.order_external_id} has no unshipped item(s) "
                    f"{sorted(unknown) or shipment.line_ids or ''}".rstrip(),
                    permanent=True,
                    code="unknown_line",
                )
            reference = str(len(order.get("packages") or []) + 1)
            carrier_code = CARRIER_CODES.get(shipment.carrier.strip().lower())
            detail: dict[str, Any] = {
                "packageReferenceId": reference,
                "carrierCode": carrier_code or "Other",
                "trackingNumber": shipment.tracking_number,
                "shipDate": _iso(shipment.shipped_at),
                "orderItems": items,
            }
            if carrier_code is None:
                detail["carrierName"] = shipment.carrier
            api.confirm_shipment(
                shipment.order_external_id, {"marketplaceId": api.marketplace_id, "packageDetail": detail}
            )
        return WriteReceipt(external_id=f"{shipment.order_external_id}/{reference}", detail="shipment confirmed")
