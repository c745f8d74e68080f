"""A Shopify store's "Register webhooks on the platform" in a real browser at 1280 and 390 px: the
fake Shopify receives one subscription per topic at SITE_URL + the store's hook path, the page shows
what was registered, a second click adds nothing; no CSP violation, no sideways scrolling.
Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from aftersales.channels.connectors.shopify.webhooks import subscription_topics
from aftersales.testing.personas import build_world
from aftersales.testing.shopify import shopify_store_for

from .conftest import sign_in
from .test_csp_browser import watch_csp
from .test_store_connection_browser import _no_horizontal_scroll, _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_shopify_webhooks_from_the_store_page(live_server, page, shopify_fake, settings):  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    world = build_world()
    store = shopify_store_for(shopify_fake, organization=world.org, name="Shopify EU")
    violations = watch_csp(page)
    base = live_server.url
    sign_in(page, base)

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/settings/stores/{store.pk}/connection/")
        page.locator("#webhook button[type=submit]").click()
        expect(page.locator('[data-subscriptions="ok"]')).to_be_visible()
        expect(page.locator("#webhook")).to_contain_text("ORDERS_UPDATED")
        _no_horizontal_scroll(page)
        _shot(page, f"shopify-webhooks-{width}")
    # two clicks, one subscription per topic, all at the store's address
    assert len(shopify_fake.webhook_subscriptions) == len(subscription_topics())
    assert {w["callbackUrl"] for w in shopify_fake.webhook_subscriptions.values()} == {
        page.locator("[data-webhook]").input_value()
    }
    assert violations == []
