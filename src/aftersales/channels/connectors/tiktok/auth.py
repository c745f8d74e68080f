"""TikTok Shop's first authorisation of a shop (Partner API, "authorize a shop"):

1. The seller opens the app's authorisation page on the auth host, `/oauth/authorize?app_key&state`
   (Partner Center shows each app's own link; this is the app-key form of it), logs into Seller
   Center and approves.
2. TikTok redirects to the app's registered redirect URL with `code` and `state` (and `app_key`,
   `locale`, `shop_region`).
3. `GET /api/v2/token/get?app_key&app_secret&auth_code=<code>&grant_type=authorized_code` on the
   auth host answers {"code": 0, "data": {"access_token", "access_token_expire_in" (epoch),
   "refresh_token", "seller_name", "open_id", ...}}.
4. Get Authorized Shops (`/authorization/202309/shops`, signed, the new token in
   `x-tts-access-token`) gives the shop's `cipher` and `id`, which every shop call needs.

docs/connectors/tiktok.md says which of these details are unverified."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aftersales.channels.base import ConnectorError, StoreContext
from aftersales.channels.grants import CallbackRefused, Grant, callback_code, refused_or_transient, token_call

from .client import DEFAULT_TOKEN_SECONDS, SHOPS_PATH, TikTokClient

AUTHORIZE_PATH = "/oauth/authorize"
GRANT_PATH = "/api/v2/token/get"
APP_FIELDS = ("app_key", "app_secret")
CALLBACK_FIELDS = ("code",)


def consent_origin(ctx: StoreContext) -> str:
    return TikTokClient(ctx).auth_base()


def authorize_url(ctx: StoreContext, *, redirect_uri: str, state: str, clock: Callable[[], float]) -> str:
    client = TikTokClient(ctx, clock=clock)
    query = {"app_key": str(ctx.credentials["app_key"]).strip(), "state": state}
    return f"{client.auth_base()}{AUTHORIZE_PATH}?{urlencode(query)}"


def check_callback(ctx: StoreContext, *, params: Mapping[str, str]) -> None:
    callback_code(params)
    given = params.get("app_key")
    if given is not None and given != str(ctx.credentials.get("app_key") or "").strip():
        raise CallbackRefused("app_key", "the callback is for another app")


def _expiry(value: Any, clock: Callable[[], float]) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(clock(), tz=UTC) + timedelta(seconds=DEFAULT_TOKEN_SECONDS)


def exchange(ctx: StoreContext, *, params: Mapping[str, str], redirect_uri: str, clock: Callable[[], float]) -> Grant:
    check_callback(ctx, params=params)
    creds = ctx.credentials
    with TikTokClient(ctx, clock=clock) as client:
        body = token_call(
            client,
            "TikTok Shop",
            "GET",
            client.auth_base() + GRANT_PATH,
            bucket="tiktok:auth",
            params={
                "app_key": str(creds["app_key"]).strip(),
                "app_secret": str(creds["app_secret"]),
                "auth_code": params["code"],
                "grant_type": "authorized_code",
            },
        )
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
        raise ConnectorError("TikTok Shop answered token/get without access_token and refresh_token", permanent=True)
    tokens = {
        "access_token": str(data["access_token"]),
        "access_token_expires_at": _expiry(data.get("access_token_expire_in"), clock).isoformat(),
        "refresh_token": str(data["refresh_token"]),
    }
    with TikTokClient(dataclasses.replace(ctx, credentials={**creds, **tokens}), clock=clock) as client:
        try:
            shops = client.call("GET", SHOPS_PATH, shop=False).get("shops")
        except ConnectorError as exc:
            raise refused_or_transient(exc, "TikTok Shop") from exc
    if not isinstance(shops, list) or not shops or not isinstance(shops[0], dict) or not shops[0].get("cipher"):
        raise ConnectorError("TikTok Shop lists no authorised shop for this app", permanent=True)
    region = str(params.get("shop_region") or "").upper()
    shop = next((s for s in shops if isinstance(s, dict) and str(s.get("region", "")).upper() == region), shops[0])
    return Grant(
        credentials={**tokens, "shop_cipher": str(shop["cipher"]), "shop_id": str(shop.get("id") or "")},
        account_id=str(shop.get("id") or ""),
        account_name=str(shop.get("name") or data.get("seller_name") or ""),
        extra={"region": str(shop.get("region") or "")},
    )
