"""AliExpress's first authorisation of a seller (Open Platform, "seller authorization"):

1. The seller opens `/oauth/authorize?response_type=code&force_auth=true&client_id=<app_key>
   &redirect_uri&state` on api-sg.aliexpress.com, logs in and authorises the app.
2. AliExpress redirects to `redirect_uri` (the one registered with the app) with `code` and
   `state`.
3. `POST /rest/auth/token/create` with `code`, signed like every REST call (app_key, timestamp in
   milliseconds, sign_method=sha256, sign over the API path and the sorted parameters) answers
   {"access_token", "refresh_token", "expire_time" (epoch ms), "seller_id", "account", ...}.

docs/connectors/aliexpress.md says which of these details are unverified."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from aftersales.channels.base import ConnectorError, StoreContext
from aftersales.channels.grants import Grant, callback_code, token_call

from .client import AliExpressClient

AUTHORIZE_PATH = "/oauth/authorize"
GRANT_PATH = "/auth/token/create"
APP_FIELDS = ("app_key", "app_secret")
CALLBACK_FIELDS = ("code",)
DEFAULT_LIFE = timedelta(hours=24)


def consent_origin(ctx: StoreContext) -> str:
    return AliExpressClient(ctx).base()


def authorize_url(ctx: StoreContext, *, redirect_uri: str, state: str, clock: Callable[[], float]) -> str:
    client = AliExpressClient(ctx, clock=clock)
    query = {
        "response_type": "code",
        "force_auth": "true",
        "client_id": str(ctx.credentials["app_key"]).strip(),
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return f"{client.base()}{AUTHORIZE_PATH}?{urlencode(query)}"


def check_callback(ctx: StoreContext, *, params: Mapping[str, str]) -> None:
    callback_code(params)


def exchange(ctx: StoreContext, *, params: Mapping[str, str], redirect_uri: str, clock: Callable[[], float]) -> Grant:
    check_callback(ctx, params=params)
    with AliExpressClient(ctx, clock=clock) as client:
        data = token_call(
            client,
            "AliExpress",
            "POST",
            client.base() + "/rest" + GRANT_PATH,
            bucket="aliexpress:auth",
            data=client.signed({"code": params["code"]}, api_path=GRANT_PATH),
        )
    if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
        raise ConnectorError("AliExpress answered token/create without access_token and refresh_token", permanent=True)
    try:
        expires = datetime.fromtimestamp(int(data["expire_time"]) / 1000, tz=UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        expires = datetime.fromtimestamp(clock(), tz=UTC) + DEFAULT_LIFE
    return Grant(
        credentials={
            "access_token": str(data["access_token"]),
            "access_token_expires_at": expires.isoformat(),
            "refresh_token": str(data["refresh_token"]),
        },
        account_id=str(data.get("seller_id") or data.get("user_id") or ""),
        account_name=str(data.get("account") or ""),
    )
