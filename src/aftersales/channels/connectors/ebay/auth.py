"""eBay's first authorisation of a seller (OAuth authorization code grant, "user consent"):

1. The seller is sent to `https://auth.ebay.com/oauth2/authorize?client_id&redirect_uri=<RuName>
   &response_type=code&scope&state` (auth.sandbox.ebay.com for a sandbox store). eBay's
   `redirect_uri` is not a URL but the RuName of the app's redirect settings, whose "auth accepted
   URL" must be this site's redirect URL.
2. eBay redirects there with `code` (URL-encoded, `v^1.1#i^1#...`) and `state` (and `expires_in`).
3. `POST /identity/v1/oauth2/token` (HTTP Basic client id:secret, form grant_type=authorization_code,
   code, redirect_uri=<RuName>) answers `access_token`, `expires_in`, `refresh_token`,
   `refresh_token_expires_in` (18 months).

Scopes asked: the store's `scopes` credential, else those the connector uses (fulfillment, account,
post-order returns and inquiries, messages)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from aftersales.channels.base import ConnectorError, StoreContext
from aftersales.channels.grants import CallbackRefused, Grant, refused_or_transient

from .client import EbayClient

AUTHORIZE_PATH = "/oauth2/authorize"
GRANT_PATH = "/identity/v1/oauth2/token"
APP_FIELDS = ("client_id", "client_secret", "ru_name")
CALLBACK_FIELDS = ("code",)
AUTH_HOSTS = {"production": "https://auth.ebay.com", "sandbox": "https://auth.sandbox.ebay.com"}
SCOPES = (
    "https://api.ebay.com/oauth/api_scope",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
    "https://api.ebay.com/oauth/api_scope/sell.account",
    "https://api.ebay.com/oauth/api_scope/sell.inventory.readonly",
    "https://api.ebay.com/oauth/api_scope/commerce.message",
)


def consent_origin(ctx: StoreContext) -> str:
    if ctx.base_url:
        return ctx.base_url.rstrip("/")
    return AUTH_HOSTS["sandbox" if ctx.credentials.get("environment") == "sandbox" else "production"]


def _scopes(ctx: StoreContext) -> str:
    given = ctx.credentials.get("scopes")
    if isinstance(given, list) and given:
        return " ".join(str(s) for s in given)
    return " ".join(SCOPES)


def authorize_url(ctx: StoreContext, *, redirect_uri: str, state: str, clock: Callable[[], float]) -> str:
    query = {
        "client_id": str(ctx.credentials["client_id"]).strip(),
        "redirect_uri": str(ctx.credentials["ru_name"]).strip(),
        "response_type": "code",
        "scope": _scopes(ctx),
        "state": state,
    }
    return f"{consent_origin(ctx)}{AUTHORIZE_PATH}?{urlencode(query)}"


def check_callback(ctx: StoreContext, *, params: Mapping[str, str]) -> None:
    code = str(params.get("code") or "")
    # eBay's codes carry ^ # | characters (v^1.1#i^1#p^3#r^1#...): one printable token, bounded.
    if not code or len(code) > 2000 or not code.isprintable() or any(c.isspace() for c in code):
        raise CallbackRefused("code", "must be eBay's authorization code")


def exchange(ctx: StoreContext, *, params: Mapping[str, str], redirect_uri: str, clock: Callable[[], float]) -> Grant:
    check_callback(ctx, params=params)
    with EbayClient(ctx, clock=clock) as client:
        try:
            body = client._token_request(
                {
                    "grant_type": "authorization_code",
                    "code": params["code"],
                    "redirect_uri": str(ctx.credentials["ru_name"]).strip(),
                }
            )
        except ConnectorError as exc:
            raise refused_or_transient(exc, "eBay") from exc
    if not body.get("refresh_token"):
        raise ConnectorError("eBay answered the code without a refresh_token", permanent=True)
    now = datetime.fromtimestamp(clock(), tz=UTC)
    return Grant(
        credentials={
            "access_token": str(body["access_token"]),
            "access_token_expires_at": (now + timedelta(seconds=int(body.get("expires_in", 7200)))).isoformat(),
            "refresh_token": str(body["refresh_token"]),
        },
        account_id="",
        account_name="eBay seller",
    )
