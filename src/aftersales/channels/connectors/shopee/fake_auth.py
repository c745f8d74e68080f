"""The shop authorisation on the local Shopee fake (tests and the demo): the consent page
/api/v2/shop/auth_partner (partner_id, timestamp and sign checked as Shopee checks them, then a
redirect to `redirect` with a code and the fake's shop id) and POST /api/v2/auth/token/get (signed
like any public call; the code valid once, for the shop it was issued to) answering tokens the
fake's other routes accept."""

from __future__ import annotations

import hmac
import uuid

from aftersales.testing.fake_consent import ConsentCodes, redirect_to
from aftersales.testing.fake_platform import FakeRequest, FakeResponse, json_response

from .auth import AUTHORIZE_PATH, GRANT_PATH
from .client import sign
from .fake import ShopeeFake


def _error(code: str, message: str, status: int = 403) -> FakeResponse:
    return json_response({"error": code, "message": message, "request_id": uuid.uuid4().hex}, status)


def install(fake: ShopeeFake) -> ConsentCodes:
    codes = ConsentCodes(fake.clock)

    def signed(request: FakeRequest, path: str) -> FakeResponse | None:
        partner_id, timestamp, given = request.arg("partner_id"), request.arg("timestamp") or "", request.arg("sign")
        if partner_id != str(fake.partner_id):
            return _error("error_param", "Invalid partner_id.", 400)
        if not timestamp.isdigit() or abs(fake.clock() - int(timestamp)) > 300:
            return _error("error_auth", "Invalid timestamp: it expires in 5 minutes.")
        if not given or not hmac.compare_digest(sign(fake.partner_key, partner_id, path, int(timestamp)), given):
            return _error("error_sign", "Wrong sign.")
        return None

    def consent(request: FakeRequest) -> FakeResponse:
        denied = signed(request, AUTHORIZE_PATH)
        if denied is not None:
            return denied
        redirect = request.arg("redirect") or ""
        if not redirect.startswith(("http://", "https://")):
            return _error("error_param", "Invalid redirect.", 400)
        if codes.denied:
            return redirect_to(redirect, error="access_denied", message="The seller cancelled.")
        return redirect_to(redirect, code=codes.issue(shop_id=fake.shop_id), shop_id=fake.shop_id)

    def grant(request: FakeRequest) -> FakeResponse:
        denied = signed(request, GRANT_PATH)
        if denied is not None:
            return denied
        body = request.json() or {}
        if body.get("partner_id") != fake.partner_id:
            return _error("error_param", "Invalid partner_id.", 400)
        why = codes.spend(str(body.get("code") or ""), shop_id=body.get("shop_id"))
        if why is not None:
            return _error("error_auth", f"Invalid code: {why}.")
        with fake.lock:
            fake.revoked = False
            fake.refresh_token = fake._new_refresh()
            token = fake.new_access_token()
            return json_response(
                {
                    "error": "",
                    "message": "",
                    "request_id": uuid.uuid4().hex,
                    "access_token": token,
                    "refresh_token": fake.refresh_token,
                    "expire_in": 14400,
                    "shop_id_list": [fake.shop_id],
                }
            )

    fake.route("GET", AUTHORIZE_PATH, consent)
    fake.route("POST", GRANT_PATH, grant)
    return codes
