"""A thin httpx client for the TikTok Shop Partner API (version 202309) on the engine's
PlatformClient.

Every shop call carries the query parameters app_key, timestamp, shop_cipher and sign, and the
access token in the `x-tts-access-token` header (never in the query). `sign` is the lower-case hex
HMAC-SHA256, keyed with the app secret, of: app secret + API path + every query parameter except
sign and access_token, sorted by name, as name+value + the raw JSON body (when there is one) + app
secret. Access tokens are renewed at auth.tiktok-shops.com/api/v2/token/refresh (app_key,
app_secret, refresh_token, grant_type=refresh_token); the answer's expiry is an epoch time. A call
refused for an expired token refreshes once and is sent again; a second refusal, or a refused
refresh, is an AuthError with TikTok's own message (the engine pauses the store with it).

TikTok answers {"code": 0, "message": "Success", "request_id": ..., "data": {...}}; any other
code is an error, sometimes with HTTP 200: `classify` reads both. Credentials (Store.credentials,
never logged):
  app_key, app_secret            the app's key and secret (Partner Center > App & Service)
  shop_cipher                    the authorised shop's cipher (Get Authorized Shops)
  refresh_token                  from the shop's authorisation (token/get), renewed at each refresh
  access_token, access_token_expires_at   the current token (written by this client)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from aftersales.channels.base import AuthError, ConnectorError, RateLimited, StoreContext
from aftersales.channels.http import PlatformClient, parse_retry_after
from aftersales.channels.tokens import RefreshingTokens

from .regions import API_HOST, AUTH_HOST

REFRESH_PATH = "/api/v2/token/refresh"
SHOPS_PATH = "/authorization/202309/shops"
DEFAULT_TOKEN_SECONDS = 7 * 24 * 3600

# TikTok's error codes ("code" in the body) by what the engine should do. Codes not listed: a 5xx
# is transient, anything else permanent with TikTok's message (docs/connectors/tiktok.md: sources).
EXPIRED_TOKEN_CODES = frozenset({105002})
AUTH_CODES = EXPIRED_TOKEN_CODES | frozenset({105000, 105001, 105003, 105005, 106001, 106002, 106011})
RATE_CODES = frozenset({36009004})
TRANSIENT_CODES = frozenset({36009002, 36009003})


def sign(app_secret: str, path: str, params: Mapping[str, Any], body: bytes = b"") -> str:
    """TikTok Shop's request signature (see the module's docstring)."""
    pairs = "".join(f"{k}{params[k]}" for k in sorted(params) if k not in ("sign", "access_token"))
    base = app_secret.encode() + path.encode() + pairs.encode() + body + app_secret.encode()
    return hmac.new(app_secret.encode(), base, hashlib.sha256).hexdigest()


def _body(response: httpx.Response) -> Mapping[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, Mapping) else {}


def _code(data: Mapping[str, Any]) -> int | None:
    code = data.get("code")
    if isinstance(code, bool):
        return None
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


class TikTokClient(RefreshingTokens, PlatformClient):
    """One shop's TikTok Shop session. `clock` (epoch seconds) is injectable so tests sign and
    expire tokens deterministically."""

    bucket = "tiktok"
    platform_name = "TikTok Shop"

    def __init__(self, ctx: StoreContext, *, clock: Callable[[], float] = time.time, **options: Any) -> None:
        super().__init__(ctx, **options)  # transport, sleep, max_attempts, backoff (tests)
        self.credentials: dict[str, Any] = dict(ctx.credentials)
        self.clock = clock

    def __enter__(self) -> TikTokClient:
        return self

    # -- endpoint and identity ---------------------------------------------------------------------
    def base(self) -> str:
        return (self.ctx.base_url or "").rstrip("/") or API_HOST

    def auth_base(self) -> str:
        return (self.ctx.base_url or "").rstrip("/") or AUTH_HOST

    def _require(self, *names: str) -> dict[str, str]:
        values = {n: str(self.credentials.get(n) or "").strip() for n in names}
        missing = [n for n, v in values.items() if not v]
        if missing:
            raise AuthError(f"TikTok Shop credentials are missing {', '.join(missing)}", code="credentials")
        return values

    def signed_params(self, path: str, params: Mapping[str, Any], body: bytes, *, shop: bool = True) -> dict[str, Any]:
        """The query of a call to `path`: its own parameters, the common ones and `sign`."""
        names = ("app_key", "app_secret", "shop_cipher") if shop else ("app_key", "app_secret")
        creds = self._require(*names)
        query: dict[str, Any] = {**params, "app_key": creds["app_key"], "timestamp": int(self.clock())}
        if shop:
            query["shop_cipher"] = creds["shop_cipher"]
        query["sign"] = sign(creds["app_secret"], path, {k: str(v) for k, v in query.items()}, body)
        return query

    # -- errors --------------------------------------------------------------------------------------
    def classify(self, response: httpx.Response) -> ConnectorError | None:
        data = _body(response)
        code = _code(data)
        status = response.status_code
        if not code and status < 400:
            return None
        message = self.error_text(response) or f"HTTP {status}"
        text_code = str(code or "")
        if status == 429 or code in RATE_CODES:
            return RateLimited(
                message,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                status=status,
                code=text_code,
            )
        if code in AUTH_CODES or (status in (401, 403) and code not in TRANSIENT_CODES):
            return AuthError(message, status=status, code=text_code)
        if status >= 500 or status in (408, 425) or code in TRANSIENT_CODES:
            return ConnectorError(message, status=status, code=text_code)
        return ConnectorError(message, permanent=True, status=status, code=text_code)

    def error_text(self, response: httpx.Response) -> str:
        data = _body(response)
        if not data:
            return response.text[:300].strip()
        code, message = _code(data), str(data.get("message") or "")
        if code and message:
            return f"{message} ({code})"[:1000]
        return (message or str(code or ""))[:1000]

    def error_code(self, response: httpx.Response) -> str:
        return str(_code(_body(response)) or "")

    # -- tokens --------------------------------------------------------------------------------------
    def fetch_tokens(self, refresh_token: str) -> dict[str, Any]:
        creds = self._require("app_key", "app_secret")
        try:
            response = self.request(
                "GET",
                self.auth_base() + REFRESH_PATH,
                bucket="tiktok:auth",
                retry=False,
                params={
                    "app_key": creds["app_key"],
                    "app_secret": creds["app_secret"],
                    "refresh_token": refresh_token,
                    "grant_type": "refresh_token",
                },
            )
        except ConnectorError as exc:
            if exc.permanent or isinstance(exc, AuthError):
                raise AuthError(
                    f"TikTok Shop refused the token refresh: {exc}", status=exc.status, code=exc.code
                ) from exc
            raise
        data = _body(response).get("data")
        data = data if isinstance(data, Mapping) else {}
        token, refresh = data.get("access_token"), data.get("refresh_token")
        if not isinstance(token, str) or not token:
            raise ConnectorError("TikTok Shop answered the token refresh without an access_token")
        expires = data.get("access_token_expire_in")
        try:
            at = datetime.fromtimestamp(int(expires), tz=UTC) if expires else None
        except (TypeError, ValueError, OverflowError, OSError):
            at = None
        at = at or (self._now() + timedelta(seconds=DEFAULT_TOKEN_SECONDS))
        updates: dict[str, Any] = {"access_token": token, "access_token_expires_at": at.isoformat()}
        if isinstance(refresh, str) and refresh:
            updates["refresh_token"] = refresh
        return updates

    # -- calls ---------------------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        bucket: str = "tiktok",
        idempotent: bool = True,
        shop: bool = True,
    ) -> Mapping[str, Any]:
        """One call; returns the answer's "data" object. A token TikTok calls expired is refreshed
        once; the second refusal is final."""
        refreshed = False
        content = b"" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        while True:
            token = self.access_token()
            try:
                response = self.request(
                    method,
                    self.base() + path,
                    bucket=bucket,
                    idempotent=idempotent,
                    params=self.signed_params(path, params or {}, content, shop=shop),
                    content=content if body is not None else None,
                    headers={"x-tts-access-token": token, "Content-Type": "application/json"},
                )
            except AuthError as exc:
                if str(exc.code) in {str(c) for c in EXPIRED_TOKEN_CODES} and not refreshed:
                    refreshed = True
                    self.refresh_access_token(stale=token)
                    continue
                raise AuthError(
                    f"TikTok Shop refused the credentials: {exc}", status=exc.status, code=exc.code
                ) from exc
            answer = _body(response)
            if not answer and response.content:
                raise ConnectorError(f"TikTok Shop answered malformed JSON to {method} {path}")
            data = answer.get("data")
            if data is None:
                return {}
            if not isinstance(data, Mapping):
                raise ConnectorError(f"TikTok Shop answered {method} {path} without a data object")
            return data
