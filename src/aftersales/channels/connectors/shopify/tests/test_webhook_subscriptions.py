"""Registering a Shopify store's webhooks (issue 9, Shopify: webhook subscriptions): the connector
subscribes every topic the mapping understands to the store's /hooks/shopify/<token> address with
webhookSubscriptionCreate, idempotently, removes ours for topics it no longer wants, and reports
Shopify's refusal in its words; the fake then pushes to what was subscribed, through the real
endpoint on a live server. The service, the API and the store page share one path."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aftersales.catalog.models import Order
from aftersales.channels.base import Capability
from aftersales.channels.connectors.shopify import operations
from aftersales.channels.connectors.shopify.fake import ShopifyFake
from aftersales.channels.connectors.shopify.webhooks import subscription_topics
from aftersales.channels.models import RawEvent
from aftersales.channels.selectors import store_connection
from aftersales.channels.store_sync import store_webhook_url, store_webhooks_subscribe
from aftersales.channels.sync import store_sync_for
from aftersales.core.errors import Conflict, NotFound, PermissionDenied
from aftersales.testing.factories import StoreFactory
from aftersales.testing.shopify import shopify_store_for

pytestmark = pytest.mark.django_db

GRAPHQL = "/admin/api/2026-04/graphql.json"


@pytest.fixture
def store(world, shopify_fake):  # type: ignore[no-untyped-def]
    return shopify_store_for(shopify_fake, organization=world.org)


def _topics(shopify_fake: ShopifyFake) -> list[str]:
    return sorted(w["topic"] for w in shopify_fake.webhook_subscriptions.values())


def test_the_topics_are_the_ones_the_mapping_understands() -> None:
    topics = subscription_topics()
    assert {"ORDERS_CREATE", "ORDERS_UPDATED", "RETURNS_REQUEST", "RETURNS_DECLINE", "REFUNDS_CREATE"} <= topics
    assert all(t == t.upper() and "/" not in t for t in topics)


def test_the_documents_validate_against_the_published_schema() -> None:
    from graphql import parse, validate

    from aftersales.channels.connectors.shopify.schema import admin_schema

    for document in (
        operations.WEBHOOK_SUBSCRIPTIONS_QUERY,
        operations.WEBHOOK_SUBSCRIPTION_CREATE_MUTATION,
        operations.WEBHOOK_SUBSCRIPTION_DELETE_MUTATION,
    ):
        assert validate(admin_schema(), parse(document)) == []


def test_subscribe_creates_every_topic_once_and_is_idempotent(world, store, shopify_fake, settings) -> None:
    settings.SITE_URL = "http://127.0.0.1:8000/"
    url = store_webhook_url(store)
    assert url == f"http://127.0.0.1:8000/hooks/shopify/{store_sync_for(store).webhook_token}"

    first = store_webhooks_subscribe(user=world.admin, store_id=store.pk)
    assert first.ok and first.callback_url == url
    assert sorted(first.created) == sorted(subscription_topics()) and first.existing == () and first.removed == ()
    assert _topics(shopify_fake) == sorted(subscription_topics())
    assert {w["callbackUrl"] for w in shopify_fake.webhook_subscriptions.values()} == {url}
    assert {w["format"] for w in shopify_fake.webhook_subscriptions.values()} == {"JSON"}
    # The exact request Shopify received for one topic.
    creates = [c for c in shopify_fake.graphql_calls if "webhookSubscriptionCreate" in c["query"]]
    assert len(creates) == len(subscription_topics())
    assert creates[0]["variables"]["webhookSubscription"] == {"callbackUrl": url, "format": "JSON"}
    assert (
        next(r for r in shopify_fake.requests if r.path == GRAPHQL).headers["x-shopify-access-token"]
        == shopify_fake.access_token
    )

    again = store_webhooks_subscribe(user=world.admin, store_id=store.pk)
    assert again.ok and again.created == () and sorted(again.existing) == sorted(subscription_topics())
    assert len(shopify_fake.webhook_subscriptions) == len(subscription_topics())
    # the result is noted for the store page
    noted = store_connection(world.admin, store.pk).webhook_subscriptions
    assert noted is not None and noted.ok and noted.existing == again.existing


def test_ours_for_unwanted_topics_are_removed_and_others_left_alone(world, store, shopify_fake, settings) -> None:
    settings.SITE_URL = "http://127.0.0.1:8000"
    url = store_webhook_url(store)
    shopify_fake._webhook_subscribe("CUSTOMERS_CREATE", {"callbackUrl": url, "format": "JSON"})
    shopify_fake._webhook_subscribe(
        "ORDERS_CREATE", {"callbackUrl": "https://another-app.example/hook", "format": "JSON"}
    )
    result = store_webhooks_subscribe(user=world.admin, store_id=store.pk)
    assert result.ok and result.removed == ("CUSTOMERS_CREATE",)
    urls = {(w["topic"], w["callbackUrl"]) for w in shopify_fake.webhook_subscriptions.values()}
    assert ("CUSTOMERS_CREATE", url) not in urls
    assert ("ORDERS_CREATE", "https://another-app.example/hook") in urls  # another app's: untouched


def test_shopifys_refusal_comes_back_in_its_words_and_nothing_is_half_done(
    world, store, shopify_fake, settings
) -> None:
    settings.SITE_URL = "http://aftersales.example.com"  # Shopify takes only HTTPS addresses
    result = store_webhooks_subscribe(user=world.admin, store_id=store.pk)
    assert not result.ok and "Address is invalid" in result.detail
    assert shopify_fake.webhook_subscriptions == {}


def test_who_may_subscribe(world, store, shopify_fake) -> None:
    with pytest.raises(PermissionDenied):
        store_webhooks_subscribe(user=world.agent, store_id=store.pk)
    foreign = StoreFactory(
        organization=world.foreign_org, platform="shopify", credentials={"shop": "x", "access_token": "t"}
    )
    with pytest.raises(NotFound):
        store_webhooks_subscribe(user=world.admin, store_id=foreign.pk)
    no_credentials = StoreFactory(organization=world.org, platform="shopify", credentials={})
    with pytest.raises(Conflict):
        store_webhooks_subscribe(user=world.admin, store_id=no_credentials.pk)
    amazon = StoreFactory(
        organization=world.org,
        platform="amazon",
        credentials={"lwa_client_id": "a", "lwa_client_secret": "b", "refresh_token": "c"},
    )
    with pytest.raises(Conflict) as refused:
        store_webhooks_subscribe(user=world.admin, store_id=amazon.pk)
    assert refused.value.code == "not_supported"
    assert shopify_fake.webhook_subscriptions == {}


def test_the_fake_pushes_to_what_was_subscribed_through_the_live_endpoint(
    world, store, shopify_fake, settings, live_server
):
    settings.SITE_URL = live_server.url
    assert store_webhooks_subscribe(user=world.admin, store_id=store.pk).ok
    order = shopify_fake.add_order(email="buyer@example.com")
    responses = shopify_fake.push(
        "orders/updated", shopify_fake.order_webhook_body(order["legacyResourceId"]), event_id="evt-sub-1"
    )
    assert [r.status_code for r in responses] == [200]
    assert responses[0].json()["actions"] == {"created": 1}
    assert Order.objects.filter(store=store, external_id=order["legacyResourceId"]).count() == 1
    assert RawEvent.objects.filter(store=store, source="webhook", event_id="evt-sub-1").count() == 1
    assert shopify_fake.push("customers/create", {}) == []  # not subscribed: nothing sent


def test_the_api_and_the_store_page_call_the_same_service(world, store, shopify_fake, settings, client) -> None:
    settings.SITE_URL = "http://127.0.0.1:8000"
    from aftersales.accounts.services import api_token_create

    _token, token = api_token_create(user=world.admin, name="t", scopes=["read", "write", "admin"])
    answer = client.post(
        f"/api/v1/stores/{store.pk}/sync/webhooks",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["ok"] and sorted(body["created"]) == sorted(subscription_topics())

    client.force_login(world.admin)
    page = client.post(reverse("web:settings_store_webhooks", args=[store.pk]), follow=True)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-subscriptions="ok"' in text and "ORDERS_CREATE" in text
    assert len(shopify_fake.webhook_subscriptions) == len(subscription_topics())

    client.force_login(world.agent)
    assert client.post(reverse("web:settings_store_webhooks", args=[store.pk])).status_code == 403


def test_the_capability_is_declared() -> None:
    from aftersales.channels.registry import get_connector

    assert Capability.SUBSCRIBE_WEBHOOKS in get_connector("shopify").capabilities
