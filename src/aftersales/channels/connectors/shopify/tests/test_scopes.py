"""The access scopes a merchant granted our Shopify app (connectors/shopify/scopes.py,
channels/scopes.py), against the Shopify fake: read with currentAppInstallation.accessScopes (the
exact query, valid against the published Admin schema) after an install and on each orders sync,
stored on the store's StoreSync, the missing ones shown on the store page with the features they
disable, and those features refused before any call with a message naming the scope."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from graphql import parse, validate

from aftersales.channels.base import (
    Capability,
    ConnectorError,
    RefundRequest,
    ReturnDecision,
    ReturnDecisionKind,
    ReturnKind,
    ShipmentConfirmation,
)
from aftersales.channels.connectors.shopify.auth import SCOPES
from aftersales.channels.connectors.shopify.connector import ShopifyConnector
from aftersales.channels.connectors.shopify.fake import ShopifyFake
from aftersales.channels.connectors.shopify.schema import admin_schema
from aftersales.channels.connectors.shopify.scopes import ACCESS_SCOPES_QUERY, NEEDS
from aftersales.channels.context import store_context
from aftersales.channels.models import StoreSync
from aftersales.channels.scopes import require_scopes, scope_gaps, store_scopes_refresh
from aftersales.channels.tasks import sync_store_stream

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(shopify_fake: ShopifyFake) -> ShopifyFake:
    return shopify_fake


@pytest.fixture
def store(shopify_store: Any) -> Any:
    return shopify_store


def _page(world: Any, store: Any) -> str:
    client = Client()
    client.force_login(world.admin)
    response = client.get(reverse("web:settings_store_connection", args=[store.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_query_is_valid_and_the_needs_are_scopes_we_ask_for() -> None:
    assert validate(admin_schema(), parse(ACCESS_SCOPES_QUERY)) == []
    assert all(set(scopes) <= set(SCOPES) for scopes in NEEDS.values())


def test_a_full_grant_disables_nothing(world: Any, store: Any, fake: ShopifyFake) -> None:
    assert store_scopes_refresh(store) == frozenset(fake.granted_scopes)
    assert fake.graphql_calls[-1]["query"] == ACCESS_SCOPES_QUERY  # the exact request
    sync = StoreSync.objects.get(store=store)
    assert sync.granted_scopes == sorted(fake.granted_scopes) and sync.scopes_checked_at is not None
    assert scope_gaps("shopify", sync.granted_scopes) == []
    assert "data-scope-gaps" not in _page(world, store)


def test_missing_scopes_are_shown_and_their_features_refused_before_any_call(
    world: Any, store: Any, fake: ShopifyFake
) -> None:
    # Never read: nothing is refused (Shopify's own answer decides).
    require_scopes(store_context(store), NEEDS, Capability.DECIDE_RETURN)
    fake.granted_scopes = ["read_orders", "read_returns", "read_fulfillments", "read_customers"]
    # Read on each orders sync.
    sync_store_stream.call_local(store.pk, "orders")
    assert StoreSync.objects.get(store=store).granted_scopes == sorted(fake.granted_scopes)
    assert fake.graphql_calls[-1]["query"] == ACCESS_SCOPES_QUERY
    html = _page(world, store)
    assert "data-scope-gaps" in html
    assert '<li data-scope-gap="decide_return">Decide returns: <span class="mono">write_returns</span></li>' in html
    assert '<li data-scope-gap="issue_refund">Issue refunds: <span class="mono">write_orders</span></li>' in html
    assert 'data-scope-gap="pull_orders"' not in html
    connector = ShopifyConnector()
    ctx = store_context(store, connector=connector)
    calls = len(fake.graphql_calls)
    with pytest.raises(ConnectorError) as refused:
        connector.decide_return(
            ctx,
            ReturnDecision(
                return_external_id="gid://shopify/Return/1", kind=ReturnKind.RETURN, decision=ReturnDecisionKind.APPROVE
            ),
        )
    assert refused.value.permanent and refused.value.code == "scope"
    assert "write_returns" in str(refused.value) and "connect the store again" in str(refused.value)
    with pytest.raises(ConnectorError, match="write_orders"):
        connector.issue_refund(
            ctx, RefundRequest(idempotency_key="k1", order_external_id="1", amount=Decimal("5.00"), currency="EUR")
        )
    assert len(fake.graphql_calls) == calls  # refused before Shopify was called
    # The merchant grants them again: the next sync reads it, nothing is missing any more.
    fake.granted_scopes = [*SCOPES]
    sync_store_stream.call_local(store.pk, "orders")
    assert "data-scope-gaps" not in _page(world, store)
    require_scopes(store_context(store), NEEDS, Capability.DECIDE_RETURN)


def test_an_unreadable_grant_keeps_the_last_one(store: Any, fake: ShopifyFake) -> None:
    fake.granted_scopes = ["read_orders"]
    store_scopes_refresh(store)
    store.credentials = {**store.credentials, "access_token": "revoked"}
    store.save()
    assert store_scopes_refresh(store) is None
    assert StoreSync.objects.get(store=store).granted_scopes == ["read_orders"]


def test_mark_shipped_needs_the_merchant_managed_fulfilment_order_scope(
    world: Any, store: Any, fake: ShopifyFake
) -> None:
    """fulfillmentCreate works on fulfillment orders, which the Admin schema governs by
    write_merchant_managed_fulfillment_orders (the seller's own locations): a grant without it is
    refused before any call, naming the scope; with it, the exact mutation goes out."""
    from datetime import UTC, datetime

    from aftersales.channels.connectors.shopify import operations

    assert NEEDS[Capability.MARK_SHIPPED] == ("write_merchant_managed_fulfillment_orders",)
    assert {"write_merchant_managed_fulfillment_orders", "write_third_party_fulfillment_orders"} <= set(SCOPES)
    order = fake.add_order(lines=[("A", 2, "10.00")])
    shipment = ShipmentConfirmation(
        order_external_id=order["legacyResourceId"],
        carrier="DHL",
        tracking_number="JJD0002",
        shipped_at=datetime(2026, 11, 22, 8, tzinfo=UTC),
    )
    connector = ShopifyConnector()
    fake.granted_scopes = [s for s in SCOPES if s != "write_merchant_managed_fulfillment_orders"]
    store_scopes_refresh(store)
    html = _page(world, store)
    assert (
        '<li data-scope-gap="mark_shipped">Mark orders shipped: '
        '<span class="mono">write_merchant_managed_fulfillment_orders</span></li>'
    ) in html
    calls = len(fake.graphql_calls)
    with pytest.raises(ConnectorError) as refused:
        connector.mark_shipped(store_context(store, connector=connector), shipment)
    assert refused.value.permanent and refused.value.code == "scope"
    assert "write_merchant_managed_fulfillment_orders" in str(refused.value)
    assert "connect the store again" in str(refused.value)
    assert len(fake.graphql_calls) == calls and not order["fulfillments"]  # Shopify was not called
    fake.granted_scopes = [*SCOPES]
    store_scopes_refresh(store)
    receipt = connector.mark_shipped(store_context(store, connector=connector), shipment)
    fulfillment_order = order["fulfillmentOrders"][0]
    assert fake.graphql_calls[-1]["query"] == operations.FULFILLMENT_CREATE_MUTATION
    assert fake.graphql_calls[-1]["variables"] == {
        "fulfillment": {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": fulfillment_order["id"],
                    "fulfillmentOrderLineItems": [{"id": fulfillment_order["lineItems"][0]["id"], "quantity": 2}],
                }
            ],
            "trackingInfo": {"company": "DHL", "number": "JJD0002"},
            "notifyCustomer": True,
        }
    }
    assert receipt.external_id == order["fulfillments"][0]["id"].rsplit("/", 1)[-1]
