"""A thin client for Shopify's Admin GraphQL API: POST /admin/api/<version>/graphql.json with the
store's X-Shopify-Access-Token, query-cost throttling and error classification.

Shopify limits GraphQL by a leaky bucket of cost points per app and store (standard plans: 1,000
points, restored at 50/s; Plus more). Every answer carries `extensions.cost` (requestedQueryCost,
actualQueryCost, throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}). The client
- asks the engine's limiter for the cost before each call (`ctx.throttle("cost", n)`: the
  connector declares the bucket as 50 points/s, burst 1,000), using the cost Shopify reported for
  the same document last time;
- remembers the last throttleStatus per shop and waits, before a call, until the bucket Shopify
  reported has restored enough for it (so a bucket shared with other apps is honoured too);
- turns a THROTTLED error into RateLimited with retry_after = (requested - available) / restoreRate,
  and an HTTP 429 into RateLimited with its Retry-After.

API version: 2026-04 (refundCreate requires the `@idempotent` directive from that version on).
The published schema we validate against is 2025-01 (see schema.py); the documents we send use
nothing 2026-04 removed."""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from aftersales.channels.base import AuthError, ConnectorError, RateLimited, StoreContext

API_VERSION = "2026-04"
COST_BUCKET = "cost"
DEFAULT_EXPECTED_COST = 50.0
# Beyond this wait the client does not sleep: it raises RateLimited and lets the engine retry later.
MAX_INLINE_WAIT = 2.0
USER_AGENT = "aftersales-shopify/1"


@dataclass
class _Bucket:
    maximum: float
    available: float
    restore_rate: float
    observed_at: float  # monotonic seconds

    def available_at(self, now: float) -> float:
        return min(self.maximum, self.available + max(0.0, now - self.observed_at) * self.restore_rate)

    def wait_for(self, cost: float, now: float) -> float:
        missing = min(cost, self.maximum) - self.available_at(now)
        if missing <= 0 or self.restore_rate <= 0:
            return 0.0
        return missing / self.restore_rate


_buckets: dict[str, _Bucket] = {}
_expected_costs: dict[str, float] = {}
_state_lock = threading.Lock()


def shop_domain(ctx: StoreContext) -> str:
    shop = str(ctx.credentials.get("shop") or ctx.seller_id or "").strip().lower()
    if shop and "." not in shop:
        shop = f"{shop}.myshopify.com"
    return shop


def base_url(ctx: StoreContext) -> str:
    if ctx.base_url:
        return ctx.base_url.rstrip("/")
    shop = shop_domain(ctx)
    if not shop:
        raise ConnectorError("the store has no Shopify shop domain (credentials 'shop')", permanent=True)
    return f"https://{shop}"


def _retry_after(value: str | None, default: float) -> float:
    try:
        seconds = float(value) if value is not None else default
    except ValueError:
        seconds = default
    return max(0.0, seconds)


class ShopifyClient:
    """One store's Admin API. `http` (an httpx.Client), `sleep` and `monotonic` are injectable."""

    def __init__(
        self,
        ctx: StoreContext,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        timeout: float = 30.0,
        api_version: str = API_VERSION,
    ) -> None:
        self.ctx = ctx
        self.api_version = api_version
        self.path = f"/admin/api/{api_version}/graphql.json"
        self.url = base_url(ctx) + self.path
        self._http = http
        self._timeout = timeout
        self._sleep = sleep
        self._monotonic = monotonic
        self._bucket_key = f"{ctx.store_id}:{self.url}"
        self.last_cost: Mapping[str, Any] = {}

    # -- throttling ------------------------------------------------------------------------------
    def _before_call(self, document: str) -> None:
        expected = _expected_costs.get(document, DEFAULT_EXPECTED_COST)
        with _state_lock:
            bucket = _buckets.get(self._bucket_key)
            wait = bucket.wait_for(expected, self._monotonic()) if bucket else 0.0
        if wait > MAX_INLINE_WAIT:
            raise RateLimited(
                f"Shopify's cost bucket needs {wait:.1f}s to restore {expected:.0f} points",
                retry_after=math.ceil(wait * 10) / 10,
                code="THROTTLED",
            )
        if wait > 0:
            self._sleep(wait)
        self.ctx.throttle(COST_BUCKET, expected)

    def _observe_cost(self, document: str, cost: Any) -> None:
        if not isinstance(cost, Mapping):
            return
        self.last_cost = cost
        status = cost.get("throttleStatus")
        requested = cost.get("requestedQueryCost")
        with _state_lock:
            if isinstance(requested, int | float):
                _expected_costs[document] = float(requested)
            if isinstance(status, Mapping):
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    _buckets[self._bucket_key] = _Bucket(
                        maximum=float(status["maximumAvailable"]),
                        available=float(status["currentlyAvailable"]),
                        restore_rate=float(status["restoreRate"]),
                        observed_at=self._monotonic(),
                    )

    # -- the call --------------------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        token = self.ctx.credentials.get("access_token")
        if not token:
            raise AuthError("the store has no Shopify access token (credentials 'access_token')")
        return {
            "X-Shopify-Access-Token": str(token),
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }

    def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run a query or mutation and return its `data`; raises ConnectorError subclasses."""
        headers = self.headers()
        self._before_call(document)
        body: dict[str, Any] = {"query": document}
        if variables is not None:
            body["variables"] = dict(variables)
        try:
            if self._http is not None:
                response = self._http.post(self.url, json=body, headers=headers, timeout=self._timeout)
            else:
                with httpx.Client(timeout=self._timeout) as http:
                    response = http.post(self.url, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise ConnectorError(f"Shopify did not answer in time: {exc.__class__.__name__}") from exc
        except httpx.TransportError as exc:
            raise ConnectorError(f"Shopify could not be reached: {exc.__class__.__name__}") from exc
        return self._handle(document, response)

    def _handle(self, document: str, response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        if status == 429:
            raise RateLimited(
                "Shopify answered 429 Too Many Requests",
                retry_after=_retry_after(response.headers.get("Retry-After"), 2.0),
                status=429,
                code="TOO_MANY_REQUESTS",
            )
        if status in (401, 403):
            raise AuthError(f"Shopify refused the access token ({status}): {_error_text(response)}", status=status)
        if status in (402, 404, 423):
            # 402: the shop is frozen (unpaid), 404: no such shop or API version, 423: shop locked.
            raise ConnectorError(f"Shopify answered {status}: {_error_text(response)}", permanent=True, status=status)
        if status >= 500:
            raise ConnectorError(f"Shopify answered {status}", status=status)
        if status >= 400:
            raise ConnectorError(f"Shopify answered {status}: {_error_text(response)}", permanent=True, status=status)
        try:
            payload = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ConnectorError("Shopify answered with a body that is not JSON", status=status) from None
        if not isinstance(payload, Mapping):
            raise ConnectorError("Shopify answered with JSON that is not an object", status=status)
        cost = (payload.get("extensions") or {}).get("cost") if isinstance(payload.get("extensions"), Mapping) else None
        self._observe_cost(document, cost)
        errors = payload.get("errors")
        if errors:
            raise self._graphql_error(errors, cost)
        data = payload.get("data")
        if not isinstance(data, Mapping):
            raise ConnectorError("Shopify answered without data", status=status)
        return dict(data)

    def _graphql_error(self, errors: Any, cost: Any) -> ConnectorError:
        items = errors if isinstance(errors, list) else [errors]
        codes = []
        messages = []
        for item in items:
            if isinstance(item, Mapping):
                messages.append(str(item.get("message", "")))
                extensions = item.get("extensions")
                if isinstance(extensions, Mapping) and extensions.get("code"):
                    codes.append(str(extensions["code"]))
            else:
                messages.append(str(item))
        message = "; ".join(m for m in messages if m) or "Shopify answered with errors"
        if "THROTTLED" in codes:
            return RateLimited(
                f"Shopify throttled the query: {message}", retry_after=_throttle_wait(cost), code="THROTTLED"
            )
        if "ACCESS_DENIED" in codes:
            return AuthError(f"Shopify denied access: {message}", code="ACCESS_DENIED")
        if "INTERNAL_SERVER_ERROR" in codes or "SERVICE_UNAVAILABLE" in codes:
            return ConnectorError(f"Shopify failed: {message}", code=codes[0])
        return ConnectorError(f"Shopify refused the query: {message}", permanent=True, code=codes[0] if codes else "")

    def mutate(self, document: str, variables: Mapping[str, Any], payload_field: str) -> dict[str, Any]:
        """Run a mutation and return its payload object; userErrors become a permanent
        ConnectorError with Shopify's message (and the error code where it gives one)."""
        data = self.execute(document, variables)
        payload = data.get(payload_field)
        if not isinstance(payload, Mapping):
            raise ConnectorError(f"Shopify answered {payload_field} without a payload")
        user_errors = payload.get("userErrors") or []
        if user_errors:
            parts = []
            code = ""
            for error in user_errors:
                if not isinstance(error, Mapping):
                    continue
                field = ".".join(str(f) for f in error.get("field") or [])
                parts.append(f"{field}: {error.get('message')}" if field else str(error.get("message")))
                code = code or str(error.get("code") or "")
            raise ConnectorError(f"Shopify refused {payload_field}: {'; '.join(parts)}", permanent=True, code=code)
        return dict(payload)


def _throttle_wait(cost: Any) -> float:
    """Seconds until the bucket holds the requested cost again (at least 1 s when unknown)."""
    if isinstance(cost, Mapping):
        status = cost.get("throttleStatus")
        requested = cost.get("requestedQueryCost")
        if isinstance(status, Mapping) and isinstance(requested, int | float):
            try:
                available = float(status["currentlyAvailable"])
                rate = float(status["restoreRate"])
            except (KeyError, TypeError, ValueError):
                return 1.0
            if rate > 0:
                return max(0.1, math.ceil((float(requested) - available) / rate * 10) / 10)
    return 1.0


def _error_text(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:200]
    if isinstance(payload, Mapping) and payload.get("errors"):
        errors = payload["errors"]
        if isinstance(errors, list):
            return "; ".join(str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors)
        return str(errors)[:200]
    return str(payload)[:200]


def reset_throttle_state() -> None:
    """Forget every remembered bucket and cost (tests)."""
    with _state_lock:
        _buckets.clear()
        _expected_costs.clear()
