"""The merchant authorisation on the local Wish fake: the consent page /v3/oauth/authorize (the
client id checked, then a redirect to the redirect address given with `code` and `state`) and
GET /api/v3/oauth/access_token (client id and secret, grant_type=authorization_code, the code valid
once and for the redirect_uri it was issued with) answering tokens the fake's other routes accept.
Wish keeps the redirect address in the app's settings: a test passes it here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aftersales.testing.fake_consent import ConsentCodes, redirect_to
from aftersales.testing.fake_platform import FakeRequest, FakeResponse

from .auth import AUTHORIZE_PATH, GRANT_PATH
from .fake import WishFake, _error, _ok


def install(fake: WishFake, *, redirect_uri: str) -> ConsentCodes:
    codes = ConsentCodes(fake.clock)

    def consent(request: FakeRequest) -> FakeResponse:
        if request.arg("client_id") != fake.client_id:
            return _error(4000, "Invalid client_id", 400)
        if codes.denied:
            return redirect_to(redirect_uri, error="access_denied", state=request.arg("state") or "")
        return redirect_to(redirect_uri, code=codes.issue(redirect_uri=redirect_uri), state=request.arg("state") or "")

    def grant(request: FakeRequest) -> FakeResponse:
        if request.arg("client_id") != fake.client_id or request.arg("client_secret") != fake.client_secret:
            return _error(4000, "Invalid client credentials", 401)
        if request.arg("grant_type") != "authorization_code":
            return _error(1000, "grant_type must be authorization_code", 400)
        why = codes.spend(request.arg("code") or "", redirect_uri=request.arg("redirect_uri"))
        if why is not None:
            return _error(1016, f"Invalid authorization code: {why}", 400)
        with fake.lock:
            fake.revoked = False
            token = f"at-{next(fake._ids)}-{uuid.uuid4().hex[:12]}"
            expires = fake.clock() + 30 * 24 * 3600
            fake.access_tokens[token] = expires
            return _ok(
                {
                    "access_token": token,
                    "refresh_token": fake.refresh_token,
                    "expiry_time": datetime.fromtimestamp(expires, tz=UTC).isoformat(timespec="seconds"),
                    "merchant_id": fake.merchant_id,
                }
            )

    fake.route("GET", AUTHORIZE_PATH, consent)
    fake.route("GET", GRANT_PATH, grant)
    return codes
