"""A fake Wish Merchant API v3 on 127.0.0.1 for tests (and a demo store).

It checks what docs/connectors/wish.md says Wish checks: a bearer access token that expires, its
renewal from the refresh token with the app's client id and secret (a revoked authorisation refuses
both), and answers {"code": 0, "data": ..., "message": ""} or an error with a non-zero code. It lists
orders and tickets by updated_at as documented (updated_at_min inclusive, sort_by=updated_at.asc|desc,
limit <= 500; an `offset` is refused: the documented lists have none), keeps only the documented
Order and Ticket shapes (add_order / add_ticket refuse the older undocumented fields: user_id,
shipping_details, order_ids, user_info, created_at),
records replies (POST .../replies, only while the ticket awaits the merchant; it then awaits the
user), updates a ticket's state (PUT /api/v3/tickets/{id}: CLOSED, AWAITING_WISH to appeal to Wish,
AWAITING_MERCHANT to re-open), serves reply pictures (supporting_files links, /file/<name>), takes
tracking (PUT .../tracking) and refunds whole orders (RefundOrder {refund_reason from the reasons it
lists for the order, refund_reason_note}; the older {reason_code, reason_note} is refused). Faults
(429, 5xx, dropped connections) come from FakePlatform."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aftersales.testing.fake_cdn import ChatFiles
from aftersales.testing.fake_platform import FakePlatform, FakeRequest, FakeResponse, json_response

from .client import REFRESH_PATH
from .mapping import REFUND_REASONS

# Fields an older version of this fake served that Wish's v3 reference does not document.
UNDOCUMENTED_ORDER = frozenset({"user_id", "shipping_details"})
UNDOCUMENTED_TICKET = frozenset({"order_ids", "user_info", "created_at"})
LIST_PARAMS = frozenset({"limit", "updated_at_min", "updated_at_max", "sort_by", "states", "types", "fields"})


def _ok(data: Any) -> FakeResponse:
    return json_response({"code": 0, "data": data, "message": ""})


def _error(code: int, message: str, status: int) -> FakeResponse:
    return json_response({"code": code, "data": {}, "message": message}, status)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class WishFake(ChatFiles, FakePlatform):
    name = "wish"

    def __init__(
        self,
        *,
        client_id: str = "5f0c1d2e3a4b5c6d7e8f9a01",
        client_secret: str = "wish-test-client-secret",  # noqa: S107 (the fake's own test secret)
        merchant_id: str = "5e1234567890abcdef012345",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.merchant_id = merchant_id
        self.clock = clock
        self._ids = itertools.count(1)
        self.access_tokens: dict[str, float] = {}
        self.refresh_token = f"rt-{uuid.uuid4().hex[:16]}"
        self.revoked = False
        self.orders: dict[str, dict[str, Any]] = {}
        self.tickets: dict[str, dict[str, Any]] = {}
        self.refunds: list[tuple[str, dict[str, Any]]] = []
        # The refund reasons Wish lists for an order (GET .../refund_reasons); default all of them.
        self.refund_reasons: dict[str, list[str]] = {}
        self.carriers = ["USPS", "UPS", "FedEx", "ChinaPost", "YunExpress"]
        super().__init__()

    def credentials(self, **overrides: Any) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
            **overrides,
        }

    def expire_tokens(self) -> None:
        with self.lock:
            self.access_tokens = dict.fromkeys(self.access_tokens, 0.0)

    def add_order(self, order: dict[str, Any]) -> None:
        if UNDOCUMENTED_ORDER & order.keys() or "quantity" in (order.get("product_information") or {}):
            raise ValueError(f"not a documented Wish v3 Order: {sorted(UNDOCUMENTED_ORDER & order.keys())}")
        with self.lock:
            self.orders[str(order["id"])] = order

    def add_ticket(self, ticket: dict[str, Any]) -> None:
        replies = ticket.get("replies") or []
        if UNDOCUMENTED_TICKET & ticket.keys() or any("created_at" in r for r in replies):
            raise ValueError(f"not a documented Wish v3 Ticket: {sorted(UNDOCUMENTED_TICKET & ticket.keys())}")
        with self.lock:
            self.tickets[str(ticket["id"])] = ticket

    def setup_routes(self) -> None:
        self.route("GET", REFRESH_PATH, self.refresh)
        self.route("GET", r"/api/v3/orders", self._guarded(lambda r: self._list(r, self.orders)))
        self.route("GET", r"/api/v3/orders/shipping_carriers", self._guarded(self.shipping_carriers))
        self.route("GET", r"/api/v3/orders/(?P<id>[^/]+)/refund_reasons", self._guarded(self.reasons))
        self.route("GET", r"/api/v3/orders/(?P<id>[^/]+)", self._guarded(self.order))
        self.route("PUT", r"/api/v3/orders/(?P<id>[^/]+)/tracking", self._guarded(self.tracking))
        self.route("PUT", r"/api/v3/orders/(?P<id>[^/]+)/refund", self._guarded(self.refund))
        self.route("GET", r"/api/v3/tickets", self._guarded(lambda r: self._list(r, self.tickets)))
        self.route("POST", r"/api/v3/tickets/(?P<id>[^/]+)/replies", self._guarded(self.reply))
        self.route("PUT", r"/api/v3/tickets/(?P<id>[^/]+)", self._guarded(self.update_ticket))
        self.route_files()

    def _guarded(self, handler: Callable[[FakeRequest], FakeResponse]) -> Callable[[FakeRequest], FakeResponse]:
        def guarded(request: FakeRequest) -> FakeResponse:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if self.revoked or self.access_tokens.get(token, 0.0) <= self.clock():
                return _error(1016, "Access token is invalid or has expired", 401)
            return handler(request)

        return guarded

    def refresh(self, request: FakeRequest) -> FakeResponse:
        if request.arg("client_id") != self.client_id or request.arg("client_secret") != self.client_secret:
            return _error(4000, "Invalid client credentials", 401)
        if request.arg("grant_type") != "refresh_token":
            return _error(1000, "grant_type must be refresh_token", 400)
        if self.revoked or request.arg("refresh_token") != self.refresh_token:
            return _error(1017, "The merchant has revoked this app's authorization", 401)
        token = f"at-{next(self._ids)}-{uuid.uuid4().hex[:12]}"
        expires = self.clock() + 30 * 24 * 3600
        self.access_tokens[token] = expires
        expiry = datetime.fromtimestamp(expires, tz=UTC).isoformat(timespec="seconds")
        return _ok(
            {
                "access_token": token,
                "refresh_token": self.refresh_token,
                "expiry_time": expiry,
                "merchant_id": self.merchant_id,
            }
        )

    def _list(self, request: FakeRequest, items: dict[str, dict[str, Any]]) -> FakeResponse:
        unknown = sorted(set(request.query) - LIST_PARAMS)
        if unknown:
            return _error(1000, f"Unknown parameter: {', '.join(unknown)}", 400)
        limit = int(request.arg("limit", "50") or 50)
        if not 1 <= limit <= 500:
            return _error(1000, "limit must be between 1 and 500", 400)
        order = request.arg("sort_by", "updated_at.desc") or "updated_at.desc"
        if order not in ("updated_at", "updated_at.asc", "updated_at.desc"):
            return _error(1000, f"Invalid sort_by: {order}", 400)
        low, high = request.arg("updated_at_min") or "", request.arg("updated_at_max") or ""
        with self.lock:
            chosen = sorted(
                (
                    i
                    for i in items.values()
                    if (not low or _parse(str(i["updated_at"])) >= _parse(low))
                    and (not high or _parse(str(i["updated_at"])) <= _parse(high))
                ),
                key=lambda i: (_parse(str(i["updated_at"])), str(i["id"])),
                reverse=order == "updated_at.desc",
            )
        return _ok(chosen[:limit])

    def order(self, request: FakeRequest) -> FakeResponse:
        order = self.orders.get(request.params["id"])
        return _ok(order) if order else _error(1004, "Order not found", 404)

    def reasons(self, request: FakeRequest) -> FakeResponse:
        if request.params["id"] not in self.orders:
            return _error(1004, "Order not found", 404)
        return _ok(self.refund_reasons.get(request.params["id"], list(REFUND_REASONS)))

    def refund(self, request: FakeRequest) -> FakeResponse:
        """RefundOrder: refund_reason (required, one of the reasons listed for the order),
        refund_reason_note (optional, at least one character); nothing else. Answers the Order."""
        body = request.json()
        extra = sorted(set(body) - {"refund_reason", "refund_reason_note"})
        if extra:
            return _error(1000, f"Unknown field: {', '.join(extra)}", 400)
        reason, note = body.get("refund_reason"), body.get("refund_reason_note")
        if "refund_reason_note" in body and (not isinstance(note, str) or not note):
            return _error(1000, "refund_reason_note must not be empty", 400)
        with self.lock:
            order = self.orders.get(request.params["id"])
            if order is None:
                return _error(1004, "Order not found", 404)
            if reason not in self.refund_reasons.get(request.params["id"], REFUND_REASONS):
                return _error(1000, f"Invalid refund_reason: {reason}", 400)
            if order["state"] == "REFUNDED":
                return _error(1030, "Order has already been refunded", 400)
            self.refunds.append((request.params["id"], body))
            order.update(state="REFUNDED", updated_at=_now_iso())
            return _ok(order)

    def shipping_carriers(self, request: FakeRequest) -> FakeResponse:
        if request.arg("order_type") not in ("GENERAL", "CONFIRMED_DELIVERY"):
            return _error(1000, "order_type must be GENERAL or CONFIRMED_DELIVERY", 400)
        return _ok([{"name": name} for name in self.carriers])

    def tracking(self, request: FakeRequest) -> FakeResponse:
        """UpdateTracking: tracking_number (letters and digits), shipping_provider (an accepted
        carrier), origin_country (ISO 3166 alpha-2) required, ship_note optional."""
        body = request.json()
        number, provider, origin = (body.get(k) for k in ("tracking_number", "shipping_provider", "origin_country"))
        if not isinstance(number, str) or not number.isalnum():
            return _error(1000, "tracking_number must contain only letters and digits", 400)
        if provider not in self.carriers:
            return _error(1000, f"Invalid shipping_provider: {provider}", 400)
        if not isinstance(origin, str) or len(origin) != 2:
            return _error(1000, "origin_country must be a 2-letter country code", 400)
        with self.lock:
            order = self.orders.get(request.params["id"])
            if order is None:
                return _error(1004, "Order not found", 404)
            if order["state"] != "APPROVED":
                return _error(1000, f"Order is {order['state']}", 400)
            order["tracking_information"] = [
                {"tracking_number": number, "origin_country": origin, "shipping_provider": {"name": provider}},
                *order.get("tracking_information", []),
            ][:2]
            order.update(state="SHIPPED", updated_at=_now_iso())
            return _ok(order)

    def reply(self, request: FakeRequest) -> FakeResponse:
        with self.lock:
            ticket = self.tickets.get(request.params["id"])
            if ticket is None:
                return _error(1004, "Ticket not found", 404)
            if ticket["state"] != "AWAITING_MERCHANT":
                return _error(1031, f"Ticket is {ticket['state']}: only AWAITING_MERCHANT tickets take replies", 400)
            message = request.json().get("message")
            if not isinstance(message, str) or not message.strip():
                return _error(1000, "message is required", 400)
            if len(message) > 2000:
                return _error(1000, "message is longer than 2000 characters", 400)
            ticket["replies"].append({"sender": "MERCHANT", "message": message, "replied_at": _now_iso()})
            ticket.update(state="AWAITING_USER", updated_at=_now_iso())
        return _ok({"success": True})

    def update_ticket(self, request: FakeRequest) -> FakeResponse:
        """UpdateTicket {"state"}: CLOSED closes, AWAITING_WISH appeals to Wish support,
        AWAITING_MERCHANT re-opens a CLOSED ticket; a PERMANENTLY_CLOSED ticket never changes.
        Answers the Ticket."""
        state = request.json().get("state")
        if state not in ("CLOSED", "AWAITING_MERCHANT", "AWAITING_WISH"):
            return _error(1000, f"Invalid state: {state}", 400)
        with self.lock:
            ticket = self.tickets.get(request.params["id"])
            if ticket is None:
                return _error(1004, "Ticket not found", 404)
            if ticket["state"] == "PERMANENTLY_CLOSED":
                return _error(1031, "Ticket is permanently closed", 400)
            if state == "AWAITING_MERCHANT" and ticket["state"] != "CLOSED":
                return _error(1031, "Only a CLOSED ticket can be re-opened", 400)
            if state == "AWAITING_WISH" and ticket["state"] == "CLOSED":
                return _error(1031, "A closed ticket cannot be appealed", 400)
            ticket.update(state=state, updated_at=_now_iso())
            return _ok(ticket)


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso_ago(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat(timespec="seconds").replace("+00:00", "Z")
