"""The seller's consent on the local eBay fake: /oauth2/authorize (client id, RuName and scopes
checked; then a redirect to the accept URL the test gives, with an eBay-shaped code and `state`) and
the authorization code grant on POST /identity/v1/oauth2/token (Basic client id:secret, the RuName as
redirect_uri, the code valid once), answering a user token and a refresh token the fake's own routes
accept. Other grants go on to the fake's own token route."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs

from aftersales.testing.fake_consent import ConsentCodes, redirect_to
from aftersales.testing.fake_platform import FakeRequest, FakeResponse, json_response

from .auth import AUTHORIZE_PATH, GRANT_PATH
from .fake import EbayFake

RU_NAME = "Shenzhen_Gadget-Shenzhen-aftersa-abcdefgh"


def install(fake: EbayFake, *, accept_url: str, ru_name: str = RU_NAME) -> ConsentCodes:
    codes = ConsentCodes()

    def consent(request: FakeRequest) -> FakeResponse:
        if request.arg("client_id") != fake.client_id or request.arg("response_type") != "code":
            return json_response({"error": "invalid_request", "error_description": "client_id"}, 400)
        if request.arg("redirect_uri") != ru_name:
            return json_response({"error": "invalid_request", "error_description": "redirect_uri"}, 400)
        if codes.denied:
            return redirect_to(accept_url, error="access_denied", state=request.arg("state") or "")
        code = "v^1.1#i^1#p^3#r^1#I^3#f^0#t^" + codes.issue(ru_name=ru_name)
        return redirect_to(accept_url, state=request.arg("state") or "", code=code, expires_in="299")

    def grant(request: FakeRequest) -> FakeResponse:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "authorization_code":
            return fake._token(request)
        expected = base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return json_response({"error": "invalid_client", "error_description": "client authentication failed"}, 401)
        code = str(form.get("code") or "").rpartition("t^")[2]
        why = codes.spend(code, ru_name=form.get("redirect_uri"))
        if why is not None:
            return json_response({"error": "invalid_grant", "error_description": why}, 400)
        token, ttl = fake._issue(fake.user_tokens)
        return json_response(
            {
                "access_token": token,
                "expires_in": ttl,
                "refresh_token": fake.refresh_token,
                "refresh_token_expires_in": 47304000,
                "token_type": "User Access Token",
            }
        )

    fake.route("GET", AUTHORIZE_PATH, consent)
    fake._routes.insert(0, ("POST", re.compile(re.escape(GRANT_PATH)), grant))
    return codes
