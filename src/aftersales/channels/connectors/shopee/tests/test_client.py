"""The Shopee client against the fake over real HTTP: the exact signed request, token refresh with
a rotating refresh token, refusals classified (429 with Retry-After, 5xx and error_server retried,
error_param permanent, a revoked shop an AuthError with Shopee's words), push signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from aftersales.channels.base import AuthError, ConnectorError, SignatureInvalid, Stream
from aftersales.channels.connectors.shopee.client import ShopeeClient, sign
from aftersales.channels.connectors.shopee.connector import ShopeeConnector
from aftersales.channels.connectors.shopee.fake import ShopeeFake
from aftersales.channels.connectors.shopee.webhooks import ORDER_STATUS_PUSH
from aftersales.testing.connectors import Recorder

from .conftest import load, make_ctx


def _hmac(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def test_sign_is_hmac_sha256_hex_of_the_concatenation() -> None:
    assert sign("key", 2001234, "/api/v2/shop/get_shop_info", 1700000000, "tok", 880001) == _hmac(
        "key", "2001234/api/v2/shop/get_shop_info1700000000tok880001"
    )


def test_first_call_refreshes_then_signs_the_shop_call(fake: ShopeeFake, recorder: Recorder, waits) -> None:
    ctx = make_ctx(fake, recorder)
    old_refresh = fake.refresh_token
    check = ShopeeConnector().test_connection(ctx)
    assert check.ok and check.detail == "Shopee answered: shop Gadgets SG (SG)"
    [token_call] = fake.requests_to("/api/v2/auth/access_token/get")
    stamp = token_call.arg("timestamp")
    assert token_call.method == "POST"
    assert token_call.query.keys() == {"partner_id", "timestamp", "sign"}
    assert token_call.arg("sign") == _hmac(fake.partner_key, f"{fake.partner_id}/api/v2/auth/access_token/get{stamp}")
    assert token_call.json() == {"refresh_token": old_refresh, "partner_id": fake.partner_id, "shop_id": fake.shop_id}
    # The new pair is saved at once; the refresh token rotated (the old one no longer works).
    [saved] = recorder.saved
    assert saved["refresh_token"] == fake.refresh_token != old_refresh
    assert saved["access_token"] in fake.access_tokens and saved["access_token_expires_at"]
    [shop_call] = fake.requests_to("/api/v2/shop/get_shop_info")
    stamp = shop_call.arg("timestamp")
    assert shop_call.query.keys() == {"partner_id", "timestamp", "access_token", "shop_id", "sign"}
    assert shop_call.arg("sign") == _hmac(
        fake.partner_key,
        f"{fake.partner_id}/api/v2/shop/get_shop_info{stamp}{saved['access_token']}{fake.shop_id}",
    )
    assert "shopee:auth" in recorder.throttled and "shopee" in recorder.throttled


def test_an_expired_token_is_refreshed_once_and_the_call_sent_again(fake: ShopeeFake, recorder: Recorder) -> None:
    token = fake.new_access_token()
    ctx = make_ctx(fake, recorder, access_token=token, access_token_expires_at="2999-01-01T00:00:00+00:00")
    fake.expire_tokens()
    with ShopeeClient(ctx) as client:
        data = client.call("GET", "/api/v2/shop/get_shop_info")
    assert data["shop_name"] == "Gadgets SG"
    assert [r.path for r in fake.requests] == [
        "/api/v2/shop/get_shop_info",
        "/api/v2/auth/access_token/get",
        "/api/v2/shop/get_shop_info",
    ]
    assert recorder.saved[-1]["refresh_token"] == fake.refresh_token


def test_a_revoked_shop_is_an_auth_error_with_shopees_words(fake: ShopeeFake, recorder: Recorder) -> None:
    fake.revoked = True
    with pytest.raises(AuthError) as caught, ShopeeClient(make_ctx(fake, recorder)) as client:
        client.call("GET", "/api/v2/shop/get_shop_info")
    assert "The shop authorization has been cancelled" in str(caught.value)
    assert caught.value.permanent and caught.value.code == "error_auth"


def test_a_used_refresh_token_is_refused(fake: ShopeeFake, recorder: Recorder) -> None:
    with pytest.raises(AuthError) as caught, ShopeeClient(make_ctx(fake, recorder, refresh_token="rt-old")) as client:
        client.call("GET", "/api/v2/shop/get_shop_info")
    assert "Invalid refresh_token" in str(caught.value)


def test_wrong_partner_key_is_an_auth_error(fake: ShopeeFake, recorder: Recorder) -> None:
    with pytest.raises(AuthError) as caught, ShopeeClient(make_ctx(fake, recorder, partner_key="nope")) as client:
        client.call("GET", "/api/v2/shop/get_shop_info")
    assert "Wrong sign" in str(caught.value)


def test_429_retry_after_and_5xx_are_retried(fake: ShopeeFake, recorder: Recorder, waits: list[float]) -> None:
    ctx = make_ctx(fake, recorder)
    fake.throttle_next("/api/v2/shop/get_shop_info", retry_after=7)
    fake.fail_next("/api/v2/shop/get_shop_info", status=502)
    with ShopeeClient(ctx, backoff=0.5) as client:
        assert client.call("GET", "/api/v2/shop/get_shop_info")["region"] == "SG"
    assert waits == [7.0, 1.0]
    assert len(fake.requests_to("/api/v2/shop/get_shop_info")) == 3


def test_errors_in_a_200_body(fake: ShopeeFake, recorder: Recorder, waits: list[float]) -> None:
    ctx = make_ctx(fake, recorder)
    busy = {"error": "error_server", "message": "System busy, please try again.", "request_id": "x"}
    fake.fail_next("/api/v2/shop/get_shop_info", status=200, body=busy)
    with ShopeeClient(ctx, backoff=0.0) as client:
        assert client.call("GET", "/api/v2/shop/get_shop_info")["shop_name"] == "Gadgets SG"
        fake.fail_next("/api/v2/shop/get_shop_info", status=200, body={"error": "error_param", "message": "Bad."})
        with pytest.raises(ConnectorError) as caught:
            client.call("GET", "/api/v2/shop/get_shop_info")
    assert caught.value.permanent and str(caught.value) == "Bad. (error_param)"


def test_order_windows_never_exceed_15_days(fake: ShopeeFake, recorder: Recorder) -> None:
    """A 40-day backfill walks three windows (Shopee refuses a longer range)."""
    from datetime import timedelta

    from aftersales.core.clock import now

    ctx = make_ctx(fake, recorder)
    connector = ShopeeConnector()
    cursor, pages = None, 0
    while True:
        page = connector.pull(ctx, Stream.ORDERS, cursor, now() - timedelta(days=40))
        pages += 1
        cursor = page.next_cursor
        if page.done:
            break
    calls = fake.requests_to("/api/v2/order/get_order_list")
    assert pages == len(calls) == 3
    for call in calls:
        assert int(call.arg("time_to") or 0) - int(call.arg("time_from") or 0) <= 15 * 86400
        assert call.arg("time_range_field") == "update_time" and call.arg("page_size") == "50"


def _push(fake: ShopeeFake, url: str, **data: Any) -> tuple[bytes, dict[str, str]]:
    return fake.push(url, ORDER_STATUS_PUSH, data)


def test_push_signature_over_url_and_body(fake: ShopeeFake, recorder: Recorder) -> None:
    ctx = make_ctx(fake, recorder)
    connector = ShopeeConnector()
    url = "https://helpdesk.example/hooks/shopee/tok"
    fake.add_order(load("order.json"))
    body, headers = _push(fake, url, ordersn="2612015QK8S7BX", status="COMPLETED", update_time=1764633600)
    assert headers["Authorization"] == _hmac(fake.partner_key, url + "|" + body.decode())
    [record] = connector.verify_webhook(ctx, headers, body, endpoint_url=url)
    assert record.stream == Stream.ORDERS and record.payload["data"]["order_sn"] == "2612015QK8S7BX"
    assert record.event_id == "order:2612015QK8S7BX:1764633600"  # the same as a poll's: no duplicate
    for bad_headers, bad_url in (
        ({"Authorization": "0" * 64}, url),
        ({}, url),
        (headers, "https://helpdesk.example/hooks/shopee/other"),
    ):
        with pytest.raises(SignatureInvalid):
            connector.verify_webhook(ctx, bad_headers, body, endpoint_url=bad_url)
    with pytest.raises(SignatureInvalid):  # a body changed after signing
        connector.verify_webhook(ctx, headers, body.replace(b"COMPLETED", b"CANCELLED"), endpoint_url=url)
    # The registered push URL wins over the URL the request reached (behind a proxy).
    registered = make_ctx(fake, recorder, push_url=url)
    assert connector.verify_webhook(registered, headers, body, endpoint_url="http://10.0.0.5/internal")


def test_push_for_another_shop_and_unknown_codes(fake: ShopeeFake, recorder: Recorder) -> None:
    from aftersales.channels.base import MappingError

    ctx = make_ctx(fake, recorder)
    connector = ShopeeConnector()
    url = "https://helpdesk.example/hooks/shopee/tok"
    other = json.dumps({"shop_id": 1, "code": 3, "timestamp": 1, "data": {}}).encode()
    headers = {"Authorization": _hmac(fake.partner_key, url + "|" + other.decode())}
    with pytest.raises(MappingError):
        connector.verify_webhook(ctx, headers, other, endpoint_url=url)
    body, headers = fake.push(url, 5, {"content": "Shopee updates"})
    [record] = connector.verify_webhook(ctx, headers, body, endpoint_url=url)
    assert record.payload == {"kind": "push", "code": 5}
    empty = {"Authorization": _hmac(fake.partner_key, url + "|")}
    assert connector.verify_webhook(ctx, empty, b"", endpoint_url=url) == []
