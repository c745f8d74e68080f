"""A thin httpx client for Shopee Open Platform v2 on the engine's PlatformClient.

Every call carries the common query parameters partner_id, timestamp and sign; shop-level calls add
access_token and shop_id. `sign` is the lower-case hex HMAC-SHA256, keyed with the partner key, of
partner_id + API path + timestamp (+ access_token + shop_id for shop-level calls). Access tokens
live about four hours; /api/v2/auth/access_token/get exchanges the refresh token for a new pair
(the refresh token rotates: the new one is saved at once, encrypted). A call refused for an invalid
or expired token refreshes once and is sent again; a second refusal, or a refused refresh, is an
AuthError with Shopee's own message (the engine pauses the store with it).

Shopee reports errors in the body ({"error": "<code>", "message": "...", "request_id": ...}),
sometimes with HTTP 200: `classify` reads both. Credentials (Store.credentials, never logged):
  partner_id, partner_key        the app's id and key (Shopee Open Platform console)
  shop_id                        the authorised shop
  refresh_token                  from the shop's authorisation (auth/token/get), rotating
  access_token, access_token_expires_at   the current token (written by this client)
  push_key                       the key Shopee signs pushes with, when it is not the partner key
  push_url                       the callback URL registered with Shopee (pushes are signed over it)
  environment                    "live" (default) or "test" (partner.test-stable.shopeemobile.com)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import httpx

from aftersales.channels.base import AuthError, ConnectorError, RateLimited, StoreContext
from aftersales.channels.http import PlatformClient, parse_retry_after
from aftersales.channels.tokens import RefreshingTokens

from .sites import TEST_HOST, host_for

TOKEN_PATH = "/api/v2/auth/access_token/get"  # noqa: S105 (a path, not a secret)
DEFAULT_TOKEN_SECONDS = 4 * 3600

# Shopee's error codes ("error" in the body) by what the engine should do. Codes not listed: a
# 5xx is transient, anything else permanent with Shopee's message.
TOKEN_ERRORS = frozenset({"invalid_access_token", "invalid_acceess_token", "error_auth", "error_token"})
AUTH_ERRORS = TOKEN_ERRORS | frozenset(
    {"error_sign", "error_permission", "error_partner", "error_shop", "error_invalid_shop", "error_param_shop_id"}
)
RATE_ERRORS = frozenset({"error_too_many_request", "error_rate_limit", "error_busi_rate_limit", "too_many_request"})
TRANSIENT_ERRORS = frozenset({"error_server", "error_inner", "error_system_busy", "error_network", "error_timeout"})


def sign(partner_key: str, *parts: object) -> str:
    """Shopee's request signature: HMAC-SHA256 (partner key) of the parts concatenated, hex."""
    base = "".join(str(p) for p in parts)
    return hmac.new(partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()


def _body(response: httpx.Response) -> Mapping[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, Mapping) else {}


class ShopeeClient(RefreshingTokens, PlatformClient):
    """One shop's Shopee session. `clock` (epoch seconds) is injectable so tests sign and expire
    tokens deterministically; `sleep` records retry waits."""

    bucket = "shopee"
    platform_name = "Shopee"

    def __init__(self, ctx: StoreContext, *, clock: Callable[[], float] = time.time, **options: Any) -> None:
        super().__init__(ctx, **options)  # transport, sleep, max_attempts, backoff (tests)
        self.credentials: dict[str, Any] = dict(ctx.credentials)
        self.clock = clock

    def __enter__(self) -> ShopeeClient:
        return self

    # -- endpoint and identity ---------------------------------------------------------------------
    def base(self) -> str:
        base = (self.ctx.base_url or "").rstrip("/")
        if base:
            return base
        return TEST_HOST if self.credentials.get("environment") == "test" else host_for(self.ctx.site)

    def _require(self, *names: str) -> None:
        missing = [n for n in names if not str(self.credentials.get(n) or "").strip()]
        if missing:
            raise AuthError(f"Shopee credentials are missing {', '.join(missing)}", code="credentials")

    @property
    def partner_id(self) -> int:
        self._require("partner_id", "partner_key")
        try:
            return int(str(self.credentials["partner_id"]).strip())
        except ValueError as exc:
            raise AuthError("Shopee partner_id must be a number", code="credentials") from exc

    @property
    def shop_id(self) -> int:
        self._require("shop_id")
        try:
            return int(str(self.credentials["shop_id"]).strip())
        except ValueError as exc:
            raise AuthError("Shopee shop_id must be a number", code="credentials") from exc

    def signed_params(self, path: str, *, shop: bool, token: str = "") -> dict[str, Any]:
        """The common query parameters of a call to `path` (public or shop-level)."""
        partner_id = self.partner_id
        timestamp = int(self.clock())
        key = str(self.credentials["partner_key"])
        if not shop:
            return {"partner_id": partner_id, "timestamp": timestamp, "sign": sign(key, partner_id, path, timestamp)}
        shop_id = self.shop_id
        return {
            "partner_id": partner_id,
            "timestamp": timestamp,
            "access_token": token,
            "shop_id": shop_id,
            "sign": sign(key, partner_id, path, timestamp, token, shop_id),
        }

    # -- errors --------------------------------------------------------------------------------------
    def classify(self, response: httpx.Response) -> ConnectorError | None:
        data = _body(response)
        code = str(data.get("error") or "")
        status = response.status_code
        if not code and status < 400:
            return None
        message = self.error_text(response) or code or f"HTTP {status}"
        if status == 429 or code in RATE_ERRORS:
            return RateLimited(
                message, retry_after=parse_retry_after(response.headers.get("Retry-After")), status=status, code=code
            )
        if code in AUTH_ERRORS or (status in (401, 403) and code not in TRANSIENT_ERRORS):
            return AuthError(message, status=status, code=code)
        if status >= 500 or status in (408, 425) or code in TRANSIENT_ERRORS:
            return ConnectorError(message, status=status, code=code)
        return ConnectorError(message, permanent=True, status=status, code=code)

    def error_text(self, response: httpx.Response) -> str:
        data = _body(response)
        if not data:
            return response.text[:300].strip()
        code, message = str(data.get("error") or ""), str(data.get("message") or data.get("msg") or "")
        if code and message:
            return f"{message} ({code})"[:1000]
        return (message or code)[:1000]

    def error_code(self, response: httpx.Response) -> str:
        return str(_body(response).get("error") or "")

    # -- tokens (channels.tokens.RefreshingTokens: renewal under the store's row lock) -------------
    def fetch_tokens(self, refresh_token: str) -> dict[str, Any]:
        """/api/v2/auth/access_token/get: a new access token and the rotated refresh token."""
        try:
            response = self.request(
                "POST",
                self.base() + TOKEN_PATH,
                bucket="shopee:auth",
                retry=False,
                params=self.signed_params(TOKEN_PATH, shop=False),
                json={"refresh_token": refresh_token, "partner_id": self.partner_id, "shop_id": self.shop_id},
            )
        except ConnectorError as exc:
            if exc.permanent or isinstance(exc, AuthError):
                raise AuthError(f"Shopee refused the token refresh: {exc}", status=exc.status, code=exc.code) from exc
            raise
        data = _body(response)
        token, refresh = data.get("access_token"), data.get("refresh_token")
        if not isinstance(token, str) or not token or not isinstance(refresh, str) or not refresh:
            raise ConnectorError("Shopee answered the token refresh without access_token and refresh_token")
        try:
            seconds = int(data.get("expire_in") or DEFAULT_TOKEN_SECONDS)
        except (TypeError, ValueError):
            seconds = DEFAULT_TOKEN_SECONDS
        return {
            "access_token": token,
            "refresh_token": refresh,
            "access_token_expires_at": (self._now() + timedelta(seconds=seconds)).isoformat(),
        }

    # -- calls ---------------------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        bucket: str = "shopee",
        idempotent: bool = True,
    ) -> Mapping[str, Any]:
        """One shop-level call; returns the parsed body (its "response" object is the payload). A
        token Shopee calls invalid or expired is refreshed once; the second refusal is final."""
        refreshed = False
        while True:
            token = self.access_token()
            query = {**(params or {}), **self.signed_params(path, shop=True, token=token)}
            content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
            try:
                response = self.request(
                    method,
                    self.base() + path,
                    bucket=bucket,
                    idempotent=idempotent,
                    params=query,
                    content=content,
                    headers={"Content-Type": "application/json"} if content is not None else None,
                )
            except AuthError as exc:
                if exc.code in TOKEN_ERRORS and not refreshed:
                    refreshed = True
                    self.refresh_access_token(stale=token)
                    continue
                raise AuthError(f"Shopee refused the credentials: {exc}", status=exc.status, code=exc.code) from exc
            data = _body(response)
            if not data and response.content:
                raise ConnectorError(f"Shopee answered malformed JSON to {method} {path}")
            return data


def response_of(data: Mapping[str, Any], what: str) -> Mapping[str, Any]:
    """The "response" object of a Shopee answer, or a transient error naming the call."""
    payload = data.get("response")
    if not isinstance(payload, Mapping):
        raise ConnectorError(f"Shopee {what} answered without a response object")
    return payload
