"""A fake Shopee Open Platform v2 on 127.0.0.1 for tests and `make run`'s demo store.

It checks what Shopee checks: the common parameters (partner_id, timestamp within five minutes,
sign = HMAC-SHA256 of partner_id + path + timestamp [+ access_token + shop_id] with the partner
key), access tokens that expire, refresh tokens that rotate (the old one stops working), the
15-day limit of get_order_list windows, page sizes; it pages (get_order_list's cursor,
get_return_list's page_no, sellerchat's next_timestamp_nano and offset), answers Shopee's error
envelope ({"error", "message", "request_id"}), and signs pushes (Authorization = HMAC-SHA256 of
url|body). Faults (429, 5xx, dropped connections) come from FakePlatform."""

from __future__ import annotations

import hmac
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from aftersales.testing.fake_cdn import ChatFiles
from aftersales.testing.fake_platform import FakePlatform, FakeRequest, FakeResponse, json_response

from .client import TOKEN_PATH, sign
from .webhooks import push_signature

PUBLIC_PATHS = {TOKEN_PATH}
MAX_WINDOW_SECONDS = 15 * 24 * 3600


def _error(code: str, message: str, status: int = 403) -> FakeResponse:
    return json_response({"error": code, "message": message, "request_id": uuid.uuid4().hex}, status)


def _ok(response: Any, **extra: Any) -> FakeResponse:
    return json_response({"error": "", "message": "", "request_id": uuid.uuid4().hex, "response": response, **extra})


class ShopeeFake(ChatFiles, FakePlatform):
    name = "shopee"

    def __init__(
        self,
        *,
        partner_id: int = 2001234,
        partner_key: str = "shopee-test-partner-key",
        shop_id: int = 880001,
        shop_name: str = "Gadgets SG",
        region: str = "SG",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.partner_id = partner_id
        self.partner_key = partner_key
        self.shop_id = shop_id
        self.shop_name = shop_name
        self.region = region
        self.clock = clock
        self._ids = itertools.count(1)
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch)
        self.refresh_tokens: set[str] = set()
        self.refresh_token = self._new_refresh()
        self.revoked = False
        self.orders: dict[str, dict[str, Any]] = {}
        self.returns: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}  # conversation id -> oldest first
        # get_shipping_parameter's info_needed (per order where set): by default a non-integrated
        # channel, for which the seller gives the tracking number.
        self.info_needed: dict[str, Any] = {"non_integrated": ["tracking_number"]}
        self.info_needed_by_order: dict[str, dict[str, Any]] = {}
        self.tracking_numbers: dict[str, str] = {}  # order_sn -> the number it shipped with
        self.dispute_reasons = [
            {"reason_id": "41", "reason_text": "Buyer has not returned the item"},
            {"reason_id": "50", "reason_text": "Other"},
        ]
        super().__init__()

    # -- credentials -----------------------------------------------------------------------------
    def _new_refresh(self) -> str:
        token = f"rt-{next(self._ids)}-{uuid.uuid4().hex[:12]}"
        self.refresh_tokens = {token}
        return token

    def new_access_token(self, seconds: int = 14400) -> str:
        token = f"at-{next(self._ids)}-{uuid.uuid4().hex[:12]}"
        self.access_tokens[token] = self.clock() + seconds
        return token

    def credentials(self, **overrides: Any) -> dict[str, Any]:
        return {
            "partner_id": str(self.partner_id),
            "partner_key": self.partner_key,
            "shop_id": str(self.shop_id),
            "refresh_token": self.refresh_token,
            **overrides,
        }

    def access_token_expiry(self, token: str) -> float | None:
        return self.access_tokens.get(token)

    def refresh_token_valid(self, token: str) -> bool:
        return token in self.refresh_tokens

    def expire_tokens(self) -> None:
        with self.lock:
            self.access_tokens = dict.fromkeys(self.access_tokens, 0.0)

    # -- routes ----------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        routes: dict[tuple[str, str], Callable[[FakeRequest], FakeResponse]] = {
            ("POST", TOKEN_PATH): self.refresh,
            ("GET", "/api/v2/shop/get_shop_info"): self.shop_info,
            ("GET", "/api/v2/order/get_order_list"): self.order_list,
            ("GET", "/api/v2/order/get_order_detail"): self.order_detail,
            ("GET", "/api/v2/returns/get_return_list"): self.return_list,
            ("GET", "/api/v2/returns/get_return_detail"): self.return_detail,
            ("GET", "/api/v2/returns/get_return_dispute_reason"): self.return_dispute_reason,
            ("POST", "/api/v2/returns/confirm"): self.confirm,
            ("POST", "/api/v2/returns/offer"): self.offer,
            ("POST", "/api/v2/returns/dispute"): self.dispute,
            ("GET", "/api/v2/sellerchat/get_conversation_list"): self.conversation_list,
            ("GET", "/api/v2/sellerchat/get_message"): self.get_message,
            ("POST", "/api/v2/sellerchat/send_message"): self.send_message,
            ("GET", "/api/v2/logistics/get_shipping_parameter"): self.shipping_parameter,
            ("POST", "/api/v2/logistics/ship_order"): self.ship_order,
            ("GET", "/api/v2/logistics/get_tracking_number"): self.tracking_number,
        }
        for (method, path), handler in routes.items():
            self.route(method, re.escape(path), self._guarded(path, handler))
        self.route_files()

    def _guarded(self, path: str, handler: Callable[[FakeRequest], FakeResponse]) -> Callable[..., FakeResponse]:
        def guarded(request: FakeRequest) -> FakeResponse:
            denied = self.check_auth(request, path)
            return denied or handler(request)

        return guarded

    def check_auth(self, request: FakeRequest, path: str) -> FakeResponse | None:
        partner_id, timestamp, given = request.arg("partner_id"), request.arg("timestamp"), request.arg("sign")
        if partner_id != str(self.partner_id):
            return _error("error_param", "Invalid partner_id.", 400)
        try:
            stamp = int(timestamp or "")
        except ValueError:
            return _error("error_param", "Invalid timestamp.", 400)
        if abs(self.clock() - stamp) > 300:
            return _error("error_auth", "Invalid timestamp: it expires in 5 minutes.")
        if path in PUBLIC_PATHS:
            expected = sign(self.partner_key, partner_id, path, stamp)
        else:
            token, shop = request.arg("access_token", ""), request.arg("shop_id", "")
            expected = sign(self.partner_key, partner_id, path, stamp, token, shop)
        if not given or not hmac.compare_digest(expected, given):
            return _error("error_sign", "Wrong sign.")
        if path in PUBLIC_PATHS:
            return None
        if request.arg("shop_id") != str(self.shop_id):
            return _error("error_param", "Invalid shop_id.", 400)
        expires = self.access_token_expiry(request.arg("access_token", "") or "")
        if self.revoked or expires is None:
            return _error("invalid_acceess_token", "Invalid access_token.")
        if expires < self.clock():
            return _error("invalid_acceess_token", "Invalid access_token: expired.")
        return None

    # -- auth ------------------------------------------------------------------------------------
    def refresh(self, request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        with self.lock:
            if self.revoked:
                return _error("error_auth", "The shop authorization has been cancelled: authorize the app again.")
            if body.get("partner_id") != self.partner_id or body.get("shop_id") != self.shop_id:
                return _error("error_param", "Invalid partner_id or shop_id.", 400)
            if not self.refresh_token_valid(str(body.get("refresh_token") or "")):
                return _error("error_auth", "Invalid refresh_token.")
            self.refresh_token = self._new_refresh()
            token = self.new_access_token()
            return json_response(
                {
                    "error": "",
                    "message": "",
                    "request_id": uuid.uuid4().hex,
                    "access_token": token,
                    "refresh_token": self.refresh_token,
                    "expire_in": 14400,
                    "shop_id": self.shop_id,
                    "partner_id": self.partner_id,
                }
            )

    def shop_info(self, request: FakeRequest) -> FakeResponse:
        return json_response(
            {
                "error": "",
                "message": "",
                "request_id": uuid.uuid4().hex,
                "shop_name": self.shop_name,
                "region": self.region,
                "status": "NORMAL",
            }
        )

    # -- orders ----------------------------------------------------------------------------------
    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.orders[str(order.get("order_sn"))] = order
        return order

    @staticmethod
    def _int(request: FakeRequest, name: str, default: int | None = None) -> int | None:
        value = request.arg(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            return None

    def _window(self, request: FakeRequest, start: str, end: str) -> tuple[int, int] | FakeResponse:
        time_from, time_to = self._int(request, start), self._int(request, end)
        if time_from is None or time_to is None or time_to < time_from:
            return _error("error_param", f"{start} and {end} are required.", 400)
        if time_to - time_from > MAX_WINDOW_SECONDS:
            return _error("error_param", "The maximum date range is 15 days.", 400)
        return time_from, time_to

    def _page_size(self, request: FakeRequest, limit: int) -> int | FakeResponse:
        size = self._int(request, "page_size")
        if size is None or not 1 <= size <= limit:
            return _error("error_param", f"page_size should be between 1 and {limit}.", 400)
        return size

    def order_list(self, request: FakeRequest) -> FakeResponse:
        if request.arg("time_range_field") not in ("create_time", "update_time"):
            return _error("error_param", "time_range_field is required.", 400)
        window = self._window(request, "time_from", "time_to")
        size = self._page_size(request, 100)
        if isinstance(window, FakeResponse) or isinstance(size, FakeResponse):
            return window if isinstance(window, FakeResponse) else size  # type: ignore[return-value]
        field = str(request.arg("time_range_field"))
        with self.lock:
            found = sorted(
                (o for o in self.orders.values() if window[0] <= int(o.get(field) or 0) <= window[1]),
                key=lambda o: (int(o.get(field) or 0), str(o.get("order_sn"))),
            )
        offset = int(request.arg("cursor") or 0)
        page = found[offset : offset + size]
        more = offset + size < len(found)
        return _ok(
            {
                "more": more,
                "next_cursor": str(offset + size) if more else "",
                "order_list": [{"order_sn": o.get("order_sn")} for o in page],
            }
        )

    def order_detail(self, request: FakeRequest) -> FakeResponse:
        wanted = [s for s in (request.arg("order_sn_list") or "").split(",") if s]
        if not 1 <= len(wanted) <= 50:
            return _error("error_param", "order_sn_list should have 1 to 50 order_sn.", 400)
        with self.lock:
            found = [json.loads(json.dumps(self.orders[s])) for s in wanted if s in self.orders]
        return _ok({"order_list": found})

    # -- logistics -------------------------------------------------------------------------------
    def shipping_parameter(self, request: FakeRequest) -> FakeResponse:
        order_sn = request.arg("order_sn") or ""
        with self.lock:
            if order_sn not in self.orders:
                return _error("error_not_found", "Order not found.", 404)
            needed = self.info_needed_by_order.get(order_sn, self.info_needed)
        return _ok({"info_needed": needed})

    def ship_order(self, request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        order_sn = str(body.get("order_sn") or "")
        with self.lock:
            order = self.orders.get(order_sn)
            if order is None:
                return _error("error_not_found", "Order not found.", 404)
            if order.get("order_status") not in ("READY_TO_SHIP", "RETRY_SHIP"):
                return _error(
                    "logistics.ship_order_failed", f"Order status {order.get('order_status')} cannot ship.", 400
                )
            needed = self.info_needed_by_order.get(order_sn, self.info_needed)
            given = next((body[k] for k in ("non_integrated", "dropoff", "pickup") if k in body), None)
            part = next((k for k in ("non_integrated", "dropoff", "pickup") if k in body), "")
            if part not in needed or not isinstance(given, dict):
                return _error("error_param", f"This logistics channel needs {sorted(needed)}.", 400)
            number = str(given.get("tracking_number") or "")
            if "tracking_number" in needed[part] and not number.strip():
                return _error("error_param", "tracking_number is required.", 400)
            order["order_status"] = "PROCESSED"
            order["update_time"] = int(self.clock())
            self.tracking_numbers[order_sn] = number
        return _ok({})

    def tracking_number(self, request: FakeRequest) -> FakeResponse:
        order_sn = request.arg("order_sn") or ""
        with self.lock:
            if order_sn not in self.orders:
                return _error("error_not_found", "Order not found.", 404)
            number = self.tracking_numbers.get(order_sn, "")
        return _ok({"tracking_number": number, "plp_number": "", "first_mile_tracking_number": ""})

    # -- returns ---------------------------------------------------------------------------------
    def add_return(self, item: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.returns[str(item.get("return_sn"))] = item
        return item

    def return_list(self, request: FakeRequest) -> FakeResponse:
        window = self._window(request, "update_time_from", "update_time_to")
        size = self._page_size(request, 100)
        page_no = self._int(request, "page_no", 0)
        if isinstance(window, FakeResponse) or isinstance(size, FakeResponse) or page_no is None:
            return (
                window
                if isinstance(window, FakeResponse)
                else size
                if isinstance(size, FakeResponse)
                else (_error("error_param", "page_no is invalid.", 400))
            )
        with self.lock:
            found = sorted(
                (r for r in self.returns.values() if window[0] <= int(r.get("update_time") or 0) <= window[1]),
                key=lambda r: (int(r.get("update_time") or 0), str(r.get("return_sn"))),
            )
        page = found[page_no * size : (page_no + 1) * size]
        return _ok({"more": (page_no + 1) * size < len(found), "return": page})

    def _return(self, return_sn: Any) -> dict[str, Any] | None:
        return self.returns.get(str(return_sn or ""))

    def return_detail(self, request: FakeRequest) -> FakeResponse:
        with self.lock:
            found = self._return(request.arg("return_sn"))
            if found is None:
                return _error("error_not_found", "Return not found.", 404)
            return _ok(json.loads(json.dumps(found)))

    def return_dispute_reason(self, request: FakeRequest) -> FakeResponse:
        if self._return(request.arg("return_sn")) is None:
            return _error("error_not_found", "Return not found.", 404)
        return _ok({"dispute_reason": self.dispute_reasons})

    def _return_write(self, request: FakeRequest, allowed: set[str], new_status: str | None) -> FakeResponse:
        body = request.json() or {}
        with self.lock:
            found = self._return(body.get("return_sn"))
            if found is None:
                return _error("error_not_found", "Return not found.", 404)
            if found.get("status") not in allowed:
                return _error("error_param", f"Return status {found.get('status')} does not allow this.", 400)
            if new_status:
                found["status"] = new_status
                found["update_time"] = int(self.clock())
            return _ok({"return_sn": found["return_sn"]})

    def confirm(self, request: FakeRequest) -> FakeResponse:
        return self._return_write(request, {"REQUESTED", "PROCESSING", "JUDGING"}, "ACCEPTED")

    def offer(self, request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        if body.get("proposed_solution") not in ("RETURN_REFUND", "REFUND"):
            return _error("error_param", "proposed_solution is invalid.", 400)
        amount = body.get("proposed_adjusted_refund_amount")
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
            return _error("error_param", "proposed_adjusted_refund_amount is invalid.", 400)
        return self._return_write(request, {"REQUESTED", "PROCESSING"}, None)

    def dispute(self, request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        if not body.get("email") or not isinstance(body.get("dispute_reason_id"), int):
            return _error("error_param", "email and dispute_reason_id are required.", 400)
        return self._return_write(request, {"REQUESTED", "PROCESSING", "ACCEPTED"}, "SELLER_DISPUTE")

    # -- seller chat -----------------------------------------------------------------------------
    def add_conversation(self, conversation: dict[str, Any], messages: list[dict[str, Any]]) -> None:
        """`messages` oldest first; the conversation's latest-message fields follow them."""
        with self.lock:
            cid = str(conversation["conversation_id"])
            self.conversations[cid] = conversation
            self.messages.setdefault(cid, []).extend(messages)
            self._touch(cid)

    def add_message(self, conversation_id: str, message: dict[str, Any]) -> None:
        with self.lock:
            self.messages.setdefault(conversation_id, []).append(message)
            self._touch(conversation_id)

    def _touch(self, cid: str) -> None:
        messages = [m for m in self.messages.get(cid, []) if isinstance(m.get("created_timestamp"), int)]
        if messages:
            latest = messages[-1]
            conversation = self.conversations[cid]
            conversation["latest_message_id"] = latest.get("message_id")
            conversation["latest_message_type"] = latest.get("message_type")
            conversation["latest_message_content"] = {"text": str((latest.get("content") or {}).get("text", ""))}
            conversation["latest_message_from_id"] = latest.get("from_id")
            conversation["last_message_timestamp"] = int(latest["created_timestamp"]) * 10**9  # nanoseconds

    def conversation_list(self, request: FakeRequest) -> FakeResponse:
        if request.arg("direction") not in ("latest", "older") or request.arg("type") not in (
            "all",
            "pinned",
            "unread",
        ):
            return _error("error_param", "direction and type are required.", 400)
        size = self._page_size(request, 25)
        if isinstance(size, FakeResponse):
            return size
        before = self._int(request, "next_timestamp_nano")
        with self.lock:
            found = sorted(
                self.conversations.values(), key=lambda c: int(c.get("last_message_timestamp") or 0), reverse=True
            )
        if before:
            found = [c for c in found if int(c.get("last_message_timestamp") or 0) < before]
        page = [json.loads(json.dumps(c)) for c in found[:size]]
        more = len(found) > size
        last = page[-1] if page else {}
        return _ok(
            {
                "conversations": page,
                "page_result": {
                    "page_size": len(page),
                    "more": more,
                    "next_cursor": {
                        "next_message_time_nano": str(last.get("last_message_timestamp", "")),
                        "conversation_id": str(last.get("conversation_id", "")),
                    },
                },
            }
        )

    def get_message(self, request: FakeRequest) -> FakeResponse:
        cid = request.arg("conversation_id", "") or ""
        size = self._page_size(request, 25)
        if isinstance(size, FakeResponse):
            return size
        with self.lock:
            if cid not in self.conversations:
                return _error("error_not_found", "Conversation not found.", 404)
            newest_first = list(reversed(self.messages.get(cid, [])))
        offset = int(request.arg("offset") or 0)
        page = newest_first[offset : offset + size]
        following = offset + size if offset + size < len(newest_first) else None
        return _ok(
            {
                "messages": page,
                "page_result": {"page_size": len(page), "next_offset": str(following) if following else ""},
            }
        )

    def send_message(self, request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        to_id, kind, content = body.get("to_id"), body.get("message_type"), body.get("content") or {}
        if not isinstance(to_id, int) or kind != "text" or not str(content.get("text") or "").strip():
            return _error("error_param", "to_id, message_type and content.text are required.", 400)
        with self.lock:
            cid = next((c for c, conv in self.conversations.items() if conv.get("to_id") == to_id), None)
            if cid is None:
                return _error("error_param", "No conversation with this buyer.", 400)
            message = {
                "message_id": str(7_000_000_000 + next(self._ids)),
                "message_type": "text",
                "from_id": self.shop_id * 10,
                "from_shop_id": self.shop_id,
                "to_id": to_id,
                "to_shop_id": 0,
                "conversation_id": cid,
                "created_timestamp": int(self.clock()),
                "region": self.region,
                "status": "normal",
                "source": "api",
                "content": {"text": content["text"]},
            }
            self.messages[cid].append(message)
            self._touch(cid)
        return _ok({**message, "to_id": to_id})

    # -- pushes ----------------------------------------------------------------------------------
    def push(
        self, url: str, code: int, data: dict[str, Any], *, key: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A push as Shopee sends it to `url`: the body and its Authorization header."""
        body = json.dumps(
            {"shop_id": self.shop_id, "code": code, "timestamp": int(self.clock()), "data": data}
        ).encode()
        return body, {"Authorization": push_signature(key or self.partner_key, url, body)}
