"""The Shopify connector's tests: the throttle state reset around each; the fake and a store
connected to it are the suite's (aftersales.testing.shopify: shopify_fake, shopify_store)."""

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
