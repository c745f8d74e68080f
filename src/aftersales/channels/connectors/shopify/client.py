"""A thin client for Shopify's Admin GraphQL API: POST /admin/api/<version>/graphql.json with the
store's X-Shopify-Access-Token, query-cost throttling and error classification.

Shopify limits GraphQL by a leaky bucket of cost points per app and store (standard plans: 1,000
points, restored at 50/s; Plus more). Every answer carries `extensions.cost` (requestedQueryCost,
actualQueryCost, throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}). The client
- sends through the engine's PlatformClient, which asks the store's limiter for the cost before
  each call (`ctx.throttle("cost", n)`: the connector declares the bucket as 50 points/s, burst
  1,000; n is the actual cost Shopify reported for the same document last time) and, on THROTTLED or 429,
  empties that bucket for the wait so the store's other workers hold back too;
- remembers the last throttleStatus per shop and waits, before a call, until the bucket Shopify
  reported has restored the document's requested cost (Shopify admits a query only when its
  requested cost is available, then refunds the unused part), so a bucket shared with other apps
  is honoured too;
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

from aftersales.channels import http as channels_http
from aftersales.channels.base import AuthError, ConnectorError, RateLimited, StoreContext
from aftersales.channels.http import PlatformClient, parse_retry_after

API_VERSION = "2026-04"
IDEMPOTENT_FROM = "2026-01"  # the first version with refundCreate's @idempotent directive
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
_expected_costs: dict[str, tuple[float, float]] = {}  # document -> (requested, actual)
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


class ShopifyTransport(PlatformClient):
    """The engine's PlatformClient (throttle before each call, retries with backoff honouring
    Retry-After, a 429 empties the store's bucket for every worker) with Shopify's auth header and
    Shopify's errors: THROTTLED arrives in a 200."""

    bucket = COST_BUCKET
    user_agent = USER_AGENT

    def auth_headers(self, ctx: StoreContext) -> dict[str, str]:
        token = ctx.credentials.get("access_token")
        if not token:
            raise AuthError("the store has no Shopify access token (credentials 'access_token')")
        return {"X-Shopify-Access-Token": str(token), "Content-Type": "application/json", "Accept": "application/json"}

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        status = response.status_code
        if status == 429:
            return RateLimited(
                "Shopify answered 429 Too Many Requests",
                retry_after=parse_retry_after(response.headers.get("Retry-After")) or 2.0,
                status=429,
                code="TOO_MANY_REQUESTS",
            )
        if status in (401, 403):
            return AuthError(f"Shopify refused the access token ({status}): {_error_text(response)}", status=status)
        if status >= 500:
            return ConnectorError(f"Shopify answered {status}", status=status)
        if status >= 400:
            # 402: the shop is frozen (unpaid), 404: no such shop or API version, 423: shop locked.
            return ConnectorError(f"Shopify answered {status}: {_error_text(response)}", permanent=True, status=status)
        try:
            payload = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return ConnectorError("Shopify answered with a body that is not JSON", status=status)
        if not isinstance(payload, Mapping):
            return ConnectorError("Shopify answered with JSON that is not an object", status=status)
        errors = payload.get("errors")
        if errors:
            return graphql_error(errors, _cost_of(payload))
        if not isinstance(payload.get("data"), Mapping):
            return ConnectorError("Shopify answered without data", status=status)
        return None


class ShopifyClient:
    """One store's Admin API. `sleep` and `monotonic` are injectable; `max_attempts` goes to the
    transport (1: no retry)."""

    def __init__(
        self,
        ctx: StoreContext,
        *,
        sleep: Callable[[float], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        api_version: str | None = None,
        max_attempts: int | None = None,
        refresh: Callable[[StoreContext], StoreContext] | None = None,
    ) -> None:
        self.ctx = ctx
        self._refresh = refresh  # renews an expiring access token (oauth.refresh) after a 401
        # The store's "api_version" credential overrides the version this connector targets.
        self.api_version = api_version or str(ctx.credentials.get("api_version") or "") or API_VERSION
        self.path = f"/admin/api/{self.api_version}/graphql.json"
        self.transport = ShopifyTransport(ctx, base_url=base_url(ctx), max_attempts=max_attempts, sleep=sleep)
        self._sleep = sleep
        self._monotonic = monotonic
        self._bucket_key = f"{ctx.store_id}:{self.transport.base_url}"
        self.last_cost: Mapping[str, Any] = {}

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> ShopifyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- throttling ------------------------------------------------------------------------------
    def _expected_cost(self, document: str) -> float:
        """Before a call: wait (briefly, in this process) until the bucket Shopify last reported
        holds the document's requested cost (Shopify admits a query only then), and return what
        the call will actually take from the bucket (Shopify refunds requested - actual), which
        is what the engine's limiter is charged."""
        requested, actual = _expected_costs.get(document, (DEFAULT_EXPECTED_COST, DEFAULT_EXPECTED_COST))
        with _state_lock:
            bucket = _buckets.get(self._bucket_key)
            wait = bucket.wait_for(requested, self._monotonic()) if bucket else 0.0
        if wait > MAX_INLINE_WAIT:
            raise RateLimited(
                f"Shopify's cost bucket needs {wait:.1f}s to restore {requested:.0f} points",
                retry_after=math.ceil(wait * 10) / 10,
                code="THROTTLED",
            )
        if wait > 0:
            (self._sleep or channels_http.wait_seconds)(wait)
        return actual

    def _observe_cost(self, document: str, cost: Any) -> None:
        if not isinstance(cost, Mapping):
            return
        self.last_cost = cost
        status = cost.get("throttleStatus")
        requested = cost.get("requestedQueryCost")
        actual = cost.get("actualQueryCost")
        with _state_lock:
            if isinstance(requested, int | float):
                spent = actual if isinstance(actual, int | float) else requested
                _expected_costs[document] = (float(requested), float(spent))
            if isinstance(status, Mapping):
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    _buckets[self._bucket_key] = _Bucket(
                        maximum=float(status["maximumAvailable"]),
                        available=float(status["currentlyAvailable"]),
                        restore_rate=float(status["restoreRate"]),
                        observed_at=self._monotonic(),
                    )

    # -- the call --------------------------------------------------------------------------------
    def execute(
        self, document: str, variables: Mapping[str, Any] | None = None, *, retry: bool = True
    ) -> dict[str, Any]:
        """Run a query or mutation and return its `data`; raises ConnectorError subclasses.
        `retry=False` for a mutation that must not be resent blindly (fulfillmentCreate)."""
        body: dict[str, Any] = {"query": document}
        if variables is not None:
            body["variables"] = dict(variables)
        self.transport.auth_headers(self.ctx)  # no token: fail before waiting for the bucket
        expected = self._expected_cost(document)
        try:
            response = self.transport.post(self.path, json=body, cost=expected, retry=retry)
        except AuthError as exc:
            if exc.status != 401 or self._refresh is None:
                raise
            self.ctx = self._refresh(self.ctx)  # once: a second 401 is the store's to fix
            self.transport.ctx = self.ctx
            self._refresh = None
            response = self.transport.post(self.path, json=body, cost=expected, retry=retry)
        except ConnectorError as exc:
            self._observe_cost(document, getattr(exc, "shopify_cost", None))
            raise
        payload = response.json()
        self._observe_cost(document, _cost_of(payload))
        return dict(payload["data"])

    def mutate(
        self, document: str, variables: Mapping[str, Any], payload_field: str, *, retry: bool = True
    ) -> dict[str, Any]:
        """Run a mutation and return its payload object; userErrors become a permanent
        ConnectorError with Shopify's message (and the error code where it gives one)."""
        data = self.execute(document, variables, retry=retry)
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


def _cost_of(payload: Any) -> Any:
    extensions = payload.get("extensions") if isinstance(payload, Mapping) else None
    return extensions.get("cost") if isinstance(extensions, Mapping) else None


def graphql_error(errors: Any, cost: Any) -> ConnectorError:
    """The error a GraphQL `errors` list stands for (THROTTLED: RateLimited with the computed wait)."""
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
    error: ConnectorError
    if "THROTTLED" in codes:
        error = RateLimited(
            f"Shopify throttled the query: {message}", retry_after=_throttle_wait(cost), code="THROTTLED"
        )
    elif "ACCESS_DENIED" in codes:
        error = AuthError(f"Shopify denied access: {message}", code="ACCESS_DENIED")
    elif "INTERNAL_SERVER_ERROR" in codes or "SERVICE_UNAVAILABLE" in codes:
        error = ConnectorError(f"Shopify failed: {message}", code=codes[0])
    else:
        error = ConnectorError(f"Shopify refused the query: {message}", permanent=True, code=codes[0] if codes else "")
    error.shopify_cost = cost  # type: ignore[attr-defined]
    return error


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
