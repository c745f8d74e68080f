"""Expiring offline tokens renewed with shopifyapp's refresh_access_token against the fake."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from aftersales.channels.base import AuthError, Stream
from aftersales.channels.connectors.shopify import oauth
from aftersales.channels.connectors.shopify.connector import ShopifyConnector

from .conftest import make_ctx


def expiring_ctx(fake, saved: list, *, expires: datetime, **extra):  # type: ignore[no-untyped-def]
    ctx = make_ctx(
        fake,
        client_id=fake.client_id,
        refresh_token=fake.refresh_token,
        access_token_expires_at=expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **extra,
    )
    return dataclasses.replace(ctx, save_credentials=saved.append)


def test_non_expiring_tokens_are_left_alone(shopify_fake):
    assert not oauth.needs_refresh(make_ctx(shopify_fake))


def test_a_token_about_to_expire_is_renewed_and_saved_before_the_call(shopify_fake):
    saved: list = []
    ctx = expiring_ctx(shopify_fake, saved, expires=datetime.now(UTC) + timedelta(seconds=30))
    shopify_fake.access_token = "shpat_rotated_elsewhere"  # the old token no longer works
    shopify_fake.add_order()
    page = ShopifyConnector().pull(ctx, Stream.ORDERS, None, None)
    assert len(page.records) == 1
    (token_request,) = shopify_fake.requests_to("/admin/oauth/access_token")
    assert json.loads(token_request.body) == {
        "client_id": shopify_fake.client_id,
        "client_secret": shopify_fake.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": "shprt_fake_1",
    }
    assert token_request.headers["host"].startswith("127.0.0.1")
    (update,) = saved
    assert update["access_token"] == shopify_fake.access_token == "shpat_fake_token_2"
    assert update["refresh_token"] == "shprt_fake_2"
    assert datetime.fromisoformat(update["access_token_expires_at"].replace("Z", "+00:00")) > datetime.now(
        UTC
    ) + timedelta(minutes=59)
    graphql = shopify_fake.requests_to(r"/admin/api/.*")
    assert graphql[-1].headers["x-shopify-access-token"] == "shpat_fake_token_2"


def test_a_401_renews_once_then_retries(shopify_fake):
    saved: list = []
    ctx = expiring_ctx(shopify_fake, saved, expires=datetime.now(UTC) + timedelta(hours=1))
    shopify_fake.access_token = "shpat_revoked_early"
    check = ShopifyConnector().test_connection(ctx)
    assert check.ok and len(saved) == 1


def test_a_refused_refresh_token_is_an_auth_error(shopify_fake):
    saved: list = []
    ctx = expiring_ctx(shopify_fake, saved, expires=datetime.now(UTC) - timedelta(minutes=1))
    shopify_fake.refresh_token = "shprt_revoked"
    with pytest.raises(AuthError) as caught:
        ShopifyConnector().pull(ctx, Stream.ORDERS, None, None)
    assert caught.value.permanent and "invalid_grant" in str(caught.value)
    assert saved == []
