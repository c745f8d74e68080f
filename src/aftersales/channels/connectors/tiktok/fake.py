"""A fake TikTok Shop Partner API (202309) on 127.0.0.1 for tests and `make run`'s demo store.

It checks what docs/connectors/tiktok.md says TikTok checks: app_key, a timestamp within five
minutes, `sign` (HMAC-SHA256 with the app secret over secret + path + sorted query parameters but
sign and access_token + body + secret), shop_cipher on shop calls, the `x-tts-access-token`
header (expired: code 105002; unknown or deauthorised: 105001); access tokens renewed at
/api/v2/token/refresh (served here too: tests point both hosts at one fake). It pages every list
by page_token, answers TikTok's envelope ({"code", "message", "request_id", "data"}), changes a
return's status on approve / reject, appends sent messages to their conversation, and builds
webhooks signed like TikTok's (Authorization = HMAC-SHA256(app secret, app_key + body)). Faults
(429, 5xx, dropped connections) come from FakePlatform."""

from __future__ import annotations

import hmac
import itertools
import json
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aftersales.testing.fake_cdn import ChatFiles
from aftersales.testing.fake_platform import FakePlatform, FakeRequest, FakeResponse, json_response

from .client import REFRESH_PATH, SHOPS_PATH, sign
from .webhooks import webhook_signature

RETURN_WORDS = {
    "APPROVE_REFUND": ("RETURN_OR_REFUND_REQUEST_PENDING", "RETURN_OR_REFUND_REQUEST_SUCCESS"),
    "APPROVE_RETURN": ("RETURN_OR_REFUND_REQUEST_PENDING", "AWAITING_BUYER_SHIP"),
    "APPROVE_RECEIVED_PACKAGE": ("BUYER_SHIPPED_ITEM", "RETURN_OR_REFUND_REQUEST_SUCCESS"),
    "APPROVE_REPLACEMENT": ("REPLACEMENT_REQUEST_PENDING", "AWAITING_BUYER_SHIP"),
    "REJECT_REFUND": ("RETURN_OR_REFUND_REQUEST_PENDING", "REFUND_OR_RETURN_REQUEST_REJECT"),
    "REJECT_RETURN": ("RETURN_OR_REFUND_REQUEST_PENDING", "REFUND_OR_RETURN_REQUEST_REJECT"),
    "REJECT_RECEIVED_PACKAGE": ("BUYER_SHIPPED_ITEM", "REJECT_RECEIVE_PACKAGE"),
    "REJECT_REPLACEMENT": ("REPLACEMENT_REQUEST_PENDING", "REPLACEMENT_REQUEST_REJECT"),
}


def _error(code: int, message: str, status: int = 200) -> FakeResponse:
    return json_response({"code": code, "message": message, "request_id": uuid.uuid4().hex, "data": None}, status)


def _ok(data: Any) -> FakeResponse:
    return json_response({"code": 0, "message": "Success", "request_id": uuid.uuid4().hex, "data": data})


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


class TikTokFake(ChatFiles, FakePlatform):
    name = "tiktok"

    def __init__(
        self,
        *,
        app_key: str = "6abcdtts01",
        app_secret: str = "tiktok-test-app-secret",  # noqa: S107 (the fake's own)
        shop_id: str = "7494000000000000001",
        shop_cipher: str = "ROW_fakeCipher001",
        shop_name: str = "Gadgets US",
        region: str = "US",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.shop_id = shop_id
        self.shop_cipher = shop_cipher
        self.shop_name = shop_name
        self.region = region
        self.clock = clock
        self._ids = itertools.count(1)
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch)
        self.refresh_token = f"rt-{uuid.uuid4().hex[:16]}"
        self.revoked = False
        self.orders: dict[str, dict[str, Any]] = {}
        self.returns: dict[str, dict[str, Any]] = {}
        self.cancellations: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}  # conversation id -> oldest first
        # Get Shipping Providers, by delivery option (the fixture order's option, by default).
        self.providers: dict[str, list[dict[str, Any]]] = {
            "7091146663229654789": [
                {"id": "6617675021119438849", "name": "USPS"},
                {"id": "6617675021119438850", "name": "UPS"},
                {"id": "6617675021119438851", "name": "FedEx"},
            ]
        }
        self.reject_reasons = [
            {"name": "seller_reject_apply_product_has_been_used", "text": "The product has been used"},
            {"name": "seller_reject_apply_other_reason", "text": "Other reason"},
        ]
        self._pages: dict[str, list[Any]] = {}  # page_token -> the rest of a listing
        super().__init__()

    # -- credentials -----------------------------------------------------------------------------
    def new_access_token(self, seconds: int = 7 * 24 * 3600) -> str:
        token = f"TTP_{next(self._ids)}{uuid.uuid4().hex[:12]}"
        self.access_tokens[token] = self.clock() + seconds
        return token

    def credentials(self, **overrides: Any) -> dict[str, Any]:
        return {
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "shop_cipher": self.shop_cipher,
            "shop_id": self.shop_id,
            "refresh_token": self.refresh_token,
            **overrides,
        }

    def access_token_expiry(self, token: str) -> float | None:
        return self.access_tokens.get(token)

    def expire_tokens(self) -> None:
        with self.lock:
            self.access_tokens = dict.fromkeys(self.access_tokens, 0.0)

    # -- routes ----------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        self.route("GET", REFRESH_PATH, self.refresh)
        shop_routes: list[tuple[str, str, Callable[[FakeRequest], FakeResponse]]] = [
            ("GET", SHOPS_PATH, self.shops),
            ("POST", "/order/202309/orders/search", self.orders_search),
            ("GET", "/order/202309/orders", self.orders_get),
            ("POST", "/return_refund/202309/returns/search", self.returns_search),
            ("POST", "/return_refund/202309/cancellations/search", self.cancellations_search),
            ("GET", "/return_refund/202309/reject_reasons", self.reasons),
            ("POST", r"/return_refund/202309/returns/(?P<id>[^/]+)/(?P<verb>approve|reject)", self.decide),
            ("POST", r"/return_refund/202309/cancellations/(?P<id>[^/]+)/(?P<verb>approve|reject)", self.decide_cancel),
            ("GET", r"/logistics/202309/delivery_options/(?P<id>[^/]+)/shipping_providers", self.shipping_providers),
            ("POST", r"/fulfillment/202309/orders/(?P<id>[^/]+)/packages", self.mark_package_shipped),
            ("GET", "/customer_service/202309/conversations", self.conversation_list),
            ("GET", r"/customer_service/202309/conversations/(?P<id>[^/]+)/messages", self.message_list),
            ("POST", r"/customer_service/202309/conversations/(?P<id>[^/]+)/messages", self.send_message),
        ]
        for method, pattern, handler in shop_routes:
            self.route(method, pattern, self._guarded(handler, shop=pattern != SHOPS_PATH))
        self.route_files()

    def _guarded(self, handler: Callable[[FakeRequest], FakeResponse], *, shop: bool) -> Callable[..., FakeResponse]:
        def guarded(request: FakeRequest) -> FakeResponse:
            return self.check_auth(request, shop=shop) or handler(request)

        return guarded

    def check_auth(self, request: FakeRequest, *, shop: bool) -> FakeResponse | None:
        if request.arg("app_key") != self.app_key:
            return _error(106002, "Invalid app_key.", 401)
        if "access_token" in request.query:
            return _error(36009001, "access_token must be sent in the x-tts-access-token header.", 400)
        try:
            stamp = int(request.arg("timestamp") or "")
        except ValueError:
            return _error(36009001, "Invalid timestamp.", 400)
        if abs(self.clock() - stamp) > 300:
            return _error(106001, "Invalid timestamp: it expires in 5 minutes.", 401)
        params = {k: v[0] for k, v in request.query.items()}
        expected = sign(self.app_secret, request.path, params, request.body)
        if not hmac.compare_digest(expected, request.arg("sign") or ""):
            return _error(106001, "Invalid signature.", 401)
        if shop and request.arg("shop_cipher") != self.shop_cipher:
            return _error(105005, "Invalid shop_cipher: the shop is not authorised for this app.", 401)
        token = request.headers.get("x-tts-access-token", "")
        if self.revoked:
            return _error(105001, "The seller has deauthorized the app: authorize it again in Seller Center.", 401)
        expires = self.access_token_expiry(token)
        if expires is None:
            return _error(105001, "Invalid access token.", 401)
        if expires < self.clock():
            return _error(105002, "Expired credentials: the access token has expired.", 401)
        return None

    def refresh(self, request: FakeRequest) -> FakeResponse:
        with self.lock:
            if request.arg("app_key") != self.app_key or request.arg("app_secret") != self.app_secret:
                return _error(106002, "Invalid app_key or app_secret.", 401)
            if request.arg("grant_type") != "refresh_token":
                return _error(36004004, "grant_type must be refresh_token.", 400)
            if self.revoked:
                return _error(105001, "The seller has deauthorized the app: authorize it again in Seller Center.", 401)
            if request.arg("refresh_token") != self.refresh_token:
                return _error(105001, "Invalid refresh_token.", 401)
            token = self.new_access_token()
            return _ok(
                {
                    "access_token": token,
                    "access_token_expire_in": int(self.access_token_expiry(token) or 0),
                    "refresh_token": self.refresh_token,
                    "refresh_token_expire_in": int(self.clock()) + 365 * 24 * 3600,
                    "open_id": "fake-open-id",
                    "seller_name": self.shop_name,
                    "seller_base_region": self.region,
                    "user_type": 0,
                }
            )

    def shops(self, request: FakeRequest) -> FakeResponse:
        shop = {
            "id": self.shop_id,
            "name": self.shop_name,
            "region": self.region,
            "seller_type": "LOCAL",
            "cipher": self.shop_cipher,
            "code": "USLCFAKE01",
        }
        return _ok({"shops": [shop]})

    # -- paging ----------------------------------------------------------------------------------
    def _page(self, request: FakeRequest, found: list[Any], name: str, limit: int = 100) -> FakeResponse:
        try:
            size = int(request.arg("page_size") or "")
        except ValueError:
            return _error(36009001, "page_size is required.", 400)
        if not 1 <= size <= limit:
            return _error(36009001, f"page_size should be between 1 and {limit}.", 400)
        token = request.arg("page_token") or ""
        with self.lock:
            if token:
                if token not in self._pages:
                    return _error(36009001, "Invalid page_token.", 400)
                found = self._pages.pop(token)
            page, rest = found[:size], found[size:]
            following = ""
            if rest:
                following = uuid.uuid4().hex
                self._pages[following] = rest
        return _ok({name: _copy(page), "next_page_token": following, "total_count": len(page) + len(rest)})

    @staticmethod
    def _window(request: FakeRequest, items: dict[str, dict[str, Any]], ids_field: str = "") -> list[Any]:
        """The items named by `ids_field` in the body, else those updated in [update_time_ge,
        update_time_lt), oldest first."""
        body = request.json() or {}
        wanted = body.get(ids_field) if ids_field else None
        if wanted:
            return [items[i] for i in wanted if i in items]
        start, end = int(body.get("update_time_ge") or 0), int(body.get("update_time_lt") or 2**62)
        found = [(key, r) for key, r in items.items() if start <= int(r.get("update_time") or 0) < end]
        return [r for _key, r in sorted(found, key=lambda kr: (int(kr[1].get("update_time") or 0), kr[0]))]

    # -- orders ----------------------------------------------------------------------------------
    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.orders[str(order.get("id"))] = order
        return order

    def orders_search(self, request: FakeRequest) -> FakeResponse:
        if request.arg("sort_field") not in (None, "create_time", "update_time"):
            return _error(36009001, "Invalid sort_field.", 400)
        return self._page(request, self._window(request, self.orders), "orders")

    def orders_get(self, request: FakeRequest) -> FakeResponse:
        wanted = [i for i in (request.arg("ids") or "").split(",") if i]
        if not 1 <= len(wanted) <= 50:
            return _error(36009001, "ids should have 1 to 50 order ids.", 400)
        return _ok({"orders": _copy([self.orders[i] for i in wanted if i in self.orders])})

    # -- fulfillment -----------------------------------------------------------------------------
    def shipping_providers(self, request: FakeRequest) -> FakeResponse:
        providers = self.providers.get(request.params["id"])
        if providers is None:
            return _error(21011001, "The delivery option does not exist.", 400)
        return _ok({"shipping_providers": _copy(providers)})

    def mark_package_shipped(self, request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        number, provider = str(body.get("tracking_number") or ""), str(body.get("shipping_provider_id") or "")
        line_ids = body.get("order_line_item_ids")
        with self.lock:
            order = self.orders.get(request.params["id"])
            if order is None:
                return _error(21001001, "The order does not exist.", 400)
            if order.get("status") not in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"):
                return _error(21001008, f"The order is {order.get('status')}: it cannot be shipped.", 400)
            known = {p["id"] for p in self.providers.get(str(order.get("delivery_option_id")), [])}
            if not number.strip() or provider not in known:
                return _error(21011004, "tracking_number and a shipping_provider_id of the order are required.", 400)
            lines = {str(item["id"]): item for item in order.get("line_items", [])}
            if not isinstance(line_ids, list) or not line_ids or any(str(i) not in lines for i in line_ids):
                return _error(21011005, "order_line_item_ids must name lines of the order.", 400)
            package_id = str(1_153_000_000_000_000_000 + next(self._ids))
            name = next(p["name"] for p in self.providers[str(order["delivery_option_id"])] if p["id"] == provider)
            for line_id in line_ids:
                lines[str(line_id)].update(
                    tracking_number=number,
                    shipping_provider_id=provider,
                    shipping_provider_name=name,
                    package_id=package_id,
                    display_status="IN_TRANSIT",
                )
            shipped = all(item.get("tracking_number") for item in lines.values())
            order["status"] = "IN_TRANSIT" if shipped else "PARTIALLY_SHIPPING"
            order["update_time"] = int(self.clock())
        return _ok({"package_id": package_id})

    # -- returns and cancellations ---------------------------------------------------------------
    def add_return(self, item: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.returns[str(item.get("return_id"))] = item
        return item

    def add_cancellation(self, item: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.cancellations[str(item.get("cancel_id"))] = item
        return item

    def returns_search(self, request: FakeRequest) -> FakeResponse:
        found = self._window(request, self.returns, "return_ids")
        if (request.json() or {}).get("return_ids"):
            return _ok({"return_orders": _copy(found), "next_page_token": "", "total_count": len(found)})
        return self._page(request, found, "return_orders")

    def cancellations_search(self, request: FakeRequest) -> FakeResponse:
        found = self._window(request, self.cancellations, "cancel_ids")
        if (request.json() or {}).get("cancel_ids"):
            return _ok({"cancellations": _copy(found), "next_page_token": "", "total_count": len(found)})
        return self._page(request, found, "cancellations")

    def reasons(self, request: FakeRequest) -> FakeResponse:
        wanted = request.arg("return_or_cancel_id") or ""
        if wanted not in self.returns and wanted not in self.cancellations:
            return _error(25001001, "The return or cancellation does not exist.", 400)
        return _ok({"reasons": _copy(self.reject_reasons)})

    def decide(self, request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        word = str(body.get("decision") or "")
        with self.lock:
            found = self.returns.get(request.params["id"])
            if found is None:
                return _error(25001001, "The return does not exist.", 400)
            if word == "OFFER_PARTIAL_REFUND" and request.params["verb"] == "approve":
                return self._partial_offer(found, body)
            if word not in RETURN_WORDS or not word.startswith(request.params["verb"].upper()):
                return _error(25020004, "Decision mismatch: check the decision.", 400)
            if request.params["verb"] == "reject" and body.get("reject_reason") not in {
                r["name"] for r in self.reject_reasons
            }:
                return _error(25001020, "Reason offline: fetch the reasons again.", 400)
            before, after = RETURN_WORDS[word]
            if found.get("return_status") != before:
                return _error(25020010, f"The request is {found.get('return_status')}: {word} is not allowed.", 400)
            found["return_status"] = after
            found["update_time"] = int(self.clock())
            found["seller_next_action_response"] = []
        return _ok({})

    def _partial_offer(self, found: dict[str, Any], body: dict[str, Any]) -> FakeResponse:
        """OFFER_PARTIAL_REFUND with partial_refund {amount (a decimal string), currency}: only on a
        pending refund or return-and-refund request, below the refund asked, in its currency.
        Call with the lock held."""
        offer = body.get("partial_refund")
        if found.get("return_status") != "RETURN_OR_REFUND_REQUEST_PENDING" or found.get("return_type") not in (
            "REFUND",
            "RETURN_AND_REFUND",
        ):
            return _error(25020010, f"The request is {found.get('return_status')}: no partial refund offer.", 400)
        asked = found.get("refund_amount") or {}
        if not isinstance(offer, dict) or not isinstance(offer.get("amount"), str):
            return _error(25001002, "partial_refund.amount is required.", 400)
        try:
            amount = Decimal(offer["amount"])
        except ArithmeticError:
            return _error(25001002, "partial_refund.amount is not a number.", 400)
        if offer.get("currency") != asked.get("currency"):
            return _error(25001002, "partial_refund.currency does not match the request.", 400)
        if not Decimal("0") < amount < Decimal(str(asked.get("refund_total") or "0")):
            return _error(25001002, "partial_refund.amount must be below the refund total.", 400)
        found["partial_refund_offer"] = dict(offer)
        found["update_time"] = int(self.clock())
        return _ok({})

    def decide_cancel(self, request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        with self.lock:
            found = self.cancellations.get(request.params["id"])
            if found is None:
                return _error(25001001, "The cancellation does not exist.", 400)
            if found.get("cancel_status") != "CANCELLATION_REQUEST_PENDING":
                return _error(25020010, "The cancellation is no longer pending.", 400)
            approve = request.params["verb"] == "approve"
            if not approve and body.get("reject_reason") not in {r["name"] for r in self.reject_reasons}:
                return _error(25001020, "Reason offline: fetch the reasons again.", 400)
            found["cancel_status"] = "CANCELLATION_REQUEST_SUCCESS" if approve else "CANCELLATION_REQUEST_CANCEL"
            found["update_time"] = int(self.clock())
        return _ok({})

    # -- customer service ------------------------------------------------------------------------
    def add_conversation(self, conversation: dict[str, Any], messages: list[dict[str, Any]]) -> None:
        """`messages` oldest first; the conversation's latest_message follows them."""
        with self.lock:
            cid = str(conversation["id"])
            self.conversations[cid] = conversation
            self.messages.setdefault(cid, []).extend(messages)
            self._touch(cid)

    def add_message(self, conversation_id: str, message: dict[str, Any]) -> None:
        with self.lock:
            self.messages.setdefault(conversation_id, []).append(message)
            self._touch(conversation_id)

    def _touch(self, cid: str) -> None:
        dated = [m for m in self.messages.get(cid, []) if isinstance(m.get("create_time"), int)]
        if dated:
            latest = dated[-1]
            self.conversations[cid]["latest_message"] = {
                "id": latest.get("id"),
                "type": latest.get("type"),
                "content": latest.get("content"),
                "create_time": latest["create_time"],
                "sender": latest.get("sender"),
            }

    def conversation_list(self, request: FakeRequest) -> FakeResponse:
        with self.lock:
            found = sorted(
                self.conversations.values(),
                key=lambda c: int((c.get("latest_message") or {}).get("create_time") or 0),
                reverse=True,
            )
        return self._page(request, found, "conversations", limit=20)

    def message_list(self, request: FakeRequest) -> FakeResponse:
        cid = request.params["id"]
        with self.lock:
            if cid not in self.conversations:
                return _error(36009001, "The conversation does not exist.", 400)
            found = list(self.messages.get(cid, []))
        if request.arg("sort_order", "DESC") == "DESC":
            found.reverse()
        return self._page(request, found, "messages", limit=20)

    def send_message(self, request: FakeRequest) -> FakeResponse:
        cid = request.params["id"]
        body = request.json() or {}
        try:
            text = json.loads(body.get("content") or "null").get("content")
        except (ValueError, AttributeError):
            text = None
        if body.get("type") != "TEXT" or not isinstance(text, str) or not text.strip():
            return _error(36009001, 'type TEXT and content {"content": ...} are required.', 400)
        with self.lock:
            if cid not in self.conversations:
                return _error(36009001, "The conversation does not exist.", 400)
            message = {
                "id": str(7_400_000_000_000_000_000 + next(self._ids)),
                "type": "TEXT",
                "content": body["content"],
                "create_time": int(self.clock()),
                "is_visible": True,
                "sender": {"role": "SHOP", "im_user_id": f"shop-{self.shop_id}", "nickname": self.shop_name},
            }
            self.messages[cid].append(message)
            self._touch(cid)
        return _ok({"message_id": message["id"]})

    # -- webhooks --------------------------------------------------------------------------------
    def webhook(self, kind: int, data: dict[str, Any], *, secret: str | None = None) -> tuple[bytes, dict[str, str]]:
        """A webhook as TikTok sends it: the body and its Authorization header."""
        body = json.dumps(
            {
                "type": kind,
                "tts_notification_id": str(next(self._ids) + 7_300_000_000_000_000_000),
                "shop_id": self.shop_id,
                "timestamp": int(self.clock()),
                "data": data,
            }
        ).encode()
        return body, {"Authorization": webhook_signature(self.app_key, secret or self.app_secret, body)}
