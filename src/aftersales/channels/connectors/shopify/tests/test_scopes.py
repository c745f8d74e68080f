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
