"""The shop authorisation on the local TikTok Shop fake: the consent page /oauth/authorize (the
app key checked, then a redirect to the redirect address given with `code`, `state`, `app_key`,
`shop_region`) and GET /api/v2/token/get (app key and secret, grant_type=authorized_code, the code
valid once) answering tokens the fake's other routes accept. A test passes the redirect address:
TikTok keeps it in the app's settings, not in the authorisation link."""

from __future__ import annotations

from aftersales.testing.fake_consent import ConsentCodes, redirect_to
from aftersales.testing.fake_platform import FakeRequest, FakeResponse, json_response

from .auth import AUTHORIZE_PATH, GRANT_PATH
from .fake import TikTokFake, _error, _ok


def install(fake: TikTokFake, *, redirect_uri: str) -> ConsentCodes:
    codes = ConsentCodes(fake.clock)

    def consent(request: FakeRequest) -> FakeResponse:
        if request.arg("app_key") != fake.app_key:
            return json_response({"code": 106002, "message": "Invalid app_key."}, 400)
        if codes.denied:
            return redirect_to(redirect_uri, error="access_denied", state=request.arg("state") or "")
        return redirect_to(
            redirect_uri,
            app_key=fake.app_key,
            code=codes.issue(app_key=fake.app_key),
            locale="en",
            shop_region=fake.region,
            state=request.arg("state") or "",
        )

    def grant(request: FakeRequest) -> FakeResponse:
        if request.arg("app_key") != fake.app_key or request.arg("app_secret") != fake.app_secret:
            return _error(106002, "Invalid app_key or app_secret.", 401)
        if request.arg("grant_type") != "authorized_code":
            return _error(36004004, "grant_type must be authorized_code.", 400)
        why = codes.spend(request.arg("auth_code") or "", app_key=fake.app_key)
        if why is not None:
            return _error(36004004, f"Invalid auth_code: {why}.", 400)
        with fake.lock:
            fake.revoked = False
            token = fake.new_access_token()
            return _ok(
                {
                    "access_token": token,
                    "access_token_expire_in": int(fake.access_token_expiry(token) or 0),
                    "refresh_token": fake.refresh_token,
                    "refresh_token_expire_in": int(fake.clock()) + 365 * 24 * 3600,
                    "open_id": "fake-open-id",
                    "seller_name": fake.shop_name,
                    "seller_base_region": fake.region,
                    "user_type": 0,
                }
            )

    fake.route("GET", AUTHORIZE_PATH, consent)
    fake.route("GET", GRANT_PATH, grant)
    return codes
