"""Shopify stores connected with an app's client credentials (issue 9, Shopify: connecting a store).
Since legacy custom apps stopped being created in the Shopify admin, a seller creates an app for their
own store in the Dev Dashboard and gives its client id and secret: the connector gets access tokens
with the client credentials grant (shopifyapp's exchange_using_client_credentials), saves them with
their expiry, fetches a new one when it is due or refused, and a wrong pair pauses the store with
Shopify's words. Against the Shopify fake, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aftersales.catalog.models import Order
from aftersales.channels.base import Stream
from aftersales.channels.connectors.shopify.fake import ShopifyFake
from aftersales.channels.credentials import check_platform_credentials
from aftersales.channels.models import StoreSync, SyncRunStatus
from aftersales.channels.sync import sync_stream
from aftersales.core.errors import ValidationFailed
from aftersales.testing.shopify import shopify_store_for

pytestmark = pytest.mark.django_db

SINCE = datetime.now(UTC) - timedelta(days=2)
TOKEN_PATH = "/admin/oauth/access_token"


@pytest.fixture
def store(shopify_fake):  # type: ignore[no-untyped-def]
    return shopify_store_for(shopify_fake, client_credentials=True)


def _sync(store) -> object:  # type: ignore[no-untyped-def]
    return sync_stream(store_id=store.pk, stream=Stream.ORDERS, since=SINCE, sleep=lambda s: None)


def test_the_schema_takes_client_credentials_instead_of_a_token() -> None:
    ok = check_platform_credentials("shopify", {"shop": "x.myshopify.com", "client_id": "i", "client_secret": "s"})
    assert "access_token" not in ok
    with pytest.raises(ValidationFailed) as missing:
        check_platform_credentials("shopify", {"shop": "x.myshopify.com", "client_id": "i"})
    assert missing.value.field == "credentials.client_secret"
    assert check_platform_credentials("shopify", {"shop": "x.myshopify.com", "access_token": "shpat_1"})


def test_a_token_is_fetched_saved_and_fetched_again_when_due(shopify_fake: ShopifyFake, store) -> None:  # type: ignore[no-untyped-def]
    order = shopify_fake.add_order(lines=[("MUG-BLUE", 1, "12.50")], email="lena@example.de")
    run = _sync(store)
    assert run.status == SyncRunStatus.SUCCEEDED and run.created == 1, run.error
    assert Order.objects.filter(store=store, external_id=order["legacyResourceId"]).exists()
    [grant] = shopify_fake.requests_to(TOKEN_PATH)
    assert grant.json() == {
        "client_id": shopify_fake.client_id,
        "client_secret": shopify_fake.client_secret,
        "grant_type": "client_credentials",
    }
    store.refresh_from_db()
    creds = store.credentials
    assert creds["access_token"] == shopify_fake.access_token and creds["access_token_expires_at"]
    graphql = [r for r in shopify_fake.requests if r.path.endswith("graphql.json")]
    assert {r.headers["x-shopify-access-token"] for r in graphql} == {shopify_fake.access_token}

    # still valid: no new grant
    _sync(store)
    assert shopify_fake.client_credentials_grants == 1
    # due: a new token before the calls
    store.credentials = {**creds, "access_token_expires_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}
    store.save()
    assert _sync(store).status == SyncRunStatus.SUCCEEDED
    assert shopify_fake.client_credentials_grants == 2
    store.refresh_from_db()
    assert store.credentials["access_token"] == shopify_fake.access_token != creds["access_token"]


def test_a_refused_token_is_replaced_once(shopify_fake: ShopifyFake, store) -> None:  # type: ignore[no-untyped-def]
    shopify_fake.add_order(lines=[("LAMP-1", 1, "49.00")], email="mario@example.it")
    assert _sync(store).status == SyncRunStatus.SUCCEEDED
    shopify_fake.access_token = "shpat_rotated_elsewhere"  # Shopify no longer accepts the one we saved
    assert _sync(store).status == SyncRunStatus.SUCCEEDED
    assert shopify_fake.client_credentials_grants == 2


def test_a_wrong_secret_pauses_the_store_with_shopifys_words(shopify_fake: ShopifyFake, store) -> None:  # type: ignore[no-untyped-def]
    store.credentials = {**store.credentials, "client_secret": "not-the-secret"}
    store.save()
    run = _sync(store)
    assert run.status == SyncRunStatus.PAUSED
    sync = StoreSync.objects.get(store=store)
    assert sync.paused and "client id and secret" in sync.paused_reason
    assert shopify_fake.requests_to(r"/admin/api/.*") == []
