"""A Shopify store whose merchant granted fewer access scopes than the app needs, in a real browser
at 1280 and 390 px: the Connect box lists each disabled feature with the missing scope. No CSP
violation, no sideways scrolling. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.channels.models import StoreSync
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp
from .test_store_connection_browser import _no_horizontal_scroll, _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_missing_scopes_on_the_store_page(live_server, page) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    store: Any = StoreFactory(
        organization=world.org,
        name="Gadgets Shopify",
        platform="shopify",
        site="gadgets.myshopify.com",
        credentials={"shop": "gadgets.myshopify.com", "client_id": "id", "client_secret": "s", "access_token": "t"},
    )
    StoreSync.objects.update_or_create(store=store, defaults={"granted_scopes": ["read_orders", "read_customers"]})
    violations = watch_csp(page)
    sign_in(page, live_server.url)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/settings/stores/{store.pk}/connection/#authorization")
        gaps = page.locator("[data-scope-gaps]")
        expect(gaps).to_be_visible()
        expect(gaps.locator('[data-scope-gap="decide_return"]')).to_contain_text("write_returns")
        expect(gaps.locator('[data-scope-gap="pull_returns"]')).to_contain_text("read_returns")
        _no_horizontal_scroll(page)
        gaps.scroll_into_view_if_needed()
        _shot(page, f"shopify-scopes-{width}")
    assert violations == []
