"""A local eBay: the token endpoint, Sell Fulfillment orders and refunds, Post-Order v2 returns,
inquiries and cases, the Message API, the Notification API's getPublicKey, and signed pushes.

It checks what eBay checks: Basic client credentials on the token endpoint, `IAF <token>` on
Post-Order and `Bearer <token>` elsewhere (an application token for getPublicKey), expired
tokens (401), and the digital signature (RFC 9421) of the calls that need one for EU/UK
marketplaces. Faults (429/5xx/drops) come from FakePlatform; malformed records are added as given.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.parser import BytesParser
from email.policy import default as email_policy
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import filetype
import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from aftersales.testing.fake_platform import FakePlatform, FakeRequest, FakeResponse, json_response

from .client import EU_UK_MARKETPLACES
from .demo import iso, seed_demo
from .limits import REPLY_IMAGE_TYPES as EPS_FORMATS
from .signing import SignatureMismatch, verify_headers

SIGNED_PATHS = [
    re.compile(r"/sell/fulfillment/v1/order/[^/]+/issue_refund"),
    re.compile(r"/post-order/v2/return/[^/]+/decide"),
    re.compile(r"/post-order/v2/return/[^/]+/issue_refund"),
    re.compile(r"/post-order/v2/inquiry/[^/]+/issue_refund"),
    re.compile(r"/post-order/v2/casemanagement/[^/]+/issue_refund"),
]
SELLER_DECISIONS = {"APPROVE", "DECLINE", "OFFER_PARTIAL_REFUND", "PROVIDE_RMA"}
# ReturnCountFilterEnum, the `return_state` of GET /post-order/v2/return/search: which returns each
# value selects (by the summary's `state`). Without return_state eBay answers ALL_OPEN only
# (CountSummaryType: "the default behavior is ... to return only those return requests in the
# 'ALL_OPEN' state"). ALL_OPEN_REPLACEMENT is documented "not currently supported" and EBAY_PLUS needs
# an eBay Plus flag the fake's returns do not carry: both refused (400), as is any unknown value.
RETURN_STATE_FILTERS: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "ALL_OPEN": lambda r: r.get("state") != "CLOSED",
    "ALL_OPEN_RETURN": lambda r: r.get("state") != "CLOSED" and r.get("currentType") != "REPLACEMENT",
    "CLOSED": lambda r: r.get("state") == "CLOSED",
    "ITEM_DELIVERED": lambda r: r.get("state") == "ITEM_DELIVERED",
    "ITEM_SHIPPED": lambda r: r.get("state") == "ITEM_SHIPPED",
}
RETURN_STATE_UNSUPPORTED = {"ALL_OPEN_REPLACEMENT", "EBAY_PLUS"}
DECISION_STATES = {
    "APPROVE": "READY_FOR_SHIPPING",
    "DECLINE": "RETURN_REJECTED",
    "OFFER_PARTIAL_REFUND": "PARTIAL_REFUND_INITIATED",
}


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _error(status: int, error_id: int, message: str) -> FakeResponse:
    return json_response({"errors": [{"errorId": error_id, "domain": "API_FAKE", "message": message}]}, status)


def _dig(data: Any, *path: str) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, Mapping) else None
    return data


class EbayFake(FakePlatform):
    name = "ebay"
    client_id = "fake-ebay-client"
    client_secret = "fake-ebay-secret"  # noqa: S105 (the fake's own test value)
    refresh_token = "fake-ebay-refresh-token"  # noqa: S105
    verification_token = "fake-verification-token-0123456789abcdef"  # noqa: S105

    def __init__(self, *, seller: str = "fake_seller", token_ttl: int = 7200) -> None:
        self.seller = seller
        self.token_ttl = token_ttl
        self.user_tokens: dict[str, float] = {}
        self.app_tokens: dict[str, float] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.returns: dict[str, dict[str, Any]] = {}
        self.inquiries: dict[str, dict[str, Any]] = {}
        self.cases: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        # eBay-issued return shipping labels by returnId (GetShippingLabelResponse bodies)
        self.return_labels: dict[str, dict[str, Any]] = {}
        # ReturnDetailType `detail` containers by returnId (closeInfo of a closed return), answered by
        # GET /post-order/v2/return/{returnId} beside the summary
        self.return_details: dict[str, dict[str, Any]] = {}
        self.signing_keys: dict[str, ed25519.Ed25519PublicKey | rsa.RSAPublicKey] = {}
        self.notification_key = ec.generate_private_key(ec.SECP256R1())
        self.notification_kid = "fake-kid-" + secrets.token_hex(8)
        self.public_key_fetches = 0
        self.media: dict[str, tuple[bytes, str]] = {}
        self.images: dict[str, dict[str, str]] = {}  # EPS image id -> {"imageUrl", "expirationDate"}
        self._ids = itertools.count(1)
        super().__init__()

    # -- test helpers -----------------------------------------------------------------------------
    def credentials(self, **extra: Any) -> dict[str, Any]:
        """Credentials for a store that talks to this fake (no access token yet: refreshed on use)."""
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
            "verification_token": self.verification_token,
            **extra,
        }

    def new_signing_key(self, kind: str = "ed25519") -> dict[str, str]:
        """A signing key registered with the fake, as credentials["signing_key"] holds it."""
        private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey = (
            ed25519.Ed25519PrivateKey.generate() if kind == "ed25519" else rsa.generate_private_key(65537, 2048)
        )
        jwe = "eyJfake." + secrets.token_urlsafe(24)
        with self.lock:
            self.signing_keys[jwe] = private.public_key()
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {"private_key": pem, "jwe": jwe}

    def expire_tokens(self) -> None:
        with self.lock:
            self.user_tokens.clear()

    def next_id(self) -> str:
        return f"{5000000000 + next(self._ids)}"

    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.orders[str(order.get("orderId") or self.next_id())] = order
        return order

    def issue_return_label(
        self, return_id: str, pdf: bytes, *, carrier: str = "USPS", tracking_number: str = "9400100000000000000000"
    ) -> None:
        """eBay issued a return shipping label for the return (served by get_shipping_label)."""
        with self.lock:
            self.return_labels[return_id] = {
                "carrier": carrier,
                "labelContent": base64.b64encode(pdf).decode(),
                "labelFormat": "PDF",
                "labelPrintStatus": "AVAILABLE",
                "labelURL": f"https://www.ebay.com/rt/ReturnLabel?returnId={return_id}",
                "trackingNumber": tracking_number,
            }

    def add_return(self, item: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.returns[str(item.get("returnId") or self.next_id())] = item
        return item

    def close_return(
        self, return_id: str, *, return_close_reason: str, buyer_close_reason: str = "", at: str = ""
    ) -> None:
        """The return closed on eBay: state CLOSED, and the detail's closeInfo (ReturnCloseInfoType:
        returnCloseReason, buyerCloseReason only when the buyer closed it, returnCloseDate)."""
        info: dict[str, Any] = {"returnCloseReason": return_close_reason}
        if buyer_close_reason:
            info["buyerCloseReason"] = buyer_close_reason
        if at:
            info["returnCloseDate"] = {"value": at}
        with self.lock:
            self.returns[return_id]["state"] = "CLOSED"
            self.return_details.setdefault(return_id, {})["closeInfo"] = info

    def add_inquiry(self, item: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.inquiries[str(item.get("inquiryId") or self.next_id())] = item
        return item

    def add_case(self, item: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.cases[str(item.get("caseId") or self.next_id())] = item
        return item

    def add_conversation(self, conversation: dict[str, Any], messages: list[dict[str, Any]]) -> None:
        with self.lock:
            self.conversations[str(conversation["conversationId"])] = {**conversation, "messages": list(messages)}

    def add_media(self, name: str, content: bytes, content_type: str = "image/png") -> str:
        """Host a buyer's image as eBay's media servers do (public, no auth); returns its mediaUrl."""
        with self.lock:
            self.media[name] = (content, content_type)
        return f"{self.url}/media/{name}"

    def seed_demo(self, *, orders: int = 20, now: datetime | None = None) -> None:
        """Demo data for `make run`'s demo store and benchmarks (see demo.py)."""
        seed_demo(self, orders=orders, now=now)

    def complete_refunds(self, status: str = "REFUNDED") -> None:
        with self.lock:
            for order in self.orders.values():
                for refund in _dig(order, "paymentSummary", "refunds") or []:
                    if refund.get("refundStatus") == "PENDING":
                        refund["refundStatus"] = status

    # -- notifications ----------------------------------------------------------------------------
    def signed_notification(self, payload: Mapping[str, Any], *, valid: bool = True) -> tuple[dict[str, str], bytes]:
        body = json.dumps(payload).encode()
        signed = body if valid else body + b" "
        signature = self.notification_key.sign(signed, ec.ECDSA(hashes.SHA1()))  # noqa: S303 (eBay's digest)
        header = {
            "alg": "ecdsa",
            "kid": self.notification_kid,
            "signature": base64.b64encode(signature).decode(),
            "digest": "SHA1",
        }
        headers = {
            "Content-Type": "application/json",
            "X-EBAY-SIGNATURE": base64.b64encode(json.dumps(header).encode()).decode(),
        }
        return headers, body

    def push(self, url: str, payload: Mapping[str, Any], *, valid: bool = True, client: Any = None) -> Any:
        """POST a signed notification to `url`: through a Django test client when given (its
        response is returned), else over HTTP with httpx."""
        headers, body = self.signed_notification(payload, valid=valid)
        if client is not None:
            return client.post(
                url,
                data=body,
                content_type="application/json",
                headers={"X-EBAY-SIGNATURE": headers["X-EBAY-SIGNATURE"]},
            )
        return httpx.post(url, content=body, headers=headers, timeout=10)

    # -- auth -------------------------------------------------------------------------------------
    def _issue(self, store: dict[str, float]) -> tuple[str, int]:
        token = "v^1.1#i^1#fake#" + secrets.token_urlsafe(24)
        with self.lock:
            store[token] = time.time() + self.token_ttl
        return token, self.token_ttl

    def _authorized(self, request: FakeRequest, scheme: str, *, app: bool = False) -> FakeResponse | None:
        header = request.headers.get("authorization", "")
        prefix = f"{scheme} "
        if not header.startswith(prefix):
            return _error(401, 1001, f"Invalid access token: this API takes '{scheme} <token>'")
        token = header[len(prefix) :]
        with self.lock:
            expiry = (self.app_tokens if app else self.user_tokens).get(token)
        if expiry is None or expiry < time.time():
            return _error(401, 1001, "Invalid access token. Check the value of the Authorization HTTP request header.")
        return None

    def _signature(self, request: FakeRequest) -> FakeResponse | None:
        if not any(p.fullmatch(request.path) for p in SIGNED_PATHS):
            return None
        marketplace = request.headers.get("x-ebay-c-marketplace-id", "")
        present = "signature" in request.headers or "x-ebay-signature-key" in request.headers
        if marketplace not in EU_UK_MARKETPLACES and not present:
            return None
        try:
            with self.lock:
                keys = dict(self.signing_keys)
            verify_headers(
                public_keys=keys,
                method=request.method,
                path=request.path,
                host=request.headers.get("host", ""),
                headers=request.headers,
                body=request.body,
                now=int(time.time()),
            )
        except SignatureMismatch as exc:
            return _error(400, 215120, f"Signature validation failed: {exc}")
        return None

    # -- routes -----------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        self.route("POST", r"/identity/v1/oauth2/token", self._token)
        self.route("GET", r"/commerce/notification/v1/public_key/(?P<kid>[^/]+)", self._public_key)
        self.route("GET", r"/sell/fulfillment/v1/order", self._get_orders)
        self.route("GET", r"/sell/fulfillment/v1/order/(?P<id>[^/]+)", self._get_order)
        self.route("POST", r"/sell/fulfillment/v1/order/(?P<id>[^/]+)/issue_refund", self._issue_refund)
        self.route("POST", r"/sell/fulfillment/v1/order/(?P<id>[^/]+)/shipping_fulfillment", self._ship)
        self.route("GET", r"/post-order/v2/return/(?P<id>[^/]+)/get_shipping_label", self._get_shipping_label)
        for kind in ("return", "inquiry", "casemanagement"):
            self.route("GET", rf"/post-order/v2/{kind}/search", self._search)
            self.route("GET", rf"/post-order/v2/{kind}/(?P<id>[0-9A-Za-z-]+)", self._get_post_order)
        self.route("POST", r"/post-order/v2/return/(?P<id>[^/]+)/(?P<action>[a-z_/]+)", self._return_action)
        self.route("POST", r"/post-order/v2/inquiry/(?P<id>[^/]+)/(?P<action>[a-z_]+)", self._dispute_action)
        self.route("POST", r"/post-order/v2/casemanagement/(?P<id>[^/]+)/(?P<action>[a-z_]+)", self._dispute_action)
        self.route("GET", r"/commerce/message/v1/conversation", self._get_conversations)
        self.route("GET", r"/commerce/message/v1/conversation/(?P<id>[^/]+)", self._get_conversation)
        self.route("POST", r"/commerce/message/v1/send_message", self._send_message)
        self.route("GET", r"/media/(?P<name>[^/]+)", self._media)
        self.route("POST", r"/commerce/media/v1_beta/image/create_image_from_file", self._create_image)
        self.route("GET", r"/commerce/media/v1_beta/image/(?P<id>[^/]+)", self._get_image)

    def _token(self, request: FakeRequest) -> FakeResponse:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return json_response({"error": "invalid_client", "error_description": "client authentication failed"}, 401)
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if form.get("refresh_token") != self.refresh_token:
                return json_response(
                    {
                        "error": "invalid_grant",
                        "error_description": "the provided authorization refresh token is invalid or was issued "
                        "to another client",
                    },
                    400,
                )
            token, ttl = self._issue(self.user_tokens)
            return json_response({"access_token": token, "expires_in": ttl, "token_type": "User Access Token"})
        if grant == "client_credentials":
            token, ttl = self._issue(self.app_tokens)
            return json_response({"access_token": token, "expires_in": ttl, "token_type": "Application Access Token"})
        return json_response({"error": "unsupported_grant_type", "error_description": "grant type unsupported"}, 400)

    def _public_key(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "Bearer", app=True)
        if denied:
            return denied
        if request.params["kid"] != self.notification_kid:
            return _error(404, 195000, "public key not found")
        with self.lock:
            self.public_key_fetches += 1
        pem = (
            self.notification_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        one_line = pem.replace("\n", "")  # as eBay sends it
        return json_response({"algorithm": "ECDSA", "digest": "SHA1", "key": one_line})

    # orders -------------------------------------------------------------------------------------
    def _page_args(self, request: FakeRequest, default: int = 50) -> tuple[int, int] | FakeResponse:
        try:
            limit = int(request.arg("limit") or default)
            offset = int(request.arg("offset") or 0)
        except ValueError:
            return _error(400, 32100, "Invalid limit or offset")
        if limit < 1 or limit > 200 or offset < 0:
            return _error(400, 32100, "Invalid limit or offset")
        return limit, offset

    def _get_orders(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "Bearer")
        if denied:
            return denied
        paging = self._page_args(request)
        if isinstance(paging, FakeResponse):
            return paging
        limit, offset = paging
        start = end = None
        raw_filter = request.arg("filter") or ""
        if raw_filter:
            match = re.fullmatch(r"lastmodifieddate:\[(?P<a>[^.\]]*(?:\.\d+Z)?)\.\.(?P<b>[^\]]*)\]", raw_filter)
            if not match:
                return _error(400, 30800, f"Invalid filter {raw_filter!r}")
            start, end = _when(match["a"]), _when(match["b"]) if match["b"] else None
            if start is None:
                return _error(400, 30800, "Invalid lastmodifieddate")
        with self.lock:
            orders = sorted(self.orders.values(), key=lambda o: str(o.get("lastModifiedDate")))
        if start is not None:
            orders = [
                o
                for o in orders
                if (w := _when(o.get("lastModifiedDate"))) and w >= start and (end is None or w <= end)
            ]
        page = orders[offset : offset + limit]
        return json_response({"total": len(orders), "limit": limit, "offset": offset, "orders": page})

    def _get_order(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "Bearer")
        if denied:
            return denied
        with self.lock:
            order = self.orders.get(request.params["id"])
        if order is None:
            return _error(404, 32100, "Order not found")
        return json_response(order)

    def _issue_refund(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "Bearer") or self._signature(request)
        if denied:
            return denied
        body = request.json()
        with self.lock:
            order = self.orders.get(request.params["id"])
            if order is None:
                return _error(404, 32100, "Order not found")
            if body.get("reasonForRefund") not in {
                "BUYER_CANCEL",
                "BUYER_RETURN",
                "ITEM_NOT_RECEIVED",
                "SELLER_WRONG_ITEM",
                "SELLER_OUT_OF_STOCK",
                "SELLER_FOUND_CHEAPER_PRICE",
                "OTHER",
            }:
                return _error(400, 32600, "Invalid reasonForRefund")
            if body.get("orderLevelRefundAmount"):
                amount = Decimal(body["orderLevelRefundAmount"]["value"])
                currency = body["orderLevelRefundAmount"]["currency"]
            elif body.get("refundItems"):
                amount = sum((Decimal(i["refundAmount"]["value"]) for i in body["refundItems"]), Decimal(0))
                currency = body["refundItems"][0]["refundAmount"]["currency"]
            else:
                return _error(400, 32600, "orderLevelRefundAmount or refundItems is required")
            refunds = order.setdefault("paymentSummary", {}).setdefault("refunds", [])
            refunded = sum(
                (Decimal(r["amount"]["value"]) for r in refunds if r["refundStatus"] != "FAILED"), Decimal(0)
            )
            if amount + refunded > Decimal(order["pricingSummary"]["total"]["value"]):
                return _error(400, 32610, "The refund amount exceeds the order total")
            refund = {
                "refundId": f"R-{self.next_id()}",
                "refundStatus": "PENDING",
                "amount": {"value": str(amount), "currency": currency},
                "refundDate": iso(datetime.now(UTC)),
                "refundReferenceId": secrets.token_hex(6),
            }
            refunds.append(refund)
            order["lastModifiedDate"] = iso(datetime.now(UTC))
        return json_response({"refundId": refund["refundId"], "refundStatus": "PENDING"})

    def _ship(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "Bearer")
        if denied:
            return denied
        body = request.json()
        if not body.get("lineItems") or not body.get("trackingNumber") or not body.get("shippingCarrierCode"):
            return _error(400, 32100, "lineItems, trackingNumber and shippingCarrierCode are required")
        fulfillment_id = secrets.token_hex(8)
        with self.lock:
            order = self.orders.get(request.params["id"])
            if order is None:
                return _error(404, 32100, "Order not found")
            order["orderFulfillmentStatus"] = "FULFILLED"
            order["lastModifiedDate"] = iso(datetime.now(UTC))
        location = f"/sell/fulfillment/v1/order/{request.params['id']}/shipping_fulfillment/{fulfillment_id}"
        return FakeResponse(status=201, body=b"", headers={"Location": location})

    # post-order ---------------------------------------------------------------------------------
    def _collection(self, path: str) -> tuple[dict[str, dict[str, Any]], str]:
        if "/return" in path:
            return self.returns, "creation_date_range"
        if "/inquiry" in path:
            return self.inquiries, "inquiry_creation_date_range"
        return self.cases, "case_creation_date_range"

    def _search(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "IAF")
        if denied:
            return denied
        collection, prefix = self._collection(request.path)
        try:
            limit = int(request.arg("limit") or 25)
            page = int(request.arg("offset") or 1)
        except ValueError:
            return _error(400, 1700, "Invalid limit or offset")
        if limit < 1 or page < 1:
            return _error(400, 1700, "Invalid limit or offset")
        start, end = _when(request.arg(f"{prefix}_from") or ""), _when(request.arg(f"{prefix}_to") or "")
        selected: Callable[[Mapping[str, Any]], bool] | None = None
        if collection is self.returns:
            return_state = request.arg("return_state") or "ALL_OPEN"
            if return_state in RETURN_STATE_UNSUPPORTED:
                return _error(400, 1700, f"return_state {return_state} is not supported")
            if return_state not in RETURN_STATE_FILTERS:
                return _error(400, 1700, f"Invalid return_state {return_state!r} (ReturnCountFilterEnum)")
            selected = RETURN_STATE_FILTERS[return_state]
        with self.lock:
            items = [i for i in collection.values() if selected is None or selected(i)]

        def created(item: Mapping[str, Any]) -> datetime | None:
            if collection is self.returns:
                return _when(_dig(item, "creationInfo", "creationDate", "value"))
            return _when(_dig(item, "creationDate", "value"))

        kept = []
        for item in items:
            when = created(item)
            if when is None or (start and when < start) or (end and when > end):
                continue
            kept.append(item)
        kept.sort(key=lambda i: created(i) or datetime.min.replace(tzinfo=UTC))
        total_pages = max(1, -(-len(kept) // limit))
        members = kept[(page - 1) * limit : page * limit]
        return json_response(
            {
                "members": members,
                "paginationOutput": {
                    "limit": limit,
                    "offset": page,
                    "totalEntries": len(kept),
                    "totalPages": total_pages,
                },
                "totalNumberOfCases" if collection is self.cases else "total": len(kept),
            }
        )

    def _get_post_order(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "IAF")
        if denied:
            return denied
        collection, _ = self._collection(request.path)
        with self.lock:
            item = collection.get(request.params["id"])
        if item is None:
            return _error(404, 1702, "not found")
        if collection is self.returns:
            with self.lock:
                detail = dict(self.return_details.get(request.params["id"], {}))
            return json_response({"summary": item, "detail": detail} if detail else {"summary": item})
        return json_response(item)

    def _get_shipping_label(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "IAF")
        if denied:
            return denied
        with self.lock:
            label = self.return_labels.get(request.params["id"])
        if label is None:
            return _error(400, 1617, "Shipping label does not exist for the return request.")
        return json_response(label)

    def _return_action(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "IAF") or self._signature(request)
        if denied:
            return denied
        action = request.params["action"]
        body = request.json() or {}
        with self.lock:
            item = self.returns.get(request.params["id"])
            if item is None:
                return _error(404, 1702, "The return id is invalid")
            if item.get("state") == "CLOSED":
                return _error(400, 1706, "The return is closed")
            if action == "decide":
                decision = body.get("decision")
                if decision not in SELLER_DECISIONS:
                    return _error(400, 1711, f"Invalid decision {decision!r}")
                if decision == "OFFER_PARTIAL_REFUND":
                    amount = body.get("partialRefundAmount") or {}
                    if not amount.get("value") or not amount.get("currency"):
                        return _error(400, 1712, "partialRefundAmount is required")
                if decision == "PROVIDE_RMA" and not body.get("RMANumber"):
                    return _error(400, 1713, "RMANumber is required")
                if decision in DECISION_STATES:
                    item["state"] = DECISION_STATES[decision]
                if body.get("RMANumber"):
                    item["RMANumber"] = body["RMANumber"]
                return json_response({})
            if action == "file/upload":
                if not body.get("data") or body.get("filePurpose") not in {"LABEL_RELATED", "ITEM_RELATED"}:
                    return _error(400, 1720, "data and filePurpose are required")
                try:
                    content = base64.b64decode(body["data"], validate=True)
                except ValueError:
                    return _error(400, 1720, "data is not base64")
                file_id = self.next_id()
                self.files[file_id] = {"return": request.params["id"], "name": body.get("fileName"), "bytes": content}
                return json_response({"fileId": file_id})
            if action == "file/submit":
                return json_response({})
            if action == "add_shipping_label":
                if not body.get("trackingNumber"):
                    return _error(400, 1721, "trackingNumber is required")
                item["state"] = "READY_FOR_SHIPPING"
                return json_response({})
            if action == "mark_as_received":
                item["state"] = "ITEM_DELIVERED"
                return json_response({})
            if action == "issue_refund":
                total = _dig(body, "refundDetail", "totalAmount") or {}
                if not total.get("value") or not total.get("currency"):
                    return _error(400, 1740, "refundDetail.totalAmount is required")
                if not _dig(body, "refundDetail", "itemizedRefundDetail"):
                    return _error(400, 1740, "refundDetail.itemizedRefundDetail is required")
                item["state"] = "REFUND_ISSUED"
                order = self.orders.get(str(item.get("orderId")))
                if order is not None:  # eBay lists the return's refund on the order too
                    order.setdefault("paymentSummary", {}).setdefault("refunds", []).append(
                        {
                            "refundId": f"R-{self.next_id()}",
                            "refundStatus": "REFUNDED",
                            "amount": {"value": str(Decimal(str(total["value"]))), "currency": total["currency"]},
                            "refundDate": iso(datetime.now(UTC)),
                        }
                    )
                return json_response({"refundStatus": "SUCCESS"})
        return _error(404, 1700, f"no return action {action}")

    def _dispute_action(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "IAF") or self._signature(request)
        if denied:
            return denied
        collection, _ = self._collection(request.path)
        status_field = "inquiryStatusEnum" if collection is self.inquiries else "caseStatusEnum"
        action = request.params["action"]
        body = request.json() or {}
        with self.lock:
            item = collection.get(request.params["id"])
            if item is None:
                return _error(404, 1702, "not found")
            if action == "issue_refund":
                item[status_field] = "CLOSED"
                return json_response({"refundResult": {"refundStatus": "SUCCESS"}})
            if action == "provide_shipment_info":
                if not body.get("trackingNumber") or not body.get("shippingCarrierName"):
                    return _error(400, 1730, "shippingCarrierName and trackingNumber are required")
                item[status_field] = "WAITING_BUYER_RESPONSE"
                return json_response({})
            if action == "appeal" and collection is self.cases:
                if not _dig(body, "comments", "content"):
                    return _error(400, 1731, "comments are required")
                return json_response({})
        return _error(404, 1700, f"no action {action}")

    # messages -----------------------------------------------------------------------------------
    def _media(self, request: FakeRequest) -> FakeResponse:
        if "authorization" in request.headers:  # public media: a client must not send its token here
            return _error(400, 1, "unexpected Authorization header on a media URL")
        with self.lock:
            found = self.media.get(request.params["name"])
        if found is None:
            return _error(404, 1, "no such media")
        return FakeResponse(status=200, body=found[0], headers={"Content-Type": found[1]})

    def _create_image(self, request: FakeRequest) -> FakeResponse:
        """Media API createImageFromFile: multipart/form-data with one part named "image" in a
        picture format EPS takes; 201 with the getImage URI in Location and the EPS URL in the body."""
        denied = self._authorized(request, "Bearer")
        if denied:
            return denied
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return _error(400, 190001, "Content-Type must be multipart/form-data")
        form = BytesParser(policy=email_policy).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.body
        )
        part = next(
            (p for p in form.iter_parts() if p.get_param("name", header="content-disposition") == "image"), None
        )
        data = part.get_payload(decode=True) if part is not None else None
        if not isinstance(data, bytes) or not data:
            return _error(400, 190002, "the form has no image")
        kind = filetype.guess_mime(data) or ""
        if kind not in EPS_FORMATS:
            return _error(400, 190003, f"unsupported image format {kind or 'unknown'}")
        image_id = f"v1|{self.next_id()}|0"
        name = f"eps-{len(self.images) + 1}-{part.get_filename() or 'image'}"  # type: ignore[union-attr]
        url = self.add_media(name, data, kind)
        expires = iso(datetime.now(UTC) + timedelta(days=30))
        with self.lock:
            self.images[image_id] = {"imageUrl": url, "expirationDate": expires}
        location = f"{self.url}/commerce/media/v1_beta/image/{quote(image_id, safe='')}"
        return json_response({"imageUrl": url, "expirationDate": expires}, 201, Location=location)

    def _get_image(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "Bearer")
        if denied:
            return denied
        with self.lock:
            found = self.images.get(unquote(request.params["id"]))
        if found is None:
            return _error(404, 190004, "image not found")
        return json_response(dict(found))

    def _get_conversations(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "Bearer")
        if denied:
            return denied
        if request.arg("conversation_type") not in {"FROM_MEMBERS", "FROM_EBAY"}:
            return _error(400, 355001, "conversation_type is required")
        paging = self._page_args(request, 25)
        if isinstance(paging, FakeResponse):
            return paging
        limit, offset = paging
        start, end = _when(request.arg("start_time") or ""), _when(request.arg("end_time") or "")
        with self.lock:
            conversations = []
            for conversation in self.conversations.values():
                messages = conversation["messages"]
                latest = messages[-1] if messages else {}
                when = _when(latest.get("createdDate")) if isinstance(latest, Mapping) else None
                if when is not None and ((start and when < start) or (end and when > end)):
                    continue
                head = {k: v for k, v in conversation.items() if k != "messages"}
                conversations.append({**head, "latestMessage": latest})
        page = conversations[offset : offset + limit]
        return json_response({"conversations": page, "total": len(conversations), "limit": limit, "offset": offset})

    def _get_conversation(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "Bearer")
        if denied:
            return denied
        paging = self._page_args(request, 25)
        if isinstance(paging, FakeResponse):
            return paging
        limit, offset = paging
        with self.lock:
            conversation = self.conversations.get(request.params["id"])
            if conversation is None:
                return _error(404, 355002, "conversation not found")
            messages = list(conversation["messages"])
            head = {k: v for k, v in conversation.items() if k != "messages"}
        return json_response({**head, "messages": messages[offset : offset + limit], "total": len(messages)})

    def _send_message(self, request: FakeRequest) -> FakeResponse:
        denied = self._authorized(request, "Bearer")
        if denied:
            return denied
        body = request.json() or {}
        text = body.get("messageText")
        if not isinstance(text, str) or not text.strip() or len(text) > 2000:
            return _error(400, 355010, "messageText is required (at most 2000 characters)")
        media = body.get("messageMedia") or []
        if not isinstance(media, list) or len(media) > 5:
            return _error(400, 355012, "messageMedia takes at most 5 media")
        with self.lock:
            hosted = {i["imageUrl"] for i in self.images.values()}
        for item in media:
            if not isinstance(item, dict) or item.get("mediaType") != "IMAGE" or not item.get("mediaName"):
                return _error(400, 355013, "each messageMedia needs mediaName, mediaType IMAGE and mediaUrl")
            if item.get("mediaUrl") not in hosted:  # eBay validates the URL: it must be an EPS image
                return _error(400, 355014, f"mediaUrl {item.get('mediaUrl')} is not an eBay-hosted image")
        created = iso(datetime.now(UTC) + timedelta(milliseconds=1))
        message_id = f"M-{self.next_id()}"
        with self.lock:
            conversation_id = body.get("conversationId")
            if conversation_id:
                conversation = self.conversations.get(conversation_id)
                if conversation is None:
                    return _error(404, 355002, "conversation not found")
                messages = conversation["messages"]
                other = next((m["senderUsername"] for m in messages if m["senderUsername"] != self.seller), "")
            else:
                other = body.get("otherPartyUsername")
                if not other:
                    return _error(400, 355011, "conversationId or otherPartyUsername is required")
                conversation_id = f"C-{self.next_id()}"
                conversation = {
                    "conversationId": conversation_id,
                    "conversationStatus": "ACTIVE",
                    "conversationType": "FROM_MEMBERS",
                    "createdDate": created,
                    "messages": [],
                }
                self.conversations[conversation_id] = conversation
                messages = conversation["messages"]
            messages.append(
                {
                    "messageId": message_id,
                    "messageBody": text,
                    **({"messageMedia": media} if media else {}),
                    "senderUsername": self.seller,
                    "recipientUsername": other,
                    "createdDate": created,
                    "readStatus": False,
                }
            )
        return json_response({"messageId": message_id, "conversationId": conversation_id, "createdDate": created})
