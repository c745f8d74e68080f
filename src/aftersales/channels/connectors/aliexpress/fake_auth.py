"""The seller authorisation on the local AliExpress fake: the consent page /oauth/authorize
(client_id = the app key, a redirect_uri; then a redirect with `code` and `state`) and POST
/rest/auth/token/create (signed as every REST call; the code valid once) answering tokens the
fake's other routes accept."""

from __future__ import annotations

import uuid

from aftersales.testing.fake_consent import ConsentCodes, redirect_to
from aftersales.testing.fake_platform import FakeRequest, FakeResponse, json_response

from .auth import AUTHORIZE_PATH, GRANT_PATH
from .fake import AliExpressFake, _form


def install(fake: AliExpressFake) -> ConsentCodes:
    codes = ConsentCodes(fake.clock)

    def consent(request: FakeRequest) -> FakeResponse:
        if request.arg("client_id") != fake.app_key or request.arg("response_type") != "code":
            return json_response({"code": "InvalidAppKey", "message": "The specified App Key is invalid"}, 400)
        redirect = request.arg("redirect_uri") or ""
        if not redirect.startswith(("http://", "https://")):
            return json_response({"code": "InvalidRedirect", "message": "redirect_uri is invalid"}, 400)
        if codes.denied:
            return redirect_to(redirect, error="access_denied", state=request.arg("state") or "")
        return redirect_to(redirect, code=codes.issue(app_key=fake.app_key), state=request.arg("state") or "")

    def grant(request: FakeRequest) -> FakeResponse:
        form = _form(request)
        denied = fake._check_signature(form, GRANT_PATH)
        if denied is not None:
            return denied
        why = codes.spend(form.get("code") or "", app_key=fake.app_key)
        if why is not None:
            return json_response({"code": "InvalidCode", "message": f"The specified code is invalid: {why}"})
        with fake.lock:
            fake.revoked = False
            token = fake.new_access_token()
            expiry_ms = int(fake.access_tokens[token] * 1000)
            return json_response(
                {
                    "code": "0",
                    "access_token": token,
                    "refresh_token": fake.refresh_token,
                    "expire_time": expiry_ms,
                    "seller_id": "2000123456",
                    "account": fake.seller_login_id,
                    "request_id": uuid.uuid4().hex[:13],
                }
            )

    fake.route("GET", AUTHORIZE_PATH, consent)
    fake.route("POST", "/rest" + GRANT_PATH, grant)
    return codes
