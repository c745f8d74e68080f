"""Shopee's first authorisation of a shop (Open Platform v2, "shop authorization"):

1. The seller opens `/api/v2/shop/auth_partner?partner_id&timestamp&sign&redirect` on the partner
   host (sign: HMAC-SHA256 with the partner key of partner_id + path + timestamp, as every public
   call). Shopee asks them to log in and authorise the app for one shop.
2. Shopee redirects to `redirect` adding `code` and `shop_id` (or `main_account_id` for a merchant
   account, which this connector does not handle). It sends no `state` back, so our signed state
   travels in the redirect address's own query.
3. `POST /api/v2/auth/token/get?partner_id&timestamp&sign` with {"code", "shop_id", "partner_id"}
   answers {"access_token", "refresh_token", "expire_in"}: the code is valid once, for ten minutes.

The tokens then live as the client renews them (client.py); `shop_id` becomes the store's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from aftersales.channels.base import ConnectorError, StoreContext
from aftersales.channels.grants import CallbackRefused, Grant, callback_code, callback_digits, token_call

from .client import DEFAULT_TOKEN_SECONDS, ShopeeClient

AUTHORIZE_PATH = "/api/v2/shop/auth_partner"
GRANT_PATH = "/api/v2/auth/token/get"
APP_FIELDS = ("partner_id", "partner_key")
CALLBACK_FIELDS = ("code", "shop_id")


def consent_origin(ctx: StoreContext) -> str:
    return ShopeeClient(ctx).base()


def authorize_url(ctx: StoreContext, *, redirect_uri: str, state: str, clock: Callable[[], float]) -> str:
    client = ShopeeClient(ctx, clock=clock)
    query = client.signed_params(AUTHORIZE_PATH, shop=False)
    query["redirect"] = f"{redirect_uri}?{urlencode({'state': state})}"
    return f"{client.base()}{AUTHORIZE_PATH}?{urlencode(query)}"


def check_callback(ctx: StoreContext, *, params: Mapping[str, str]) -> None:
    if params.get("main_account_id") and not params.get("shop_id"):
        raise CallbackRefused("shop_id", "authorise one shop, not a main account")
    callback_code(params)
    callback_digits(params, "shop_id")


def exchange(ctx: StoreContext, *, params: Mapping[str, str], redirect_uri: str, clock: Callable[[], float]) -> Grant:
    check_callback(ctx, params=params)
    shop_id = int(params["shop_id"])
    with ShopeeClient(ctx, clock=clock) as client:
        data = token_call(
            client,
            "Shopee",
            "POST",
            client.base() + GRANT_PATH,
            bucket="shopee:auth",
            params=client.signed_params(GRANT_PATH, shop=False),
            json={"code": params["code"], "shop_id": shop_id, "partner_id": client.partner_id},
        )
    token = data.get("access_token") if isinstance(data, dict) else None
    refresh = data.get("refresh_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token or not isinstance(refresh, str) or not refresh:
        raise ConnectorError("Shopee answered token/get without access_token and refresh_token", permanent=True)
    try:
        seconds = int(data.get("expire_in") or DEFAULT_TOKEN_SECONDS)
    except (TypeError, ValueError):
        seconds = DEFAULT_TOKEN_SECONDS
    expires = datetime.fromtimestamp(clock(), tz=UTC) + timedelta(seconds=seconds)
    return Grant(
        credentials={
            "shop_id": str(shop_id),
            "refresh_token": refresh,
            "access_token": token,
            "access_token_expires_at": expires.isoformat(),
        },
        account_id=str(shop_id),
        account_name=f"Shopee shop {shop_id}",
    )
