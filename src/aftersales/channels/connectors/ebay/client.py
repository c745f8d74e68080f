"""A thin httpx client for eBay's REST APIs: OAuth user-token refresh, the two authorization
schemes (Bearer for the Sell/Commerce APIs, `IAF <token>` for Post-Order v2), an application token
(client credentials) for the Notification API's public keys, digital signatures for EU/UK sellers,
throttling through the engine's limiter, and error classification into the contract's errors.

Credentials (Store.credentials, encrypted at rest; never logged):
  client_id, client_secret, refresh_token        OAuth application keys and the seller's grant
  access_token, access_token_expires_at          the current user token (saved after a refresh)
  marketplace_id                                 EBAY_US, EBAY_GB, EBAY_DE... (else from the site)
  signing_key {"private_key": PEM, "jwe": ...}   digital signatures (required for EU/UK sellers)
  eu_uk_seller                                   true/false (default: from the marketplace)
  verification_token, endpoint_url               the Notification API endpoint challenge
  environment                                    "production" (default) or "sandbox"
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx

from aftersales.channels.base import AuthError, ConnectorError, RateLimited, StoreContext
from aftersales.channels.http import PlatformClient

from .signing import SigningKey, load_signing_key, sign_headers

PRODUCTION = {"api": "https://api.ebay.com", "apiz": "https://apiz.ebay.com", "apim": "https://apim.ebay.com"}
SANDBOX = {
    "api": "https://api.sandbox.ebay.com",
    "apiz": "https://apiz.sandbox.ebay.com",
    "apim": "https://apim.sandbox.ebay.com",
}
Host = Literal["api", "apiz", "apim"]
TOKEN_PATH = "/identity/v1/oauth2/token"  # noqa: S105 (a path, not a secret)
APP_SCOPE = "https://api.ebay.com/oauth/api_scope"

# eBay sites (Store.site) -> marketplace ids; the EU/UK ones need digital signatures on refunds
# and return decisions (eBay: "Digital Signatures for APIs", APIs in scope).
SITE_MARKETPLACES = {
    "ebay.com": "EBAY_US",
    "ebay.co.uk": "EBAY_GB",
    "ebay.de": "EBAY_DE",
    "ebay.fr": "EBAY_FR",
    "ebay.it": "EBAY_IT",
    "ebay.es": "EBAY_ES",
    "ebay.at": "EBAY_AT",
    "ebay.be": "EBAY_BE",
    "ebay.nl": "EBAY_NL",
    "ebay.ie": "EBAY_IE",
    "ebay.pl": "EBAY_PL",
    "ebay.ch": "EBAY_CH",
    "ebay.ca": "EBAY_CA",
    "ebay.com.au": "EBAY_AU",
}
EU_UK_MARKETPLACES = {
    "EBAY_GB",
    "EBAY_DE",
    "EBAY_FR",
    "EBAY_IT",
    "EBAY_ES",
    "EBAY_AT",
    "EBAY_BE",
    "EBAY_NL",
    "EBAY_IE",
    "EBAY_PL",
}
REFRESH_MARGIN = timedelta(minutes=2)
Auth = Literal["bearer", "iaf", "app"]

# Application tokens are per (endpoint, client id), shared by the stores of one eBay app.
_app_tokens: dict[tuple[str, str], tuple[str, float]] = {}


def forget_app_tokens() -> None:
    _app_tokens.clear()


def marketplace_id(ctx: StoreContext) -> str:
    explicit = str(ctx.credentials.get("marketplace_id") or "")
    if explicit:
        return explicit
    return SITE_MARKETPLACES.get((ctx.site or "").lower().removeprefix("www."), "EBAY_US")


def eu_uk_seller(ctx: StoreContext) -> bool:
    flag = ctx.credentials.get("eu_uk_seller")
    if flag is not None:
        return bool(flag)
    return marketplace_id(ctx) in EU_UK_MARKETPLACES


class EbayClient(PlatformClient):
    """One store's eBay session on the engine's PlatformClient (throttle per bucket, 429 with
    Retry-After recorded in the store's limiter, error classification). Reads (GET) are retried on
    429, 5xx and dropped connections; writes only on 429 (the request was not processed), never
    blindly after a 5xx (money moves once: the caller reconciles). A 401 refreshes the user token
    once. `sleep` and `clock` are injectable so tests never wait."""

    bucket = "ebay"

    def __init__(
        self,
        ctx: StoreContext,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
        max_retries: int | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__(
            ctx,
            timeout=timeout,
            max_attempts=None if max_retries is None else max_retries + 1,
            sleep=sleep,
            transport=transport,
        )
        self.credentials: dict[str, Any] = dict(ctx.credentials)
        self.clock = clock
        self.marketplace = marketplace_id(ctx)
        self._signing_key: SigningKey | None = None
        self._signing_loaded = False

    def __enter__(self) -> EbayClient:
        return self

    # -- endpoints ---------------------------------------------------------------------------
    def base(self, host: Host = "api") -> str:
        """The endpoint: the store's base_url when it is an override (a local fake: one host for
        everything), else eBay's host for this call (issue_refund lives on apiz.ebay.com)."""
        hosts = SANDBOX if self.credentials.get("environment") == "sandbox" else PRODUCTION
        base = (self.ctx.base_url or "").rstrip("/")
        if not base or base in (PRODUCTION["api"], SANDBOX["api"]):
            return hosts[host]
        return base

    # -- tokens ------------------------------------------------------------------------------
    def _require(self, *names: str) -> None:
        missing = [n for n in names if not self.credentials.get(n)]
        if missing:
            raise AuthError(f"eBay credentials are missing {', '.join(missing)}", code="credentials")

    def _token_request(self, data: dict[str, str]) -> Mapping[str, Any]:
        self._require("client_id", "client_secret")
        try:
            response = self.request(
                "POST",
                self.base() + TOKEN_PATH,
                bucket="ebay:identity",
                retry=False,
                data=data,
                auth=(str(self.credentials["client_id"]), str(self.credentials["client_secret"])),
                headers={"Accept": "application/json"},
            )
        except ConnectorError as exc:
            if exc.status in (400, 401, 403):
                raise AuthError(f"eBay refused the token request: {exc}", status=exc.status, code=exc.code) from exc
            raise
        try:
            body = response.json()
            str(body["access_token"])
            int(body.get("expires_in", 7200))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConnectorError("eBay token endpoint answered without an access_token") from exc
        return body

    def refresh_user_token(self) -> str:
        self._require("refresh_token")
        data = {"grant_type": "refresh_token", "refresh_token": str(self.credentials["refresh_token"])}
        scopes = self.credentials.get("scopes")
        if scopes:
            data["scope"] = " ".join(scopes) if isinstance(scopes, list) else str(scopes)
        body = self._token_request(data)
        expires = datetime.fromtimestamp(self.clock(), tz=UTC) + timedelta(seconds=int(body.get("expires_in", 7200)))
        self.credentials["access_token"] = str(body["access_token"])
        self.credentials["access_token_expires_at"] = expires.isoformat()
        self.ctx.save_credentials(
            {
                "access_token": self.credentials["access_token"],
                "access_token_expires_at": self.credentials["access_token_expires_at"],
            }
        )
        return str(self.credentials["access_token"])

    def user_token(self) -> str:
        token = self.credentials.get("access_token")
        expires_raw = self.credentials.get("access_token_expires_at")
        if token and expires_raw:
            try:
                expires = datetime.fromisoformat(str(expires_raw))
            except ValueError:
                expires = None
            if expires and expires.tzinfo and expires - REFRESH_MARGIN > datetime.fromtimestamp(self.clock(), tz=UTC):
                return str(token)
        return self.refresh_user_token()

    def app_token(self) -> str:
        """An application token (client credentials grant): the Notification API's getPublicKey."""
        self._require("client_id")
        key = (self.base(), str(self.credentials["client_id"]))
        cached = _app_tokens.get(key)
        if cached and cached[1] - REFRESH_MARGIN.total_seconds() > self.clock():
            return cached[0]
        body = self._token_request({"grant_type": "client_credentials", "scope": APP_SCOPE})
        _app_tokens[key] = (str(body["access_token"]), self.clock() + int(body.get("expires_in", 7200)))
        return str(body["access_token"])

    # -- signing -----------------------------------------------------------------------------
    def signing_key(self) -> SigningKey | None:
        if not self._signing_loaded:
            self._signing_key = load_signing_key(self.credentials)
            self._signing_loaded = True
        return self._signing_key

    # -- calls -------------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        auth: Auth = "bearer",
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        host: Host = "api",
        signed: bool = False,
        bucket: str = "ebay",
    ) -> httpx.Response:
        """One API call; returns the 2xx response or raises the contract's errors. `signed` adds
        the digital signature (when the store has a key; an EU/UK seller without one is refused
        before anything is sent)."""
        url = self.base(host) + path
        body = b"" if json_body is None else json.dumps(json_body, separators=(",", ":")).encode()
        signing = self.signing_key() if signed else None
        if signed and signing is None and eu_uk_seller(self.ctx):
            raise AuthError(
                "eBay requires a digital signature on this call for EU/UK sellers: add the store's signing key",
                code="signing_key",
            )
        refreshed = False
        throttled = 0
        while True:
            headers = {"Accept": "application/json", "X-EBAY-C-MARKETPLACE-ID": self.marketplace}
            if body:
                headers["Content-Type"] = "application/json"
            extra: dict[str, Any] = {"files": files} if files else {}
            if auth == "app":
                headers["Authorization"] = f"Bearer {self.app_token()}"
            else:
                token = self.user_token()
                headers["Authorization"] = f"IAF {token}" if auth == "iaf" else f"Bearer {token}"
            if signing is not None:
                headers.update(sign_headers(key=signing, method=method, url=url, body=body, created=int(self.clock())))
            try:
                return self.request(
                    method,
                    url,
                    bucket=bucket,
                    retry=method == "GET",
                    headers=headers,
                    params=params,
                    content=body or None,
                    **extra,
                )
            except AuthError as exc:
                if exc.status == 401 and not refreshed:
                    refreshed = True
                    if auth == "app":  # a cached application token eBay no longer accepts
                        _app_tokens.pop((self.base(), str(self.credentials.get("client_id"))), None)
                    else:
                        self.refresh_user_token()
                    continue
                raise AuthError(f"eBay refused the credentials: {exc}", status=exc.status, code=exc.code) from exc
            except RateLimited as exc:
                # A write answered 429 was not processed: waiting and sending it again is safe.
                throttled += 1
                if method == "GET" or throttled >= self.max_attempts:
                    raise
                self.sleep(min(exc.retry_after if exc.retry_after is not None else 1.0, self.max_retry_after))

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise ConnectorError(f"eBay answered malformed JSON to {method} {path}") from exc
