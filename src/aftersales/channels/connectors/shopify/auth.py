"""Installing the public app on a Shopify shop (authorization code grant, offline access):

1. The admin names the shop (`<name>.myshopify.com`, nothing else: validate_start) and is sent to
   `https://<shop>/admin/oauth/authorize?client_id&scope&redirect_uri&state` (`state`: our signed,
   single-use nonce; no `grant_options[]=per-user`: an offline token, which the sync needs).
2. Shopify redirects to `redirect_uri` with `code`, `hmac`, `host`, `shop`, `state`, `timestamp`.
   check_callback verifies `hmac`: the hex HMAC-SHA256, keyed with the app's client secret (or the
   previous one while it is rotated), of every other parameter sorted by name as `name=value`
   joined with `&` ('%' and '&' escaped in values, '=' too in names), compared in constant time;
   `shop` must be the domain the admin named and a *.myshopify.com domain; `timestamp` within an
   hour.
3. `POST https://<shop>/admin/oauth/access_token` with {client_id, client_secret, code,
   expiring: 1} answers {"access_token", "scope"} and, for an expiring offline token,
   "expires_in", "refresh_token" (renewed later by oauth.py).

The official `shopifyapp` package covers token exchange, client credentials and refreshes, not the
authorization code grant of a public app's install: the protocol pieces here are written out."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from aftersales.channels.base import AuthError, ConnectorError, StoreContext
from aftersales.channels.grants import CallbackRefused, Grant, callback_code

from .client import base_url

AUTHORIZE_PATH = "/admin/oauth/authorize"
GRANT_PATH = "/admin/oauth/access_token"
APP_FIELDS = ("client_id", "client_secret")
CALLBACK_FIELDS = ("code", "hmac", "shop", "timestamp")
# Fulfilment orders (mark shipped): an order management app asks write_merchant_managed_ and
# write_third_party_fulfillment_orders (FulfillmentOrder "API access scopes", Admin schema 2025-01);
# a write scope includes its read scope.
SCOPES = (
    "read_orders",
    "write_orders",
    "read_returns",
    "write_returns",
    "read_fulfillments",
    "read_customers",
    "write_merchant_managed_fulfillment_orders",
    "write_third_party_fulfillment_orders",
)
SHOP = re.compile(r"^[a-z0-9][a-z0-9-]{0,60}\.myshopify\.com$")
MAX_AGE_SECONDS = 3600
TIMEOUT_SECONDS = 20.0


def validate_start(ctx: StoreContext, *, shop: str) -> str:
    """The shop to install on: the domain typed (else the store's), lower-cased; only
    <name>.myshopify.com is accepted (no scheme, path, port or other host)."""
    domain = (shop or str(ctx.credentials.get("shop") or "")).strip().lower()
    if not SHOP.match(domain):
        raise CallbackRefused("shop", "must be the shop's <name>.myshopify.com domain")
    return domain


def consent_origin(ctx: StoreContext) -> str:
    """Where the admin is sent (the store page's CSP form-action): any shop, or the local fake."""
    return ctx.base_url.rstrip("/") if ctx.base_url else "https://*.myshopify.com"


def authorize_url(ctx: StoreContext, *, redirect_uri: str, state: str, clock: Callable[[], float]) -> str:
    query = {
        "client_id": str(ctx.credentials["client_id"]).strip(),
        "scope": ",".join(SCOPES),
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return f"{base_url(ctx)}{AUTHORIZE_PATH}?{urlencode(query)}"


def query_hmac(secret: str, params: Mapping[str, str]) -> str:
    """Shopify's signature of a redirect's query (every parameter but hmac and signature)."""

    def escape(text: str, *, name: bool = False) -> str:
        text = text.replace("%", "%25").replace("&", "%26")
        return text.replace("=", "%3D") if name else text

    message = "&".join(
        f"{escape(k, name=True)}={escape(v)}" for k, v in sorted(params.items()) if k not in ("hmac", "signature")
    )
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def check_callback(ctx: StoreContext, *, params: Mapping[str, str], clock: Callable[[], float] | None = None) -> None:
    given = str(params.get("hmac") or "").lower()
    secrets = [str(ctx.credentials.get(n) or "") for n in ("client_secret", "old_client_secret")]
    if not any(s and hmac.compare_digest(query_hmac(s, params), given) for s in secrets):
        raise CallbackRefused("hmac", "does not verify with the app's API secret key")
    shop = str(params.get("shop") or "").lower()
    if not SHOP.match(shop):
        raise CallbackRefused("shop", "must be a <name>.myshopify.com domain")
    if shop != str(ctx.credentials.get("shop") or "").lower():
        raise CallbackRefused("shop", "is not the shop this installation was started for")
    stamp = str(params.get("timestamp") or "")
    now = (clock or datetime.now(UTC).timestamp)()
    if not stamp.isdigit() or abs(now - int(stamp)) > MAX_AGE_SECONDS:
        raise CallbackRefused("timestamp", "must be within an hour of now")
    callback_code(params)


def exchange(ctx: StoreContext, *, params: Mapping[str, str], redirect_uri: str, clock: Callable[[], float]) -> Grant:
    check_callback(ctx, params=params, clock=clock)
    creds = ctx.credentials
    body = {
        "client_id": str(creds["client_id"]).strip(),
        "client_secret": str(creds["client_secret"]),
        "code": params["code"],
        "expiring": 1,
    }
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as http:
            response = http.post(base_url(ctx) + GRANT_PATH, json=body, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ConnectorError(f"Shopify could not be reached: {type(exc).__name__}", code="network_error") from exc
    try:
        data: Any = response.json()
    except ValueError:
        data = {}
    if response.status_code >= 500 or response.status_code == 429:
        raise ConnectorError(f"Shopify's token endpoint failed for now (HTTP {response.status_code})")
    if response.status_code != 200 or not isinstance(data, dict) or not data.get("access_token"):
        error = data.get("error_description") or data.get("error") if isinstance(data, dict) else ""
        raise AuthError(
            f"Shopify refused the authorization code ({error or response.status_code})",
            status=response.status_code,
            code=str(data.get("error") or "oauth") if isinstance(data, dict) else "oauth",
        )
    updates: dict[str, Any] = {"shop": str(params["shop"]).lower(), "access_token": str(data["access_token"])}
    if data.get("refresh_token"):
        updates["refresh_token"] = str(data["refresh_token"])
        try:
            seconds = int(data.get("expires_in") or 0)
        except (TypeError, ValueError):
            seconds = 0
        if seconds > 0:
            at = datetime.fromtimestamp(clock(), tz=UTC) + timedelta(seconds=seconds)
            updates["access_token_expires_at"] = at.isoformat()
    return Grant(
        credentials=updates,
        account_id=updates["shop"],
        account_name=updates["shop"],
        extra={"scope": str(data.get("scope") or "")},
    )
