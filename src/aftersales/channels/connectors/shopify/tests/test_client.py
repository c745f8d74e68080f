"""The GraphQL client against the fake Shopify on 127.0.0.1: the exact request, error
classification, query-cost throttling."""

from __future__ import annotations

import json

import pytest

from aftersales.channels.base import AuthError, ConnectorError, RateLimited
from aftersales.channels.connectors.shopify import operations
from aftersales.channels.connectors.shopify.client import API_VERSION, ShopifyClient

from .conftest import make_ctx

SHOP = operations.SHOP_QUERY


def test_request_shape(shopify_fake):
    throttled: list = []
    client = ShopifyClient(make_ctx(shopify_fake, throttled=throttled))
    data = client.execute(SHOP)
    assert data["shop"]["myshopifyDomain"] == shopify_fake.shop
    (request,) = shopify_fake.requests
    assert request.method == "POST"
    assert request.path == "/admin/api/2026-04/graphql.json"
    assert API_VERSION == "2026-04"
    assert request.headers["x-shopify-access-token"] == shopify_fake.access_token
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {"query": SHOP}
    assert throttled == [("cost", 50.0)]  # unknown cost: the default estimate
    client.execute(SHOP)
    assert throttled[-1] == ("cost", 1.0)  # then what Shopify said this document costs
    assert client.last_cost["throttleStatus"]["maximumAvailable"] == 1000.0


def test_wrong_token_is_an_auth_error(shopify_fake):
    client = ShopifyClient(make_ctx(shopify_fake, access_token="shpat_revoked"), max_attempts=1)
    with pytest.raises(AuthError) as caught:
        client.execute(SHOP)
    assert caught.value.permanent and caught.value.status == 401
    assert "Invalid API key or access token" in str(caught.value)


def test_missing_token_fails_before_any_call(shopify_fake):
    ctx = make_ctx(shopify_fake, access_token="")
    with pytest.raises(AuthError):
        ShopifyClient(ctx).execute(SHOP)
    assert shopify_fake.requests == []


def test_unknown_api_version_is_permanent(shopify_fake):
    client = ShopifyClient(make_ctx(shopify_fake), api_version="2019-04")
    with pytest.raises(ConnectorError) as caught:
        client.execute(SHOP)
    assert caught.value.permanent and caught.value.status == 404


def test_http_429_honours_retry_after(shopify_fake):
    shopify_fake.throttle_next(retry_after=3)
    with pytest.raises(RateLimited) as caught:
        ShopifyClient(make_ctx(shopify_fake), max_attempts=1).execute(SHOP)
    assert caught.value.retry_after == 3.0 and not caught.value.permanent and caught.value.status == 429


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_transient(shopify_fake, status):
    shopify_fake.fail_next(status=status, body=b"<html>oops</html>")
    with pytest.raises(ConnectorError) as caught:
        ShopifyClient(make_ctx(shopify_fake), max_attempts=1).execute(SHOP)
    assert not caught.value.permanent and caught.value.status == status


def test_transient_errors_are_retried_with_backoff(shopify_fake, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", waits.append)
    shopify_fake.fail_next(status=503, times=2)
    data = ShopifyClient(make_ctx(shopify_fake)).execute(SHOP)
    assert data["shop"]["name"] and len(shopify_fake.requests) == 3
    assert waits == [1.0, 2.0]  # CHANNELS_HTTP_BACKOFF doubling


def test_throttled_is_retried_after_the_computed_wait(shopify_fake, monkeypatch):
    waits: list[float] = []
    clock = [0.0]
    shopify_fake._monotonic = lambda: clock[0]
    shopify_fake._bucket_at = 0.0
    shopify_fake._available = 0.0

    def wait(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr("aftersales.channels.http.wait_seconds", wait)
    data = ShopifyClient(make_ctx(shopify_fake), monotonic=lambda: clock[0]).execute(SHOP)
    assert data["shop"]["name"]
    assert waits == [0.1]  # 1 point missing at 50/s: 0.02 s, rounded up to the 0.1 s floor
    assert [c["throttled"] for c in shopify_fake.graphql_calls] == [True, False]


def test_malformed_body_is_transient(shopify_fake):
    shopify_fake.fail_next(status=200, body=b'{"data": {"shop": ')
    with pytest.raises(ConnectorError) as caught:
        ShopifyClient(make_ctx(shopify_fake), max_attempts=1).execute(SHOP)
    assert not caught.value.permanent and "not JSON" in str(caught.value)
    shopify_fake.fail_next(status=200, body=[1, 2])
    with pytest.raises(ConnectorError, match="not an object"):
        ShopifyClient(make_ctx(shopify_fake), max_attempts=1).execute(SHOP)


def test_dropped_connection_is_transient(shopify_fake):
    shopify_fake.drop_next()
    with pytest.raises(ConnectorError) as caught:
        ShopifyClient(make_ctx(shopify_fake), max_attempts=1).execute(SHOP)
    assert not caught.value.permanent


def test_invalid_query_is_permanent(shopify_fake):
    with pytest.raises(ConnectorError) as caught:
        ShopifyClient(make_ctx(shopify_fake)).execute("{ shop { name bogusField } }")
    assert caught.value.permanent and "bogusField" in str(caught.value)


def test_throttled_query_gives_the_computed_wait(shopify_fake):
    clock = [0.0]
    shopify_fake._monotonic = lambda: clock[0]
    shopify_fake._available = 100.0
    shopify_fake._bucket_at = 0.0
    client = ShopifyClient(make_ctx(shopify_fake), monotonic=lambda: clock[0], sleep=lambda s: None, max_attempts=1)
    with pytest.raises(RateLimited) as caught:
        client.execute(operations.ORDERS_QUERY, {"first": operations.ORDERS_PAGE_SIZE, "query": None})
    # requested 572 points, 100 available, restored at 50/s: (572 - 100) / 50 = 9.44 s
    assert caught.value.code == "THROTTLED"
    assert caught.value.retry_after == pytest.approx(9.5, abs=0.1)
    assert shopify_fake.graphql_calls[-1]["throttled"] is True


def test_client_waits_for_the_bucket_it_was_told_about(shopify_fake):
    clock = [0.0]
    slept: list[float] = []
    shopify_fake._monotonic = lambda: clock[0]
    shopify_fake._bucket_at = 0.0

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    client = ShopifyClient(make_ctx(shopify_fake), monotonic=lambda: clock[0], sleep=sleep)
    client.execute(SHOP)  # learns: 1 point, bucket nearly full
    shopify_fake._available = 1.5  # another app drained the shared bucket
    client.execute(SHOP)
    assert client.last_cost["throttleStatus"]["currentlyAvailable"] == pytest.approx(0.5, abs=0.01)
    client.execute(SHOP)  # 1 point needed, 0.5 known available: wait 0.01 s for the 0.5 missing
    assert slept == [pytest.approx(0.01, abs=0.001)]
    clock[0] += 100
    client.execute(SHOP)
    assert len(slept) == 1  # restored meanwhile: no wait


def test_long_waits_are_left_to_the_engine(shopify_fake):
    clock = [0.0]
    slept: list[float] = []
    shopify_fake._monotonic = lambda: clock[0]
    shopify_fake._bucket_at = 0.0
    client = ShopifyClient(make_ctx(shopify_fake), monotonic=lambda: clock[0], sleep=slept.append)
    variables = {"first": operations.ORDERS_PAGE_SIZE, "query": None}
    client.execute(operations.ORDERS_QUERY, variables)  # learns the document's requested cost (572)
    shopify_fake._available = 1.0
    client.execute(SHOP)  # learns the bucket is empty now
    calls = len(shopify_fake.requests)
    with pytest.raises(RateLimited) as caught:
        client.execute(operations.ORDERS_QUERY, variables)
    assert caught.value.retry_after == pytest.approx(572 / 50, abs=0.1)
    assert len(shopify_fake.requests) == calls  # not sent: it would only be throttled
    assert slept == []
