"""Access tokens of a Shopify store, three ways:

- a non-expiring offline token (a legacy custom app's shpat_...): used as it is;
- an expiring offline token with a refresh token: renewed as below;
- client credentials (an app the seller created in Shopify's Dev Dashboard for their own store,
  the way since legacy custom apps stopped being created in the admin): only `client_id` and
  `client_secret` are given; `exchange_using_client_credentials` (shopifyapp) gets an access token,
  saved with its expiry and fetched again a minute before it expires or after a 401. Shopify
  answers `invalid_client` for a wrong pair: a human fixes the credentials.

Expiring offline access tokens: refreshed with the official `shopifyapp` package
(`refresh_access_token`: POST https://<shop>.myshopify.com/admin/oauth/access_token,
grant_type=refresh_token) a minute before they expire, or once after a 401, and saved through
`ctx.save_credentials` (encrypted at rest; never logged). Non-expiring offline tokens (no
"expires", no "refresh_token" in the credentials) are used as they are.

Credentials: {"access_token", "access_token_expires_at" (ISO 8601, written here), "refresh_token",
"client_id", "client_secret", "shop"}. The refresh token's own expiry is not kept: Shopify answers
invalid_grant for an expired one, which asks a human to reconnect the store as any refusal does."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from aftersales.channels.base import AuthError, ConnectorError, StoreContext

from .client import base_url, shop_domain

REFRESH_AHEAD = timedelta(seconds=60)  # the package's own margin
_lock = threading.Lock()


class _ToEndpoint(httpx.BaseTransport):
    """Sends the package's request to the store's endpoint (https://<shop>.myshopify.com, or the
    local fake when the store's endpoint is overridden for tests and the demo)."""

    def __init__(self, endpoint: str) -> None:
        parts = urlsplit(endpoint)
        self.scheme, self.host, self.port = parts.scheme, parts.hostname or "", parts.port
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self.scheme, host=self.host, port=self.port)
        request.headers["Host"] = f"{self.host}:{self.port}" if self.port else self.host
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def uses_client_credentials(ctx: StoreContext) -> bool:
    """The store gives its app's client id and secret and no refresh token: its access tokens come
    from the client credentials grant (a given access token without an expiry is a legacy one)."""
    creds = ctx.credentials
    if creds.get("refresh_token") or not creds.get("client_id") or not creds.get("client_secret"):
        return False
    return not creds.get("access_token") or bool(creds.get("access_token_expires_at"))


def renewable(ctx: StoreContext) -> bool:
    """Whether a refused access token can be renewed (a refresh token, or client credentials)."""
    return bool(ctx.credentials.get("refresh_token")) or uses_client_credentials(ctx)


def _due(expires: object, now: datetime | None) -> bool:
    if not expires:
        return True
    try:
        at = datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
    except ValueError:
        return True
    return at <= (now or datetime.now(UTC)) + REFRESH_AHEAD


def needs_refresh(ctx: StoreContext, *, now: datetime | None = None) -> bool:
    creds = ctx.credentials
    if uses_client_credentials(ctx):
        return not creds.get("access_token") or _due(creds.get("access_token_expires_at"), now)
    if not creds.get("refresh_token"):
        return False
    expires = creds.get("access_token_expires_at")
    if not expires:
        return True  # an expiring token whose expiry we do not know
    try:
        at = datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
    except ValueError:
        return True
    return at <= (now or datetime.now(UTC)) + REFRESH_AHEAD


def client_credentials_token(ctx: StoreContext) -> StoreContext:
    """A new access token from the client credentials grant, saved; returns the context with it.
    AuthError when Shopify refuses the client id and secret."""
    creds = dict(ctx.credentials)
    shop = shop_domain(ctx)
    from shopify_app import ShopifyApp  # where a token is asked for, not in web processes (issue 13)

    app = ShopifyApp(client_id=str(creds.get("client_id") or ""), client_secret=str(creds.get("client_secret") or ""))
    with _lock, httpx.Client(transport=_ToEndpoint(base_url(ctx)), timeout=30.0) as http:
        result = app.exchange_using_client_credentials(shop.removesuffix(".myshopify.com"), http_client=http)
    if not result.ok or result.access_token is None:
        code = result.log.code
        if code in ("server_error", "network_error"):
            raise ConnectorError(f"Shopify's client credentials grant failed for now ({code})", code=code)
        raise AuthError(
            f"Shopify refused the app's client id and secret ({code}): check them in the Dev Dashboard", code=code
        )
    token = result.access_token
    updates = {"access_token": token.token, "access_token_expires_at": token.expires}
    ctx.save_credentials(updates)
    return dataclasses.replace(ctx, credentials={**creds, **updates})


def refresh(ctx: StoreContext) -> StoreContext:
    """A new access token from the refresh token, saved; returns the context with it. AuthError when
    Shopify refuses the refresh token (a human must reconnect the store)."""
    if uses_client_credentials(ctx):
        return client_credentials_token(ctx)
    creds = dict(ctx.credentials)
    shop = shop_domain(ctx)
    if not creds.get("refresh_token"):
        raise AuthError("Shopify refused the access token and the store has no refresh token: reconnect the store")
    from shopify_app import refresh_access_token

    with _lock, httpx.Client(transport=_ToEndpoint(base_url(ctx)), timeout=30.0) as http:
        result = refresh_access_token(
            {
                "shop": shop.removesuffix(".myshopify.com"),
                "refresh_token": creds["refresh_token"],
                "expires": "",  # force: we decided it is due (or it was just refused)
                "refresh_token_expires": "",
                "access_mode": "offline",
            },
            {
                "client_id": str(creds.get("client_id") or ""),
                "client_secret": str(creds.get("client_secret") or ""),
                "old_client_secret": None,
            },
            http_client=http,
        )
    if not result.ok or result.access_token is None:
        code = result.log.code
        if code in ("server_error", "network_error"):
            raise ConnectorError(f"Shopify's token refresh failed for now ({code})", code=code)
        raise AuthError(f"Shopify refused the token refresh ({code}): reconnect the store", code=code)
    token = result.access_token
    updates = {
        "access_token": token.token,
        "access_token_expires_at": token.expires,
        "refresh_token": token.refresh_token,
    }
    ctx.save_credentials(updates)
    return dataclasses.replace(ctx, credentials={**creds, **updates})
