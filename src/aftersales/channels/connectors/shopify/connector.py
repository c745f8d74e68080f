"""Shopify: orders and returns pulled from the Admin GraphQL API (watermark on updated_at with an
overlap), webhooks as triggers, and the write-backs a seller needs: approve / decline a return
request, refund (refundCreate with `@idempotent`), mark shipped (fulfillmentCreate).

Store credentials: {"shop": "<name>.myshopify.com", "access_token": "shpat_...",
"client_secret": "<app secret, verifies webhooks>", optional "client_id", "old_client_secret"}.
Shopify buyers write by e-mail (the store's mailbox is an e-mail store): no message stream, no
send_message."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aftersales.channels.base import (
    Capability,
    ConnectionCheck,
    ConnectorError,
    MappingError,
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
    WebhookSubscriptions,
    WriteReceipt,
)
from aftersales.channels.scopes import require_scopes

from . import labels, mapping, oauth, operations, scopes, webhooks
from .client import COST_BUCKET, IDEMPOTENT_FROM, ShopifyClient

# Re-read this much before the last watermark (clock skew between Shopify's search index and its
# updatedAt, records committed late); re-reading is a no-op (event ids include updatedAt).
OVERLAP = timedelta(minutes=10)
DEFAULT_LOOKBACK = timedelta(days=30)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _event_part(value: Any) -> str:
    return value if isinstance(value, str) else hashlib.sha256(repr(value).encode()).hexdigest()[:16]


class _Cursor:
    """{"since": watermark, "after": GraphQL page cursor or None, "max": newest updatedAt seen}."""

    def __init__(self, since: datetime, after: str | None = None, newest: datetime | None = None) -> None:
        self.since, self.after, self.newest = since, after, newest

    @classmethod
    def load(cls, raw: str | None, since: datetime | None, now: datetime) -> _Cursor:
        if raw:
            try:
                data = json.loads(raw)
                return cls(
                    _parse_iso(data["since"]),
                    data.get("after"),
                    _parse_iso(data["max"]) if data.get("max") else None,
                )
            except (ValueError, KeyError, TypeError):
                raise ConnectorError(f"unreadable Shopify cursor {raw!r}", permanent=True) from None
        return cls(since or now - DEFAULT_LOOKBACK)

    def dump(self) -> str:
        return json.dumps(
            {"since": _iso(self.since), "after": self.after, "max": _iso(self.newest) if self.newest else None}
        )

    def search(self, extra: str = "") -> str:
        query = f"updated_at:>='{_iso(self.since)}'"
        return f"{query} AND {extra}" if extra else query

    def advance(self, updated: list[Any], page_info: Mapping[str, Any]) -> tuple[str, bool]:
        for value in updated:
            if isinstance(value, str):
                try:
                    stamp = _parse_iso(value)
                except ValueError:
                    continue
                if self.newest is None or stamp > self.newest:
                    self.newest = stamp
        if page_info.get("hasNextPage") and page_info.get("endCursor"):
            return _Cursor(self.since, str(page_info["endCursor"]), self.newest).dump(), False
        watermark = max(self.since, self.newest - OVERLAP) if self.newest else self.since
        return _Cursor(watermark).dump(), True


# The return policy's rejection codes (returns.policy) that Shopify has a ReturnDeclineReason for.
DECLINE_REASONS = {"window_expired": "RETURN_PERIOD_ENDED"}


class ShopifyConnector:
    platform = "shopify"
    capabilities = frozenset(
        {
            Capability.PULL_ORDERS,
            Capability.PULL_RETURNS,
            Capability.WEBHOOKS,
            Capability.SUBSCRIBE_WEBHOOKS,
            Capability.DECIDE_RETURN,
            Capability.ISSUE_REFUND,
            Capability.MARK_SHIPPED,
            Capability.TEST_CONNECTION,
            Capability.FETCH_RETURN_LABEL,
        }
    )
    # Shopify's GraphQL leaky bucket on standard plans: 1,000 cost points, restored at 50 per second.
    rate_limits = {COST_BUCKET: (50.0, 1000)}
    # The read_orders scope reaches the last 60 days of orders (older ones need read_all_orders).
    backfill_days = 60
    # The scopes each feature needs (scopes.py); the grant is read by granted_scopes.
    scope_needs = scopes.NEEDS

    def __init__(self, *, client_factory: Any = None) -> None:
        self._client_factory = client_factory or ShopifyClient

    @staticmethod
    def default_base_url(site: str) -> str:
        """The shop's own domain (https://<shop>.myshopify.com) when `site` is one, else empty: the
        client then uses the credentials' shop."""
        site = (site or "").strip().lower()
        return f"https://{site}" if site.endswith(".myshopify.com") else ""

    def client(self, ctx: StoreContext) -> ShopifyClient:
        """The store's client, its expiring access token renewed first when it is due."""
        if oauth.needs_refresh(ctx):
            ctx = oauth.refresh(ctx)
        return self._client_factory(ctx, refresh=oauth.refresh if oauth.renewable(ctx) else None)

    # -- pulling -------------------------------------------------------------------------------------
    def pull(self, ctx: StoreContext, stream: Stream, cursor: str | None, since: datetime | None) -> Page:
        now = datetime.now(UTC)
        state = _Cursor.load(cursor, since, now)
        if stream not in (Stream.ORDERS, Stream.RETURNS):
            raise ConnectorError(f"Shopify has no {stream} stream", permanent=True)
        with self.client(ctx) as client:
            if stream == Stream.ORDERS:
                return self._pull_orders(client, state)
            return self._pull_returns(client, state)

    def _pull_orders(self, client: ShopifyClient, state: _Cursor) -> Page:
        data = client.execute(
            operations.ORDERS_QUERY,
            {"first": operations.ORDERS_PAGE_SIZE, "after": state.after, "query": state.search()},
        )
        nodes, page_info = _connection(data.get("orders"), "orders")
        records = []
        for node in nodes:
            if isinstance(node, Mapping):
                node = self._complete_line_items(client, node)
                event_id = f"order:{_event_part(node.get('id'))}:{_event_part(node.get('updatedAt'))}"
            else:
                event_id = f"order:malformed:{_event_part(node)}"
                node = {"malformed": node}
            records.append(
                RawRecord(stream=Stream.ORDERS, event_id=event_id, payload={"source": "graphql", "order": node})
            )
        updated = [n.get("updatedAt") for n in nodes if isinstance(n, Mapping)]
        next_cursor, done = state.advance(updated, page_info)
        return Page(records=records, next_cursor=next_cursor, done=done)

    def _complete_line_items(self, client: ShopifyClient, node: Mapping[str, Any]) -> Mapping[str, Any]:
        line_items = node.get("lineItems")
        if not isinstance(line_items, Mapping):
            return node
        info = line_items.get("pageInfo") or {}
        collected = list(line_items.get("nodes") or [])
        after = info.get("endCursor")
        while info.get("hasNextPage") and after:
            more = client.execute(operations.ORDER_LINE_ITEMS_QUERY, {"id": node.get("id"), "after": after})
            order = more.get("order") or {}
            nodes, info = _connection(order.get("lineItems"), "order.lineItems")
            collected.extend(nodes)
            after = info.get("endCursor")
        return {**node, "lineItems": {"nodes": collected, "pageInfo": {"hasNextPage": False}}}

    def _pull_returns(self, client: ShopifyClient, state: _Cursor) -> Page:
        data = client.execute(
            operations.ORDERS_WITH_RETURNS_QUERY,
            {
                "first": operations.RETURNS_ORDERS_PAGE_SIZE,
                "after": state.after,
                # Not filtered by return_status: an order whose only return was declined or
                # cancelled is back to NO_RETURN, and that change must be seen too.
                "query": state.search(),
            },
        )
        orders, page_info = _connection(data.get("orders"), "orders")
        records = []
        for order in orders:
            if not isinstance(order, Mapping):
                continue
            summary = {k: v for k, v in order.items() if k != "returns"}
            for node in self._all_returns(client, order):
                if isinstance(node, Mapping):
                    node = self._complete_return_lines(client, node)
                    event_id = (
                        f"return:{_event_part(node.get('id'))}:{_event_part(node.get('status'))}"
                        f":{_event_part(order.get('updatedAt'))}"
                    )
                else:
                    event_id = f"return:malformed:{_event_part(node)}"
                    node = {"malformed": node}
                records.append(
                    RawRecord(
                        stream=Stream.RETURNS,
                        event_id=event_id,
                        payload={"source": "graphql", "return": node, "order": summary},
                    )
                )
        next_cursor, done = state.advance([o.get("updatedAt") for o in orders if isinstance(o, Mapping)], page_info)
        return Page(records=records, next_cursor=next_cursor, done=done)

    def _all_returns(self, client: ShopifyClient, order: Mapping[str, Any]) -> list[Any]:
        nodes, info = _connection(order.get("returns"), "order.returns")
        collected = list(nodes)
        while info.get("hasNextPage") and info.get("endCursor"):
            more = client.execute(operations.ORDER_RETURNS_QUERY, {"id": order.get("id"), "after": info["endCursor"]})
            nodes, info = _connection((more.get("order") or {}).get("returns"), "order.returns")
            collected.extend(nodes)
        return collected

    def _complete_return_lines(self, client: ShopifyClient, node: Mapping[str, Any]) -> Mapping[str, Any]:
        lines = node.get("returnLineItems")
        if not isinstance(lines, Mapping):
            return node
        info = lines.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return node
        collected: list[Any] = []
        after = None
        while True:  # re-read from the start with the bigger page size
            more = client.execute(operations.RETURN_LINE_ITEMS_QUERY, {"id": node.get("id"), "after": after})
            nodes, info = _connection((more.get("return") or {}).get("returnLineItems"), "return.returnLineItems")
            collected.extend(nodes)
            after = info.get("endCursor")
            if not (info.get("hasNextPage") and after):
                break
        return {**node, "returnLineItems": {"nodes": collected, "pageInfo": {"hasNextPage": False}}}

    def map_record(self, ctx: StoreContext, raw: RawRecord) -> list[Record]:
        payload = raw.payload
        source = payload.get("source")
        if source == "webhook":
            return mapping.map_webhook(payload)
        if source == "graphql" and "return" in payload:
            return [mapping.map_graphql_return(payload)]
        if source == "graphql" and "order" in payload:
            return [mapping.map_graphql_order(payload["order"])]
        raise MappingError(f"unknown Shopify record source {source!r}", field="source")

    def test_connection(self, ctx: StoreContext) -> ConnectionCheck:
        try:
            with self.client(ctx) as client:
                shop = client.execute(operations.SHOP_QUERY).get("shop") or {}
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, detail=str(exc))
        return ConnectionCheck(
            ok=True, detail=f"{shop.get('name')} ({shop.get('myshopifyDomain')}), currency {shop.get('currencyCode')}"
        )

    def granted_scopes(self, ctx: StoreContext) -> frozenset[str]:
        """The access scopes the merchant granted the app (scopes.py)."""
        with self.client(ctx) as client:
            return scopes.granted_from(client.execute(scopes.ACCESS_SCOPES_QUERY))

    # -- webhooks ------------------------------------------------------------------------------------
    def verify_webhook(self, ctx: StoreContext, headers: Mapping[str, str], body: bytes) -> list[RawRecord]:
        webhooks.verify(ctx, headers, body)
        return webhooks.parse(headers, body)

    def subscribe_webhooks(self, ctx: StoreContext, callback_url: str) -> WebhookSubscriptions:
        """The topics the mapping understands (orders, returns, refunds), subscribed to the store's
        webhook URL in JSON; ours (same callback URL) for other topics are deleted. Shopify keys a
        subscription by (topic, callback URL), so running this twice creates nothing."""
        wanted = webhooks.subscription_topics()
        require_scopes(ctx, scopes.NEEDS, Capability.SUBSCRIBE_WEBHOOKS)
        with self.client(ctx) as client:
            found: dict[str, list[str]] = {}
            after: str | None = None
            while True:
                data = client.execute(
                    operations.WEBHOOK_SUBSCRIPTIONS_QUERY, {"callbackUrl": callback_url, "after": after}
                )
                nodes, page_info = _connection(data.get("webhookSubscriptions"), "webhookSubscriptions")
                for node in nodes:
                    endpoint = node.get("endpoint") or {}
                    if endpoint.get("callbackUrl", callback_url) != callback_url:
                        continue  # the filter is the platform's; keep only exact matches
                    found.setdefault(str(node.get("topic")), []).append(str(node.get("id")))
                if not page_info.get("hasNextPage"):
                    break
                after = str(page_info.get("endCursor"))
            created: list[str] = []
            for topic in sorted(wanted - set(found)):
                client.mutate(
                    operations.WEBHOOK_SUBSCRIPTION_CREATE_MUTATION,
                    {"topic": topic, "webhookSubscription": {"callbackUrl": callback_url, "format": "JSON"}},
                    "webhookSubscriptionCreate",
                )
                created.append(topic)
            removed: list[str] = []
            for topic in sorted(set(found) - wanted):
                for subscription_id in found[topic]:
                    client.mutate(
                        operations.WEBHOOK_SUBSCRIPTION_DELETE_MUTATION,
                        {"id": subscription_id},
                        "webhookSubscriptionDelete",
                    )
                removed.append(topic)
        return WebhookSubscriptions(
            callback_url=callback_url,
            created=tuple(created),
            existing=tuple(sorted(wanted & set(found))),
            removed=tuple(removed),
        )

    # -- write-backs ---------------------------------------------------------------------------------
    def send_reply(self, reply: OutboundReply) -> SentReceipt:
        raise ConnectorError(
            "Shopify has no buyer messaging: its buyers write by e-mail, answer from the store's mailbox",
            permanent=True,
        )

    def send_message(self, ctx: StoreContext, reply: OutboundReply) -> SentReceipt:
        return self.send_reply(reply)

    def decide_return(self, ctx: StoreContext, decision: ReturnDecision) -> WriteReceipt:
        if decision.kind != ReturnKind.RETURN:
            raise ConnectorError(f"Shopify has no {decision.kind} to decide", permanent=True)
        require_scopes(ctx, scopes.NEEDS, Capability.DECIDE_RETURN)
        with self.client(ctx) as client:
            return self._decide_return(client, decision)

    def _decide_return(self, client: ShopifyClient, decision: ReturnDecision) -> WriteReceipt:
        return_id = mapping.gid("Return", decision.return_external_id)
        if decision.decision == ReturnDecisionKind.APPROVE:
            document, field, target = operations.RETURN_APPROVE_MUTATION, "returnApproveRequest", "OPEN"
            data: dict[str, Any] = {"id": return_id, "notifyCustomer": decision.notify_customer}
        elif decision.decision == ReturnDecisionKind.DECLINE:
            document, field, target = operations.RETURN_DECLINE_MUTATION, "returnDeclineRequest", "DECLINED"
            # Shopify's reasons (ReturnDeclineReason, 2025-01) are RETURN_PERIOD_ENDED, FINAL_SALE, OTHER: a
            # rejection by the policy's window is RETURN_PERIOD_ENDED; the rest OTHER, the seller's words in the note.
            data = {
                "id": return_id,
                "declineReason": DECLINE_REASONS.get(decision.reason_code, "OTHER"),
                "notifyCustomer": decision.notify_customer,
                "declineNote": decision.comment or None,
            }
        else:
            raise ConnectorError(
                f"Shopify return requests can be approved or declined, not {decision.decision}", permanent=True
            )
        try:
            payload = client.mutate(document, {"input": data}, field)
        except ConnectorError as exc:
            if exc.permanent and exc.code == "INVALID_STATE":
                # A retry after a lost answer: the decision may already be taken.
                status = self._return_status(client, return_id)
                if status == target:
                    return WriteReceipt(external_id=decision.return_external_id, detail=f"already {target}")
            raise
        ret = payload.get("return") or {}
        return WriteReceipt(external_id=decision.return_external_id, detail=str(ret.get("status") or target))

    def fetch_return_label(self, ctx: StoreContext, return_external_id: str) -> ReturnLabel | None:
        """The newest shipping label of the return's reverse deliveries (connectors/shopify/labels.py);
        None while Shopify has issued none."""
        with self.client(ctx) as client:
            return labels.fetch_return_label(client, client.ctx, return_external_id)

    def _return_status(self, client: ShopifyClient, return_id: str) -> str:
        data = client.execute(operations.RETURN_STATUS_QUERY, {"id": return_id})
        return str((data.get("return") or {}).get("status") or "")

    def issue_refund(self, ctx: StoreContext, refund: RefundRequest) -> RefundReceipt:
        require_scopes(ctx, scopes.NEEDS, Capability.ISSUE_REFUND)
        with self.client(ctx) as client:
            return self._issue_refund(client, refund)

    def _issue_refund(self, client: ShopifyClient, refund: RefundRequest) -> RefundReceipt:
        if client.api_version < IDEMPOTENT_FROM:  # "unstable" sorts after every dated version
            raise ConnectorError(
                f"refunds need Shopify API version {IDEMPOTENT_FROM} or later (refundCreate's @idempotent "
                f"directive), the store is set to {client.api_version}",
                permanent=True,
            )
        order_id = mapping.gid("Order", refund.order_external_id)
        order = client.execute(operations.ORDER_TRANSACTIONS_QUERY, {"id": order_id}).get("order")
        if not isinstance(order, Mapping):
            raise ConnectorError(f"Shopify has no order {refund.order_external_id}", permanent=True)
        if refund.currency and order.get("currencyCode") != refund.currency:
            raise ConnectorError(
                f"the refund is in {refund.currency}, the order in {order.get('currencyCode')}", permanent=True
            )
        input_data: dict[str, Any] = {
            "orderId": order_id,
            "notify": refund.notify_customer,
            "transactions": self._refund_transactions(order, refund.amount),
        }
        if refund.note or refund.reason:
            input_data["note"] = refund.note or refund.reason
        if refund.lines:
            input_data["refundLineItems"] = [
                {
                    "lineItemId": mapping.gid("LineItem", line.external_line_id),
                    "quantity": line.quantity,
                    "restockType": "NO_RESTOCK",
                }
                for line in refund.lines
            ]
        payload = client.mutate(
            operations.REFUND_CREATE_MUTATION,
            {"input": input_data, "idempotencyKey": refund.idempotency_key},
            "refundCreate",
        )
        try:
            return mapping.refund_receipt(payload.get("refund") or {})
        except MappingError as exc:
            raise ConnectorError(f"Shopify's refundCreate answer is unreadable: {exc}") from exc

    @staticmethod
    def _refund_transactions(order: Mapping[str, Any], amount: Decimal) -> list[dict[str, Any]]:
        """REFUND transactions against the order's successful sales / captures (oldest first),
        each for at most what is left of it after earlier refunds."""
        transactions = [t for t in order.get("transactions") or [] if isinstance(t, Mapping)]
        refunded: dict[str, Decimal] = {}
        for txn in transactions:
            parent = (txn.get("parentTransaction") or {}).get("id")
            if txn.get("kind") == "REFUND" and txn.get("status") in ("SUCCESS", "PENDING") and parent:
                value = Decimal(str(((txn.get("amountSet") or {}).get("shopMoney") or {}).get("amount") or 0))
                refunded[parent] = refunded.get(parent, Decimal("0")) + value
        left = amount
        out = []
        for txn in transactions:
            if left <= 0:
                break
            if txn.get("kind") not in ("SALE", "CAPTURE") or txn.get("status") != "SUCCESS":
                continue
            paid = Decimal(str(((txn.get("amountSet") or {}).get("shopMoney") or {}).get("amount") or 0))
            available = paid - refunded.get(str(txn.get("id")), Decimal("0"))
            if available <= 0:
                continue
            part = min(available, left)
            out.append(
                {
                    "orderId": order.get("id"),
                    "parentId": txn.get("id"),
                    "gateway": txn.get("gateway"),
                    "kind": "REFUND",
                    "amount": str(part),
                }
            )
            left -= part
        if left > 0:
            raise ConnectorError(f"the order has {amount - left} left to refund, not {amount}", permanent=True)
        return out

    def refund_status(self, ctx: StoreContext, refund: RefundRequest, receipt: RefundReceipt) -> RefundReceipt:
        if not receipt.external_id:
            return RefundReceipt(external_id="", state=RefundState.PENDING, detail="no Shopify refund id yet")
        with self.client(ctx) as client:
            data = client.execute(
                operations.ORDER_REFUNDS_QUERY, {"id": mapping.gid("Order", refund.order_external_id)}
            )
        order = data.get("order")
        if not isinstance(order, Mapping):
            raise ConnectorError(f"Shopify has no order {refund.order_external_id}", permanent=True)
        for node in order.get("refunds") or []:
            if isinstance(node, Mapping) and str(node.get("id", "")).rsplit("/", 1)[-1] == receipt.external_id:
                try:
                    return mapping.refund_receipt(node)
                except MappingError as exc:
                    raise ConnectorError(f"Shopify's refund is unreadable: {exc}") from exc
        return RefundReceipt(external_id=receipt.external_id, state=RefundState.PENDING, detail="not listed yet")

    def mark_shipped(self, ctx: StoreContext, shipment: ShipmentConfirmation) -> WriteReceipt:
        require_scopes(ctx, scopes.NEEDS, Capability.MARK_SHIPPED)
        with self.client(ctx) as client:
            return self._mark_shipped(client, shipment)

    def _mark_shipped(self, client: ShopifyClient, shipment: ShipmentConfirmation) -> WriteReceipt:
        order = client.execute(
            operations.ORDER_FULFILLMENT_ORDERS_QUERY, {"id": mapping.gid("Order", shipment.order_external_id)}
        ).get("order")
        if not isinstance(order, Mapping):
            raise ConnectorError(f"Shopify has no order {shipment.order_external_id}", permanent=True)
        for fulfillment in order.get("fulfillments") or []:
            numbers = {t.get("number") for t in fulfillment.get("trackingInfo") or [] if isinstance(t, Mapping)}
            if fulfillment.get("status") == "SUCCESS" and shipment.tracking_number in numbers:
                return WriteReceipt(
                    external_id=str(fulfillment.get("id", "")).rsplit("/", 1)[-1],
                    detail="already fulfilled with this tracking number",
                )
        wanted = set(shipment.line_ids)
        groups = []
        nodes, _info = _connection(order.get("fulfillmentOrders"), "order.fulfillmentOrders")
        for fulfillment_order in nodes:
            if fulfillment_order.get("status") not in ("OPEN", "IN_PROGRESS"):
                continue
            lines, _ = _connection(fulfillment_order.get("lineItems"), "fulfillmentOrder.lineItems")
            picks = [
                {"id": line.get("id"), "quantity": line.get("remainingQuantity")}
                for line in lines
                if (line.get("remainingQuantity") or 0) > 0
                and (not wanted or str((line.get("lineItem") or {}).get("id", "")).rsplit("/", 1)[-1] in wanted)
            ]
            if picks:
                groups.append({"fulfillmentOrderId": fulfillment_order.get("id"), "fulfillmentOrderLineItems": picks})
        if not groups:
            raise ConnectorError(
                f"order {shipment.order_external_id} has nothing left to fulfil on Shopify", permanent=True
            )
        payload = client.mutate(
            operations.FULFILLMENT_CREATE_MUTATION,
            {
                "fulfillment": {
                    "lineItemsByFulfillmentOrder": groups,
                    "trackingInfo": {"company": shipment.carrier, "number": shipment.tracking_number},
                    "notifyCustomer": True,
                },
            },
            "fulfillmentCreate",
            retry=False,  # not idempotent on Shopify: a resend is decided by the check above, next time
        )
        fulfillment = payload.get("fulfillment") or {}
        return WriteReceipt(
            external_id=str(fulfillment.get("id", "")).rsplit("/", 1)[-1], detail=str(fulfillment.get("status", ""))
        )


def _connection(value: Any, field: str) -> tuple[list[Any], Mapping[str, Any]]:
    """(nodes, pageInfo) of a connection in an answer; a missing or malformed one is the page's
    error (the engine retries the page), never a record's."""
    if not isinstance(value, Mapping) or not isinstance(value.get("nodes", []), list):
        raise ConnectorError(f"Shopify answered without a readable {field} connection")
    info = value.get("pageInfo") or {}
    return list(value.get("nodes") or []), info if isinstance(info, Mapping) else {}
