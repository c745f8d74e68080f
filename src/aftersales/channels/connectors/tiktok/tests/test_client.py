"""The TikTok Shop client against the fake: the exact signed request, token refresh once on an
expired token, a revoked authorisation, 429 and 5xx handling, errors inside an HTTP 200."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from aftersales.channels.base import AuthError, ConnectorError, SignatureInvalid
from aftersales.channels.connectors.tiktok.client import TikTokClient, sign
from aftersales.channels.connectors.tiktok.fake import TikTokFake
from aftersales.channels.connectors.tiktok.webhooks import verify_signature, webhook_signature
from aftersales.testing.connectors import Recorder

from .conftest import make_ctx


def test_sign_matches_the_documented_recipe() -> None:
    params = {"timestamp": "1623812664", "app_key": "38abcd", "sign": "x", "access_token": "y", "shop_cipher": "C"}
    body = b'{"decision":"APPROVE_REFUND"}'
    base = b"secret/p/1" + b"app_key38abcdshop_cipherCtimestamp1623812664" + body + b"secret"
    assert sign("secret", "/p/1", params, body) == hmac.new(b"secret", base, hashlib.sha256).hexdigest()


def test_the_exact_signed_request_and_one_refresh(fake: TikTokFake, recorder: Recorder, waits: list[float]) -> None:
    ctx = make_ctx(fake, recorder)
    with TikTokClient(ctx) as client:
        data = client.call("POST", "/order/202309/orders/search", params={"page_size": 10}, body={"update_time_ge": 1})
    assert data["orders"] == []
    [refresh] = fake.requests_to("/api/v2/token/refresh")
    assert refresh.arg("grant_type") == "refresh_token" and refresh.arg("refresh_token") == fake.refresh_token
    [search] = fake.requests_to("/order/202309/orders/search")
    token = recorder.saved[0]["access_token"]
    assert search.headers["x-tts-access-token"] == token and "access_token" not in search.query
    assert search.body == b'{"update_time_ge":1}' and search.headers["content-type"] == "application/json"
    params = {k: v[0] for k, v in search.query.items()}
    assert set(params) == {"page_size", "app_key", "timestamp", "shop_cipher", "sign"}
    assert params["sign"] == sign(fake.app_secret, "/order/202309/orders/search", params, search.body)

    fake.expire_tokens()  # an expired token: refreshed once, the call sent again
    with TikTokClient(ctx) as client:
        client.call("GET", "/order/202309/orders", params={"ids": "1"})
    assert len(fake.requests_to("/api/v2/token/refresh")) == 2
    assert recorder.saved[-1]["access_token"] != token


def test_a_revoked_shop_is_an_auth_error_with_tiktoks_words(
    fake: TikTokFake, recorder: Recorder, waits: list[float]
) -> None:
    fake.revoked = True
    with TikTokClient(make_ctx(fake, recorder)) as client, pytest.raises(AuthError) as caught:
        client.call("GET", "/order/202309/orders", params={"ids": "1"})
    assert "deauthorized the app" in str(caught.value) and fake.app_secret not in str(caught.value)


def test_a_wrong_secret_is_refused(fake: TikTokFake, recorder: Recorder, waits: list[float]) -> None:
    with TikTokClient(make_ctx(fake, recorder, app_secret="wrong")) as client, pytest.raises(AuthError):
        client.call("GET", "/order/202309/orders", params={"ids": "1"})


def test_429_and_5xx_are_retried_with_waits(fake: TikTokFake, recorder: Recorder, waits: list[float]) -> None:
    ctx = make_ctx(fake, recorder)
    fake.throttle_next("/order/202309/orders", retry_after=3)
    fake.fail_next("/order/202309/orders", status=503)
    with TikTokClient(ctx) as client:
        assert client.call("GET", "/order/202309/orders", params={"ids": "1"}) == {"orders": []}
    assert 3 in waits and len(fake.requests_to("/order/202309/orders")) == 3


def test_an_error_inside_a_200_is_permanent_with_its_message(
    fake: TikTokFake, recorder: Recorder, waits: list[float]
) -> None:
    ctx = make_ctx(fake, recorder)
    fake.fail_next(
        "/order/202309/orders",
        status=200,
        body={"code": 36009001, "message": "Invalid ids.", "request_id": "r", "data": None},
    )
    with TikTokClient(ctx) as client, pytest.raises(ConnectorError) as caught:
        client.call("GET", "/order/202309/orders", params={"ids": "1"})
    assert caught.value.permanent and str(caught.value) == "Invalid ids. (36009001)"
    fake.fail_next("/order/202309/orders", status=200, body=b"<html>oops</html>")
    with TikTokClient(ctx) as client, pytest.raises(ConnectorError) as malformed:
        client.call("GET", "/order/202309/orders", params={"ids": "1"})
    assert "malformed JSON" in str(malformed.value)


def test_webhook_signature() -> None:
    body = b'{"type":1}'
    good = {"Authorization": webhook_signature("key", "secret", body)}
    verify_signature(app_key="key", app_secret="secret", headers=good, body=body)
    assert good["Authorization"] == hmac.new(b"secret", b"key" + body, hashlib.sha256).hexdigest()
    for headers in ({"Authorization": "0" * 64}, {}):
        with pytest.raises(SignatureInvalid):
            verify_signature(app_key="key", app_secret="secret", headers=headers, body=body)


def test_webhooks_of_another_shop_or_malformed_are_refused() -> None:
    from aftersales.channels.base import MappingError
    from aftersales.channels.connectors.tiktok.webhooks import parse_webhook

    assert parse_webhook(b'{"type": 1, "shop_id": "74", "data": {}}', shop_id="74")["type"] == 1
    for body, field in (
        (b'{"type": 1, "shop_id": "75", "data": {}}', "shop_id"),
        (b'{"type": "1", "data": {}}', "type"),
        (b'{"type": 1, "data": []}', "data"),
        (b"[1]", "body"),
    ):
        with pytest.raises(MappingError) as caught:
            parse_webhook(body, shop_id="74")
        assert caught.value.field == field
