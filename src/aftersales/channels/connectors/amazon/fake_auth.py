"""The seller's authorisation on the local Amazon fake: Seller Central's consent page
/apps/authorize/consent (the application id checked; then a redirect to the app's redirect URI the
test gives, with `state`, `selling_partner_id` and `spapi_oauth_code`) and Login with Amazon's
authorization code grant on POST /auth/o2/token (client id and secret, the code valid once, the
redirect_uri it was issued for), answering a refresh token the fake's own token route accepts. Other
grants go on to the fake's own handler."""

from __future__ import annotations

import re
import secrets
import time
from urllib.parse import parse_qs

from aftersales.testing.fake_consent import ConsentCodes, redirect_to
from aftersales.testing.fake_platform import FakeRequest, FakeResponse, json_response

from .auth import AUTHORIZE_PATH
from .fake import AmazonFake

APPLICATION_ID = "amzn1.sp.solution.fake-0000-1111"


def install(fake: AmazonFake, *, redirect_uri: str, application_id: str = APPLICATION_ID) -> ConsentCodes:
    codes = ConsentCodes()

    def consent(request: FakeRequest) -> FakeResponse:
        if request.arg("application_id") != application_id:
            return json_response({"error": "invalid application_id"}, 400)
        if codes.denied:
            return redirect_to(redirect_uri, state=request.arg("state") or "", error="access_denied")
        return redirect_to(
            redirect_uri,
            state=request.arg("state") or "",
            selling_partner_id=fake.seller_id,
            spapi_oauth_code="ANDMxqpCmqWHonrs" + codes.issue(redirect_uri=redirect_uri),
        )

    def grant(request: FakeRequest) -> FakeResponse:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "authorization_code":
            return fake._token(request)
        if form.get("client_id") != fake.client_id or form.get("client_secret") != fake.client_secret:
            return json_response({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        why = codes.spend(
            str(form.get("code") or "").removeprefix("ANDMxqpCmqWHonrs"), redirect_uri=form.get("redirect_uri")
        )
        if why is not None:
            return json_response({"error": "invalid_grant", "error_description": why}, 400)
        refresh = "Atzr|" + secrets.token_urlsafe(24)
        token = "Atza|" + secrets.token_urlsafe(24)
        with fake.lock:
            fake.refresh_tokens.add(refresh)
            fake.tokens[token] = time.monotonic() + fake.token_ttl
        return json_response(
            {"access_token": token, "refresh_token": refresh, "token_type": "bearer", "expires_in": 3600}
        )

    fake.route("GET", AUTHORIZE_PATH, consent)
    fake._routes.insert(0, ("POST", re.compile(r"/auth/o2/token"), grant))
    return codes
