"""A thin httpx client for the AliExpress Open Platform (api-sg.aliexpress.com) on the engine's
PlatformClient. The vendor SDK (iop) is not used: it writes log files when imported.

System calls go to POST /sync with the API name in `method`; every call carries app_key,
timestamp (epoch milliseconds), sign_method=sha256, access_token (shop calls) and `sign`:
upper-case hex HMAC-SHA256, keyed with the app secret, of the parameters (all but sign) sorted by
name and concatenated as name+value. REST-style calls (/rest/auth/token/refresh) prefix the API
path to that string. Business parameters that are objects are sent JSON-encoded.

Errors come in a 200 as {"error_response": {"type", "code", "msg", "request_id"}}: `classify` reads
them. An access token AliExpress calls invalid or expired is refreshed once (/auth/token/refresh,
saved at once, encrypted) and the call sent again; a second refusal, or a refused refresh, is an
AuthError with AliExpress's own words (the engine pauses the store with them).
Credentials (Store.credentials, never logged):
  app_key, app_secret            the app's key and secret (AliExpress Open Platform console)
  refresh_token                  from the seller's authorisation (auth/token/create)
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
from aftersales.channels.http import PlatformClient, json_object, parse_retry_after
from aftersales.channels.tokens import RefreshingTokens

DEFAULT_BASE_URL = "https://api-sg.aliexpress.com"
SYNC_PATH = "/sync"
REFRESH_PATH = "/auth/token/refresh"
DEFAULT_TOKEN_LIFE = timedelta(hours=24)  # when the refresh answer has no expire_time

TOKEN_ERRORS = frozenset({"IllegalAccessToken", "MissingAccessToken", "AccessTokenExpired"})
AUTH_ERRORS = TOKEN_ERRORS | frozenset(
    {"IncompleteSignature", "InvalidAppKey", "AppKeyNotExist", "InsufficientPermission", "IllegalRefreshToken"}
)
RATE_ERRORS = frozenset({"ApiCallLimit", "AppCallLimit", "SessionCallLimit", "FrequencyLimit"})
TRANSIENT_ERRORS = frozenset({"ServiceUnavailable", "ServiceTimeout", "InternalError", "SystemBusy"})


def sign(app_secret: str, params: Mapping[str, Any], api_path: str = "") -> str:
    """AliExpress's request signature over every parameter but `sign` (REST calls: path first)."""
    base = api_path + "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    return hmac.new(app_secret.encode(), base.encode(), hashlib.sha256).hexdigest().upper()


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Business parameters as AliExpress takes them: objects and lists JSON-encoded, the rest text."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, Mapping | list):
            out[key] = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


def _error_of(data: Mapping[str, Any]) -> Mapping[str, Any]:
    error = data.get("error_response")
    if isinstance(error, Mapping):
        return error
    # REST calls (token refresh) answer {"code": "<not 0>", "message": ...} at the top level.
    if "code" in data and str(data.get("code")) not in ("", "0"):
        return data
    return {}


class AliExpressClient(RefreshingTokens, PlatformClient):
    """One seller's AliExpress session. `clock` (epoch seconds) is injectable for tests."""

    bucket = "aliexpress"
    platform_name = "AliExpress"

    def __init__(self, ctx: StoreContext, *, clock: Callable[[], float] = time.time, **options: Any) -> None:
        super().__init__(ctx, **options)
        self.credentials: dict[str, Any] = dict(ctx.credentials)
        self.clock = clock

    def __enter__(self) -> AliExpressClient:
        return self

    def base(self) -> str:
        return (self.ctx.base_url or "").rstrip("/") or DEFAULT_BASE_URL

    def _secret(self) -> str:
        missing = [n for n in ("app_key", "app_secret") if not str(self.credentials.get(n) or "").strip()]
        if missing:
            raise AuthError(f"AliExpress credentials are missing {', '.join(missing)}", code="credentials")
        return str(self.credentials["app_secret"])

    def signed(self, params: Mapping[str, Any], *, api_path: str = "") -> dict[str, str]:
        secret = self._secret()
        full = {
            **encode_params(params),
            "app_key": str(self.credentials["app_key"]).strip(),
            "timestamp": str(int(self.clock() * 1000)),
            "sign_method": "sha256",
        }
        full["sign"] = sign(secret, full, api_path)
        return full

    # -- errors ------------------------------------------------------------------------------------
    def classify(self, response: httpx.Response) -> ConnectorError | None:
        error = _error_of(json_object(response))
        status = response.status_code
        if not error and status < 400:
            return None
        code = str(error.get("code") or "")
        message = self.error_text(response) or code or f"HTTP {status}"
        if status == 429 or code in RATE_ERRORS:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return RateLimited(message, retry_after=retry_after, status=status, code=code)
        if code in AUTH_ERRORS or status in (401, 403):
            return AuthError(message, status=status, code=code)
        if status >= 500 or code in TRANSIENT_ERRORS or str(error.get("type")) == "ISP":
            return ConnectorError(message, status=status, code=code)
        return ConnectorError(message, permanent=True, status=status, code=code)

    def error_text(self, response: httpx.Response) -> str:
        data = json_object(response)
        if not data:
            return response.text[:300].strip()
        error = _error_of(data)
        code = str(error.get("code") or "")
        message = str(error.get("msg") or error.get("message") or "")
        return (f"{message} ({code})" if code and message else message or code)[:1000]

    def error_code(self, response: httpx.Response) -> str:
        return str(_error_of(json_object(response)).get("code") or "")

    # -- tokens (channels.tokens.RefreshingTokens: renewal under the store's row lock) -------------
    def fetch_tokens(self, refresh_token: str) -> dict[str, Any]:
        """POST /rest/auth/token/refresh: a new access token (and the refresh token answered)."""
        try:
            response = self.request(
                "POST",
                self.base() + "/rest" + REFRESH_PATH,
                bucket="aliexpress:auth",
                retry=False,
                data=self.signed({"refresh_token": refresh_token}, api_path=REFRESH_PATH),
            )
        except ConnectorError as exc:
            if exc.permanent:
                message = f"AliExpress refused the token refresh: {exc}"
                raise AuthError(message, status=exc.status, code=exc.code) from exc
            raise
        data = json_object(response)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise ConnectorError("AliExpress answered the token refresh without an access_token")
        try:
            expires = datetime.fromtimestamp(int(data["expire_time"]) / 1000, tz=UTC)
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            expires = self._now() + DEFAULT_TOKEN_LIFE
        updates = {"access_token": token, "access_token_expires_at": expires.isoformat()}
        if isinstance(data.get("refresh_token"), str) and data["refresh_token"]:
            updates["refresh_token"] = data["refresh_token"]
        return updates

    # -- calls ---------------------------------------------------------------------------------------
    def call(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        bucket: str = "aliexpress",
        idempotent: bool = True,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> Mapping[str, Any]:
        """One /sync call of API `method`; returns its "<method with _>_response" object. An access
        token AliExpress refuses is refreshed once; the second refusal is final. `files` (name ->
        (filename, bytes, content type)) go as multipart file parts, outside the signature, as the
        open platform's SDKs send file parameters."""
        refreshed = False
        while True:
            token = self.access_token()
            form = self.signed({**(params or {}), "method": method, "access_token": token})
            try:
                response = self.request(
                    "POST",
                    self.base() + SYNC_PATH,
                    bucket=bucket,
                    idempotent=idempotent,
                    data=form,
                    files=dict(files) if files else None,
                )
            except AuthError as exc:
                if exc.code in TOKEN_ERRORS and not refreshed:
                    refreshed = True
                    self.refresh_access_token(stale=token)
                    continue
                raise AuthError(f"AliExpress refused the credentials: {exc}", status=exc.status, code=exc.code) from exc
            data = json_object(response)
            payload = data.get(method.replace(".", "_") + "_response")
            if not isinstance(payload, Mapping):
                raise ConnectorError(f"AliExpress answered {method} without a {method.replace('.', '_')}_response")
            return payload


def result_of(payload: Mapping[str, Any], what: str) -> Mapping[str, Any]:
    """The "result" object of a response, or a transient error naming the call."""
    result = payload.get("result")
    if not isinstance(result, Mapping):
        raise ConnectorError(f"AliExpress {what} answered without a result")
    return result
