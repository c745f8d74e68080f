"""The AliExpress client against the fake: the exact signed request, token refresh once, errors in
a 200 body, 429 / 5xx waits, a revoked authorisation."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs

import pytest

from aftersales.channels.base import AuthError, ConnectorError
from aftersales.channels.connectors.aliexpress.client import AliExpressClient, sign
from aftersales.channels.connectors.aliexpress.fake import AliExpressFake
from aftersales.testing.connectors import Recorder

from .conftest import make_ctx

METHOD = "aliexpress.issue.issuelist.get"


def _form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode()).items()}


def test_sign_is_documented_hmac_sha256_upper_hex() -> None:
    params = {"method": "m", "app_key": "12345", "timestamp": "1700000000000", "sign_method": "sha256"}
    base = "app_key12345methodmsign_methodsha256timestamp1700000000000"
    assert sign("secret", params) == hmac.new(b"secret", base.encode(), hashlib.sha256).hexdigest().upper()
    assert sign("secret", params, "/auth/token/refresh") == (
        hmac.new(b"secret", ("/auth/token/refresh" + base).encode(), hashlib.sha256).hexdigest().upper()
    )


def test_first_call_refreshes_then_sends_the_signed_form(
    fake: AliExpressFake, recorder: Recorder, waits: list[float]
) -> None:
    ctx = make_ctx(fake, recorder)
    with AliExpressClient(ctx) as client:
        payload = client.call(METHOD, {"query_dto": {"current_page": 1, "page_size": 50}})
    assert payload["result"]["total_page"] == 1
    refresh, call = fake.requests
    assert refresh.path == "/rest/auth/token/refresh" and call.path == "/sync"
    assert refresh.headers["content-type"] == "application/x-www-form-urlencoded"
    refresh_form = _form(refresh.body)
    assert refresh_form["refresh_token"] == fake.refresh_token
    assert refresh_form["sign"] == sign(fake.app_secret, refresh_form, "/auth/token/refresh")
    form = _form(call.body)
    assert set(form) == {"method", "app_key", "timestamp", "sign_method", "access_token", "query_dto", "sign"}
    assert form["method"] == METHOD and form["sign_method"] == "sha256" and form["app_key"] == fake.app_key
    assert form["query_dto"] == '{"current_page":1,"page_size":50}'
    assert form["sign"] == sign(fake.app_secret, form)
    assert recorder.saved[0]["access_token"] == form["access_token"]
    assert "app_secret" not in recorder.saved[0]


def test_expired_token_is_refreshed_once(fake: AliExpressFake, recorder: Recorder, waits: list[float]) -> None:
    ctx = make_ctx(fake, recorder)
    with AliExpressClient(ctx) as client:
        client.call(METHOD, {"query_dto": {}})
        fake.expire_tokens()
        client.call(METHOD, {"query_dto": {}})
    assert [r.path for r in fake.requests] == [
        "/rest/auth/token/refresh",
        "/sync",
        "/sync",
        "/rest/auth/token/refresh",
        "/sync",
    ]
    assert len(recorder.saved) == 2


def test_revoked_authorisation_is_an_auth_error_with_aliexpress_words(
    fake: AliExpressFake, recorder: Recorder, waits: list[float]
) -> None:
    fake.revoked = True
    with AliExpressClient(make_ctx(fake, recorder)) as client, pytest.raises(AuthError) as caught:
        client.call(METHOD, {"query_dto": {}})
    assert "The specified refresh token is invalid or expired" in str(caught.value)
    assert fake.app_secret not in str(caught.value) and fake.refresh_token not in str(caught.value)


def test_wrong_secret_is_an_auth_error(fake: AliExpressFake, recorder: Recorder, waits: list[float]) -> None:
    ctx = make_ctx(fake, recorder, app_secret="not-the-secret")
    with AliExpressClient(ctx) as client, pytest.raises(AuthError) as caught:
        client.call(METHOD, {"query_dto": {}})
    assert "IncompleteSignature" in str(caught.value)


def test_429_and_5xx_are_retried_with_waits(fake: AliExpressFake, recorder: Recorder, waits: list[float]) -> None:
    ctx = make_ctx(fake, recorder)
    with AliExpressClient(ctx) as client:
        client.call(METHOD, {"query_dto": {}})
        fake.throttle_next("/sync", retry_after=7)
        fake.fail_next("/sync", status=502)
        assert client.call(METHOD, {"query_dto": {}})["result"]["total_page"] == 1
    assert waits[0] == 7.0 and len(waits) == 2


def test_rate_limit_in_a_200_body(fake: AliExpressFake, recorder: Recorder, waits: list[float]) -> None:
    ctx = make_ctx(fake, recorder)
    limited: dict[str, Any] = {
        "error_response": {"type": "ISP", "code": "ApiCallLimit", "msg": "This ban will last 1 more seconds"}
    }
    with AliExpressClient(ctx, max_attempts=2) as client:
        client.call(METHOD, {"query_dto": {}})
        fake.fail_next("/sync", status=200, times=2, body=limited)
        with pytest.raises(ConnectorError) as caught:
            client.call(METHOD, {"query_dto": {}})
    assert caught.value.code == "ApiCallLimit" and not caught.value.permanent and len(waits) == 1


def test_unknown_answer_shape_is_transient(fake: AliExpressFake, recorder: Recorder, waits: list[float]) -> None:
    ctx = make_ctx(fake, recorder)
    with AliExpressClient(ctx, max_attempts=1) as client:
        client.call(METHOD, {"query_dto": {}})
        fake.fail_next("/sync", status=200, body={"something_else": {}})
        with pytest.raises(ConnectorError) as caught:
            client.call(METHOD, {"query_dto": {}})
    assert "without a aliexpress_issue_issuelist_get_response" in str(caught.value)
