"""Amazon's first authorisation of a seller (SP-API "website authorization workflow"):

1. The seller is sent to Seller Central's consent page for the store's marketplace,
   `https://sellercentral.amazon.<tld>/apps/authorize/consent?application_id&state[&version=beta]`
   (`version=beta` while the app is a draft), logs in and authorises the app.
2. Amazon redirects to the app's OAuth redirect URI (this site's) with `state`, `selling_partner_id`,
   `spapi_oauth_code` (valid five minutes) and `mws_auth_token` (only for apps that had MWS; ignored).
3. Login with Amazon: `POST https://api.amazon.com/auth/o2/token` (form grant_type=
   authorization_code, code=<spapi_oauth_code>, redirect_uri, client_id, client_secret) answers
   `access_token`, `refresh_token` (Atzr|...), `expires_in`.

The Seller Central host per site is this connector's mapping (docs/connectors/amazon.md); unverified
for marketplaces outside the list (they fall back to sellercentral.amazon.com)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from aftersales.channels.base import ConnectorError, StoreContext
from aftersales.channels.context import is_loopback_url
from aftersales.channels.grants import CallbackRefused, Grant, callback_code, token_call

from .client import LWA_TOKEN_URL, LwaHttp

AUTHORIZE_PATH = "/apps/authorize/consent"
APP_FIELDS = ("lwa_client_id", "lwa_client_secret", "application_id")
CALLBACK_FIELDS = ("spapi_oauth_code", "selling_partner_id")
SELLER_ID = re.compile(r"^[A-Z0-9]{8,20}$")
SELLER_CENTRAL = {
    "amazon.com": "https://sellercentral.amazon.com",
    "amazon.ca": "https://sellercentral.amazon.ca",
    "amazon.com.mx": "https://sellercentral.amazon.com.mx",
    "amazon.com.br": "https://sellercentral.amazon.com.br",
    "amazon.co.uk": "https://sellercentral.amazon.co.uk",
    "amazon.de": "https://sellercentral.amazon.de",
    "amazon.fr": "https://sellercentral.amazon.fr",
    "amazon.it": "https://sellercentral.amazon.it",
    "amazon.es": "https://sellercentral.amazon.es",
    "amazon.nl": "https://sellercentral.amazon.nl",
    "amazon.se": "https://sellercentral.amazon.se",
    "amazon.pl": "https://sellercentral.amazon.pl",
    "amazon.com.tr": "https://sellercentral.amazon.com.tr",
    "amazon.ae": "https://sellercentral.amazon.ae",
    "amazon.sa": "https://sellercentral.amazon.sa",
    "amazon.in": "https://sellercentral.amazon.in",
    "amazon.co.jp": "https://sellercentral.amazon.co.jp",
    "amazon.com.au": "https://sellercentral.amazon.com.au",
    "amazon.sg": "https://sellercentral.amazon.sg",
}


def consent_origin(ctx: StoreContext) -> str:
    if ctx.base_url and is_loopback_url(ctx.base_url):
        return ctx.base_url.rstrip("/")
    return SELLER_CENTRAL.get((ctx.site or "").lower(), SELLER_CENTRAL["amazon.com"])


def authorize_url(ctx: StoreContext, *, redirect_uri: str, state: str, clock: Callable[[], float]) -> str:
    query = {"application_id": str(ctx.credentials["application_id"]).strip(), "state": state}
    if ctx.credentials.get("draft_app"):
        query["version"] = "beta"
    return f"{consent_origin(ctx)}{AUTHORIZE_PATH}?{urlencode(query)}"


def check_callback(ctx: StoreContext, *, params: Mapping[str, str]) -> None:
    callback_code(params, "spapi_oauth_code")
    if not SELLER_ID.match(str(params.get("selling_partner_id") or "")):
        raise CallbackRefused("selling_partner_id", "must be Amazon's merchant token (8-20 capitals and digits)")


def exchange(ctx: StoreContext, *, params: Mapping[str, str], redirect_uri: str, clock: Callable[[], float]) -> Grant:
    check_callback(ctx, params=params)
    creds = ctx.credentials
    url = f"{ctx.base_url.rstrip('/')}/auth/o2/token" if is_loopback_url(ctx.base_url or "") else LWA_TOKEN_URL
    with LwaHttp(ctx) as client:
        data = token_call(
            client,
            "Amazon",
            "POST",
            url,
            bucket="lwa",
            data={
                "grant_type": "authorization_code",
                "code": params["spapi_oauth_code"],
                "redirect_uri": redirect_uri,
                "client_id": str(creds["lwa_client_id"]).strip(),
                "client_secret": str(creds["lwa_client_secret"]),
            },
        )
    if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
        raise ConnectorError("Login with Amazon answered without access_token and refresh_token", permanent=True)
    try:
        seconds = int(data.get("expires_in") or 3600)
    except (TypeError, ValueError):
        seconds = 3600
    expires = datetime.fromtimestamp(clock(), tz=UTC) + timedelta(seconds=seconds)
    seller = str(params["selling_partner_id"])
    return Grant(
        credentials={
            "refresh_token": str(data["refresh_token"]),
            "access_token": str(data["access_token"]),
            "access_token_expires_at": expires.isoformat(),
        },
        account_id=seller,
        account_name=f"Amazon seller {seller}",
    )
