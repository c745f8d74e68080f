from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aftersales.channels.base import StoreContext
from aftersales.channels.connectors.shopify.client import reset_throttle_state
from aftersales.channels.connectors.shopify.fake import ShopifyFake


@pytest.fixture(autouse=True)
def _fresh_throttle_state() -> Iterator[None]:
    reset_throttle_state()
    yield
    reset_throttle_state()


@pytest.fixture
def shopify_fake() -> Iterator[ShopifyFake]:
    fake = ShopifyFake()
    with fake.running():
        yield fake


@pytest.fixture
def shopify_store(world: Any, shopify_fake: ShopifyFake) -> Any:
    """A Shopify store of the world's organization, connected to the running fake."""
    from aftersales.testing.factories import StoreFactory

    return StoreFactory(
        organization=world.org,
        platform="shopify",
        site=shopify_fake.shop,
        currency="EUR",
        endpoint_url=shopify_fake.url,
        credentials={
            "shop": shopify_fake.shop,
            "access_token": shopify_fake.access_token,
            "client_secret": shopify_fake.client_secret,
        },
    )


def make_ctx(
    fake: ShopifyFake, *, throttled: list[tuple[str, float]] | None = None, **credentials: Any
) -> StoreContext:
    creds = {"shop": fake.shop, "access_token": fake.access_token, "client_secret": fake.client_secret, **credentials}
    return StoreContext(
        store_id=1,
        organization_id=1,
        platform="shopify",
        site="",
        seller_id="",
        currency="EUR",
        credentials=creds,
        base_url=fake.url,
        throttle=(lambda bucket, cost: throttled.append((bucket, cost)))
        if throttled is not None
        else (lambda b, c: None),
    )
