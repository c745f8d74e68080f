"""A tiny test-only platform, "testshop", for the engine's tests and the ingest benchmark: a
FakePlatform speaking a made-up but realistic protocol (bearer token, paged event feeds per stream,
HMAC-signed webhooks, a send-message and a refund endpoint with idempotency keys) and a connector
built on PlatformClient. Register it with `install()` (registry.register) and remove it with
`uninstall()`.

Feed items: {"id", "type": "order"|"message"|"return"|"tracking"|"autoreply"|"bounce", ...}. A
message without "body", an order with a non-numeric "total", an unknown return "kind" are
malformed on purpose: the connector raises MappingError (quarantine)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from aftersales.channels import registry
from aftersales.channels.base import (
    Buyer,
    Capability,
    ConnectionCheck,
    ConnectorError,
    DeliveryFailureRecord,
    IgnoredRecord,
    MappingError,
    MessageRecord,
    OrderLineRecord,
    OrderRecord,
    OutboundReply,
    Page,
    RawRecord,
    Record,
    RefundReceipt,
    RefundRequest,
    RefundState,
    ReturnKind,
    ReturnLineRecord,
    ReturnRecord,
    ReturnState,
    SentReceipt,
    ShipmentRecord,
    SignatureInvalid,
    StoreContext,
    Stream,
    TrackingEventRecord,
    TrackingRecord,
)
from aftersales.channels.http import PlatformClient
from aftersales.testing.fake_platform import FakePlatform, FakeRequest, FakeResponse, json_response

# The shop's return status words in the one vocabulary (channels.base.ReturnState).
RETURN_STATES = {"OPEN": ReturnState.OPEN, "CLOSED": ReturnState.CLOSED, "CANCELLED": ReturnState.CANCELLED}
PLATFORM = "testshop"
TOKEN = "test-token-123"
WEBHOOK_SECRET = "whsec-test"


class TestShopFake(FakePlatform):
    name = PLATFORM
    page_size = 2

    def __init__(self) -> None:
        self.feeds: dict[str, list[dict[str, Any]]] = {s.value: [] for s in Stream}
        self.sent: list[dict[str, Any]] = []
        self.refunds: dict[str, dict[str, Any]] = {}
        self.token = TOKEN
        self.block_after: int | None = None  # tests: hold the request for page `after` until released
        self.release = threading.Event()
        super().__init__()

    def setup_routes(self) -> None:
        self.route("GET", r"/v1/feeds/(?P<stream>\w+)", self.feed)
        self.route("POST", r"/v1/messages", self.send)
        self.route("POST", r"/v1/refunds", self.refund)
        self.route("GET", r"/v1/me", self.me)

    def _auth(self, request: FakeRequest) -> FakeResponse | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return json_response({"error": {"code": "UNAUTHORIZED", "message": "access token revoked"}}, 401)
        return None

    def add(self, stream: str, *items: dict[str, Any]) -> None:
        with self.lock:
            self.feeds[stream].extend(items)

    def feed(self, request: FakeRequest) -> FakeResponse:
        denied = self._auth(request)
        if denied:
            return denied
        after = int(request.arg("after", "0") or 0)
        limit = int(request.arg("limit", str(self.page_size)) or self.page_size)
        if self.block_after is not None and after >= self.block_after:
            self.release.wait(timeout=30)
        with self.lock:
            items = self.feeds[request.params["stream"]][after : after + limit]
            total = len(self.feeds[request.params["stream"]])
        return json_response({"items": items, "next": after + len(items), "has_more": after + len(items) < total})

    def send(self, request: FakeRequest) -> FakeResponse:
        denied = self._auth(request)
        if denied:
            return denied
        body = request.json()
        if not body.get("text"):
            return json_response({"error": {"code": "EMPTY", "message": "text is required"}}, 400)
        with self.lock:
            self.sent.append(body)
            return json_response({"id": f"m{len(self.sent)}"}, 201)

    def refund(self, request: FakeRequest) -> FakeResponse:
        denied = self._auth(request)
        if denied:
            return denied
        key = request.headers.get("idempotency-key", "")
        with self.lock:
            if key not in self.refunds:
                self.refunds[key] = {"id": f"r{len(self.refunds) + 1}", **request.json()}
            return json_response({"id": self.refunds[key]["id"], "state": "succeeded"}, 201)

    def me(self, request: FakeRequest) -> FakeResponse:
        denied = self._auth(request)
        return denied or json_response({"seller": "S1"})

    def signed(self, payload: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(payload).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {"X-Testshop-Signature": signature}


class TestShopClient(PlatformClient):
    bucket = "api"

    def auth_headers(self, ctx: StoreContext) -> dict[str, str]:
        return {"Authorization": f"Bearer {ctx.credentials.get('token', '')}"}


def _instant(payload: Mapping[str, Any], name: str) -> datetime:
    value = payload.get(name)
    if not isinstance(value, str):
        raise MappingError(f"{name} is missing", field=name)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MappingError(f"{name} is not a date-time: {value!r}", field=name) from exc
    if parsed.tzinfo is None:
        raise MappingError(f"{name} has no time zone", field=name)
    return parsed


def _decimal(payload: Mapping[str, Any], name: str) -> Decimal:
    try:
        return Decimal(str(payload[name]))
    except (KeyError, InvalidOperation) as exc:
        raise MappingError(f"{name} is not an amount: {payload.get(name)!r}", field=name) from exc


def _buyer(payload: Mapping[str, Any]) -> Buyer:
    buyer = payload.get("buyer") or {}
    if not buyer.get("id"):
        raise MappingError("buyer.id is missing", field="buyer.id")
    return Buyer(external_id=buyer["id"], name=buyer.get("name", ""), email=buyer.get("email", ""))


def map_item(payload: Mapping[str, Any]) -> list[Record]:
    kind = payload.get("type")
    if kind == "message":
        if not payload.get("body"):
            raise MappingError("body is missing", field="body")
        return [
            MessageRecord(
                external_id=str(payload["id"]),
                buyer=_buyer(payload),
                body=payload["body"],
                sent_at=_instant(payload, "sent_at"),
                conversation_id=payload.get("conversation", ""),
                order_external_id=payload.get("order"),
                subject=payload.get("subject", ""),
                from_seller=bool(payload.get("from_seller")),
                target_store_id=payload.get("target_store"),
            )
        ]
    if kind == "order":
        return [
            OrderRecord(
                external_id=str(payload["order"]),
                placed_at=_instant(payload, "placed_at"),
                updated_at=_instant(payload, "updated_at") if payload.get("updated_at") else None,
                status=payload.get("status", "paid"),
                total=_decimal(payload, "total"),
                currency=payload.get("currency", "USD"),
                buyer=_buyer(payload) if payload.get("buyer") else None,
                lines=[
                    OrderLineRecord(
                        external_line_id=str(line["id"]),
                        sku=line["sku"],
                        quantity=int(line.get("qty", 1)),
                        unit_price=_decimal(line, "price"),
                        currency=payload.get("currency", "USD"),
                        title=line.get("title", ""),
                    )
                    for line in payload.get("lines", [])
                ],
                shipments=[
                    ShipmentRecord(carrier=s["carrier"], tracking_number=s["tracking"], status=s.get("status", ""))
                    for s in payload.get("shipments", [])
                ],
            )
        ]
    if kind == "return":
        try:
            return_kind = ReturnKind(payload.get("kind", "return"))
        except ValueError as exc:
            raise MappingError(f"unknown return kind {payload.get('kind')!r}", field="kind") from exc
        return [
            ReturnRecord(
                external_id=str(payload["return"]),
                kind=return_kind,
                status=payload.get("status", "OPEN"),
                state=RETURN_STATES.get(payload.get("status", "OPEN"), ReturnState.UNKNOWN),
                created_at=_instant(payload, "created_at"),
                updated_at=_instant(payload, "updated_at") if payload.get("updated_at") else None,
                order_external_id=payload.get("order"),
                buyer=_buyer(payload) if payload.get("buyer") else None,
                reason=payload.get("reason", ""),
                buyer_comment=payload.get("comment", ""),
                requested_amount=_decimal(payload, "amount") if "amount" in payload else None,
                currency=payload.get("currency", ""),
                respond_by=_instant(payload, "respond_by") if payload.get("respond_by") else None,
                lines=[
                    ReturnLineRecord(
                        sku=line["sku"],
                        quantity=int(line.get("qty", 1)),
                        external_line_id=str(line.get("id", "")),
                        reason=line.get("reason", ""),
                    )
                    for line in payload.get("lines", [])
                ],
            )
        ]
    if kind == "tracking":
        return [
            TrackingRecord(
                tracking_number=payload["tracking"],
                carrier=payload.get("carrier", ""),
                status=payload["status"],
                events=[
                    TrackingEventRecord(at=_instant(e, "at"), status=e["status"], location=e.get("location", ""))
                    for e in payload.get("events", [])
                ],
            )
        ]
    if kind == "autoreply":
        return [IgnoredRecord(reason="autoreply", detail=payload.get("subject", ""))]
    if kind == "bounce":
        return [DeliveryFailureRecord(original_message_ids=payload["original"], reason=payload.get("reason", ""))]
    raise MappingError(f"unknown item type {kind!r}", field="type")


class TestShopConnector:
    platform = PLATFORM
    capabilities = frozenset(
        {
            Capability.PULL_ORDERS,
            Capability.PULL_MESSAGES,
            Capability.PULL_RETURNS,
            Capability.PULL_TRACKING,
            Capability.WEBHOOKS,
            Capability.SEND_MESSAGE,
            Capability.ISSUE_REFUND,
            Capability.TEST_CONNECTION,
        }
    )
    default_base_url = "https://api.testshop.invalid"
    rate_limits: ClassVar[dict[str, tuple[float, int]]] = {"api": (1000.0, 1000)}
    client_options: ClassVar[dict[str, Any]] = {"backoff": 0.0}

    def client(self, ctx: StoreContext) -> TestShopClient:
        return TestShopClient(ctx, **self.client_options)

    def pull(self, ctx: StoreContext, stream: Stream, cursor: str | None, since: datetime | None) -> Page:
        with self.client(ctx) as client:
            data = client.get(f"/v1/feeds/{stream.value}", params={"after": cursor or "0"}).json()
        records = [RawRecord(stream=stream, event_id=str(item.get("id", "")), payload=item) for item in data["items"]]
        return Page(records=records, next_cursor=str(data["next"]), done=not data["has_more"])

    def map_record(self, ctx: StoreContext, raw: RawRecord) -> list[Record]:
        return map_item(raw.payload)

    def test_connection(self, ctx: StoreContext) -> ConnectionCheck:
        try:
            with self.client(ctx) as client:
                client.get("/v1/me", retry=False)
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, detail=str(exc))
        return ConnectionCheck(ok=True, detail="ok")

    def verify_webhook(self, ctx: StoreContext, headers: Mapping[str, str], body: bytes) -> list[RawRecord]:
        secret = str(ctx.credentials.get("webhook_secret", ""))
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("X-Testshop-Signature", "")):
            raise SignatureInvalid("bad signature")
        payload = json.loads(body)
        stream = Stream(payload.get("stream", "messages"))
        return [RawRecord(stream=stream, event_id=str(item.get("id", "")), payload=item) for item in payload["items"]]

    def send_reply(self, reply: OutboundReply) -> SentReceipt:
        raise ConnectorError("testshop sends through send_message(ctx, reply)", permanent=True)

    def send_message(self, ctx: StoreContext, reply: OutboundReply) -> SentReceipt:
        with self.client(ctx) as client:
            data = client.post(
                "/v1/messages",
                json={"to": reply.customer_address, "conversation": reply.conversation_id, "text": reply.body},
            ).json()
        from aftersales.core.clock import now

        return SentReceipt(external_id=data["id"], sent_at=now())

    def issue_refund(self, ctx: StoreContext, refund: RefundRequest) -> RefundReceipt:
        with self.client(ctx) as client:
            data = client.post(
                "/v1/refunds",
                headers={"Idempotency-Key": refund.idempotency_key},
                json={"order": refund.order_external_id, "amount": str(refund.amount), "currency": refund.currency},
            ).json()
        return RefundReceipt(external_id=data["id"], state=RefundState(data["state"]))


def install() -> None:
    registry.register(PLATFORM, "aftersales.channels.tests.testshop:TestShopConnector")


def uninstall() -> None:
    registry.unregister(PLATFORM)
