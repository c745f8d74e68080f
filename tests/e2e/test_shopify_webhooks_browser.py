"""A Shopify store's "Register webhooks on the platform" in a real browser at 1280 and 390 px: the
fake Shopify receives one subscription per topic at SITE_URL + the store's hook path, the page shows
what was registered, a second click adds nothing; no CSP violation, no sideways scrolling.
Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from aftersales.channels.connectors.shopify.client import reset_throttle_state
from aftersales.channels.connectors.shopify.fake import ShopifyFake
from aftersales.channels.connectors.shopify.webhooks import subscription_topics
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .test_csp_browser import watch_csp
from .test_store_connection_browser import _no_horizontal_scroll, _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shopify() -> Iterator[ShopifyFake]:
    reset_throttle_state()
    platform = ShopifyFake()
    with platform.running():
        yield platform
    reset_throttle_state()


def test_register_shopify_webhooks_from_the_store_page(live_server, page, shopify, settings):  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    world = build_world()
    store = StoreFactory(
        organization=world.org,
        name="Shopify EU",
        platform="shopify",
        site=shopify.shop,
        currency="EUR",
        endpoint_url=shopify.url,
        credentials={
            "shop": shopify.shop,
            "access_token": shopify.access_token,
            "client_secret": shopify.client_secret,
        },
    )
    violations = watch_csp(page)
    base = live_server.url
    page.goto(base + "/login/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/settings/stores/{store.pk}/connection/")
        page.locator("#webhook button[type=submit]").click()
        expect(page.locator('[data-subscriptions="ok"]')).to_be_visible()
        expect(page.locator("#webhook")).to_contain_text("ORDERS_UPDATED")
        _no_horizontal_scroll(page)
        _shot(page, f"shopify-webhooks-{width}")
    # two clicks, one subscription per topic, all at the store's address
    assert len(shopify.webhook_subscriptions) == len(subscription_topics())
    assert {w["callbackUrl"] for w in shopify.webhook_subscriptions.values()} == {
        page.locator("[data-webhook]").input_value()
    }
    assert violations == []
