"""Connecting a Shopee shop and installing the Shopify app in a real browser, at 1280 and 390 px:
the store page's "Connect with ..." box (the redirect URL to register, the shop domain for Shopify),
the button goes to the platform's (local fake) consent page, which approves and sends the browser
back to our callback; the store page then says "Connected" with the shop. No CSP violation (the
form is redirected to the platform's origin), no sideways scrolling. Screenshots go to
$SCREENSHOT_DIR when set."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.catalog.models import Store
from aftersales.channels.authorization import redirect_uri
from aftersales.channels.connectors.shopee import fake_auth as shopee_auth
from aftersales.channels.connectors.shopee.fake import ShopeeFake
from aftersales.channels.connectors.shopify import fake_auth as shopify_auth
from aftersales.channels.connectors.shopify.fake import ShopifyFake
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp
from .test_store_connection_browser import _no_horizontal_scroll, _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _connect(page: Any, base: str, store: Store, name: str, *, shop: str = "") -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/settings/stores/{store.pk}/connection/#authorization")
        expect(page.locator("[data-authorization-redirect]")).to_have_value(redirect_uri())
        if shop:
            page.fill("#authorization input[name=shop]", shop)
        _no_horizontal_scroll(page)
        _shot(page, f"{name}-connect-{width}")
        page.locator("#authorization button[type=submit]").click()  # -> the platform -> our callback
        page.wait_for_load_state("networkidle")
        assert "/settings/stores/" in page.url, page.content()[:2000]
        expect(page.locator('#authorization[data-authorization="connected"]')).to_be_visible()
        _no_horizontal_scroll(page)
        _shot(page, f"{name}-connected-{width}")


def test_connect_a_shopee_shop_and_install_the_shopify_app(live_server, page, settings):  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    world = build_world()
    shopee, shopify = ShopeeFake(), ShopifyFake()
    shopee_auth.install(shopee)
    shopify_auth.install(shopify)
    with shopee.running(), shopify.running():
        shopee_store: Any = StoreFactory(
            organization=world.org,
            name="Gadgets SG",
            platform="shopee",
            site="shopee.sg",
            currency="SGD",
            credentials={"partner_id": str(shopee.partner_id), "partner_key": shopee.partner_key},
            endpoint_url=shopee.url,
        )
        shopify_store: Any = StoreFactory(
            organization=world.org,
            name="Gadgets (Shopify)",
            platform="shopify",
            site="",
            credentials={"shop": shopify.shop, "client_id": shopify.client_id, "client_secret": shopify.client_secret},
            endpoint_url=shopify.url,
        )
        violations = watch_csp(page)
        sign_in(page, live_server.url)
        _connect(page, live_server.url, shopee_store, "shopee")
        _connect(page, live_server.url, shopify_store, "shopify", shop=shopify.shop)
    shopee_store.refresh_from_db()
    assert shopee_store.credentials["shop_id"] == str(shopee.shop_id)
    shopify_store.refresh_from_db()
    assert shopify_store.credentials["access_token"] == shopify.access_token
    assert len(shopee.requests_to("/api/v2/auth/token/get")) == 2
    assert violations == []
