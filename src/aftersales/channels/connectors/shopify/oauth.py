"""Expiring offline access tokens: refreshed with the official `shopifyapp` package
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
from shopify_app import refresh_access_token

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


def needs_refresh(ctx: StoreContext, *, now: datetime | None = None) -> bool:
    creds = ctx.credentials
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


def refresh(ctx: StoreContext) -> StoreContext:
    """A new access token from the refresh token, saved; returns the context with it. AuthError when
    Shopify refuses the refresh token (a human must reconnect the store)."""
    creds = dict(ctx.credentials)
    shop = shop_domain(ctx)
    if not creds.get("refresh_token"):
        raise AuthError("Shopify refused the access token and the store has no refresh token: reconnect the store")
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
