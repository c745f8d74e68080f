"""Wish's first authorisation of a merchant (Merchant API v3, OAuth 2):

1. The merchant opens `/v3/oauth/authorize?client_id&state` on merchant.wish.com and approves the
   app.
2. Wish redirects to the app's redirect URI (set in the Merchant Dashboard's API settings) with
   `code` (and our `state`).
3. `GET /api/v3/oauth/access_token?client_id&client_secret&code&grant_type=authorization_code
   &redirect_uri` answers {"code": 0, "data": {"access_token", "refresh_token", "expiry_time",
   "merchant_id"}}.

As docs/connectors/wish.md says of the whole connector, these v3 details are assumptions that were
not checked against the real Wish."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

from aftersales.channels.base import ConnectorError, StoreContext
from aftersales.channels.grants import Grant, callback_code, token_call

from .client import DEFAULT_TOKEN_LIFE, WishClient

AUTHORIZE_PATH = "/v3/oauth/authorize"
GRANT_PATH = "/api/v3/oauth/access_token"
APP_FIELDS = ("client_id", "client_secret")
CALLBACK_FIELDS = ("code",)


def consent_origin(ctx: StoreContext) -> str:
    return WishClient(ctx).base()


def authorize_url(ctx: StoreContext, *, redirect_uri: str, state: str, clock: Callable[[], float]) -> str:
    client = WishClient(ctx, clock=clock)
    query = {"client_id": str(ctx.credentials["client_id"]).strip(), "state": state}
    return f"{client.base()}{AUTHORIZE_PATH}?{urlencode(query)}"


def check_callback(ctx: StoreContext, *, params: Mapping[str, str]) -> None:
    callback_code(params)


def exchange(ctx: StoreContext, *, params: Mapping[str, str], redirect_uri: str, clock: Callable[[], float]) -> Grant:
    check_callback(ctx, params=params)
    creds = ctx.credentials
    with WishClient(ctx, clock=clock) as client:
        body = token_call(
            client,
            "Wish",
            "GET",
            client.base() + GRANT_PATH,
            bucket="wish:auth",
            params={
                "client_id": str(creds["client_id"]).strip(),
                "client_secret": str(creds["client_secret"]),
                "code": params["code"],
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
            },
        )
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
        raise ConnectorError("Wish answered oauth/access_token without access_token and refresh_token", permanent=True)
    try:
        expires = datetime.fromisoformat(str(data["expiry_time"]).replace("Z", "+00:00"))
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    except (KeyError, ValueError):
        expires = datetime.fromtimestamp(clock(), tz=UTC) + DEFAULT_TOKEN_LIFE
    return Grant(
        credentials={
            "access_token": str(data["access_token"]),
            "access_token_expires_at": expires.isoformat(),
            "refresh_token": str(data["refresh_token"]),
        },
        account_id=str(data.get("merchant_id") or ""),
        account_name=str(data.get("merchant_id") or ""),
    )
