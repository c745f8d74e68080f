"""The Shopify test fixtures, shared by every test that talks to the local Shopify fake (the
connector's tests, the returns' label and refund tests): registered for the whole suite by the root
conftest.py (`pytest_plugins`).

- `shopify_fake`: a running ShopifyFake, the connector's throttle state reset before and after;
- `recorded_waits`: backoff, Retry-After and throttle waits recorded instead of slept;
- `shopify_store`: a store of the world's organization connected to the fake with an access token;
- `shopify_store_for(fake, ...)`: the same store for any organization, or with the app's client
  credentials instead of a token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aftersales.channels.connectors.shopify.client import reset_throttle_state
from aftersales.channels.connectors.shopify.fake import ShopifyFake

from .connectors import record_waits


def shopify_store_for(fake: ShopifyFake, *, client_credentials: bool = False, **fields: Any) -> Any:
    """A Shopify store connected to `fake` (an access token, or with `client_credentials` the app's
    client id and secret); `fields` go to StoreFactory (organization=...)."""
    from aftersales.testing.factories import StoreFactory

    secret = (
        {"client_id": fake.client_id, "client_secret": fake.client_secret}
        if client_credentials
        else {"access_token": fake.access_token, "client_secret": fake.client_secret}
    )
    return StoreFactory(
        platform="shopify",
        site=fake.shop,
        currency="EUR",
        endpoint_url=fake.url,
        credentials={"shop": fake.shop, **secret},
        **fields,
    )


@pytest.fixture
def shopify_fake() -> Iterator[ShopifyFake]:
    reset_throttle_state()
    fake = ShopifyFake()
    with fake.running():
        yield fake
    reset_throttle_state()


@pytest.fixture
def recorded_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return record_waits(monkeypatch)


@pytest.fixture
def shopify_store(world: Any, shopify_fake: ShopifyFake) -> Any:
    """A Shopify store of the world's organization, connected to the running fake."""
    return shopify_store_for(shopify_fake, organization=world.org)
