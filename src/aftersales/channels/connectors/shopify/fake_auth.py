"""The public app's install on the local Shopify fake: the consent page /admin/oauth/authorize
(client id, scopes and redirect_uri checked; then a redirect with `code`, `host`, `shop`, `state`,
`timestamp` and `hmac` signed with the app's secret, as Shopify signs it) and the authorization code
grant on POST /admin/oauth/access_token ({client_id, client_secret, code}: the code valid once; with
`expiring: 1` an expiring offline token and its refresh token, which the fake's refresh grant then
accepts). Bodies without a `code` go on to the fake's own token route (refresh, client credentials)."""

from __future__ import annotations

import base64
import re
from typing import Any

from aftersales.testing.fake_consent import ConsentCodes, redirect_to
from aftersales.testing.fake_platform import FakeRequest, FakeResponse, json_response

from .auth import AUTHORIZE_PATH, GRANT_PATH, SCOPES, query_hmac
from .fake import ShopifyFake


def signed_redirect(fake: ShopifyFake, redirect_uri: str, **params: str) -> FakeResponse:
    params = {k: str(v) for k, v in params.items()}
    params["hmac"] = query_hmac(fake.client_secret, params)
    return redirect_to(redirect_uri, **params)


def install(fake: ShopifyFake) -> ConsentCodes:
    codes = ConsentCodes()
    granted: dict[str, str] = {}

    def consent(request: FakeRequest) -> FakeResponse:
        if request.arg("client_id") != fake.client_id:
            return json_response({"errors": "Invalid client_id"}, 400)
        redirect = request.arg("redirect_uri") or ""
        scopes = set((request.arg("scope") or "").split(","))
        if not redirect.startswith(("http://", "https://")) or not scopes <= set(SCOPES):
            return json_response({"errors": "Invalid redirect_uri or scope"}, 400)
        granted["scope"] = ",".join(sorted(scopes))
        host = base64.urlsafe_b64encode(f"admin.shopify.com/store/{fake.shop.split('.')[0]}".encode()).decode()
        return signed_redirect(
            fake,
            redirect,
            code=codes.issue(client_id=fake.client_id),
            host=host.rstrip("="),
            shop=fake.shop,
            state=request.arg("state") or "",
            timestamp=str(int(codes.clock())),
        )

    def grant(request: FakeRequest) -> FakeResponse:
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            return json_response({"error": "invalid_request"}, 400)
        if not isinstance(body, dict) or "code" not in body:
            return fake._oauth_token(request)
        if body.get("client_id") != fake.client_id or body.get("client_secret") != fake.client_secret:
            return json_response({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        why = codes.spend(str(body.get("code") or ""), client_id=fake.client_id)
        if why is not None:
            return json_response({"error": "invalid_request", "error_description": why}, 400)
        with fake.lock:
            fake._token_serial += 1
            fake.access_token = f"shpat_fake_install_{fake._token_serial}"
            answer: dict[str, Any] = {"access_token": fake.access_token, "scope": granted.get("scope", "")}
            if body.get("expiring") in (1, "1", True):
                fake.refresh_token = f"shprt_fake_install_{fake._token_serial}"
                answer.update(
                    expires_in=fake.token_expires_in,
                    refresh_token=fake.refresh_token,
                    refresh_token_expires_in=fake.refresh_token_expires_in,
                )
            return json_response(answer)

    fake.route("GET", AUTHORIZE_PATH, consent)
    # Ahead of the fake's own token route, which refuses a grant without grant_type.
    fake._routes.insert(0, ("POST", re.compile(re.escape(GRANT_PATH)), grant))
    return codes
