"""Settings → Marketplace apps in a real browser: registering Shopee's app (a refused partner id
named next to the field, nothing saved), the secret shown only as set with its fingerprint, the
redirect URL to copy, and a Shopee store's page saying its app keys come from the app; no
Content-Security-Policy violation; at a desktop and a phone width. Set SCREENSHOT_DIR to keep the
screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.channels.marketplace_apps import fingerprint
from aftersales.channels.models import MarketplaceApp
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import open_settings
from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_marketplace_apps_settings(live_server, page, width):
    world = build_world()
    store = StoreFactory(organization=world.org, platform="shopee", site="shopee.sg", name="Shopee SG", credentials={})
    violations = watch_csp(page)
    page.set_default_timeout(60_000)  # a loaded machine: the first pages of the live server are slow
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    open_settings(page, base, "/settings/marketplace-apps/")
    shopee = page.locator("#app-shopee")
    expect(shopee).to_have_attribute("data-configured", "no")
    expect(shopee.locator("[data-redirect-uri]")).to_have_value(
        "http://127.0.0.1:8000/settings/stores/authorization/callback/"
    )
    shopee.locator("input[name=partner_id]").fill("not-a-number")
    shopee.locator("input[name=partner_key]").fill("shpk-browser-secret")
    shopee.locator("select[name=environment]").select_option("sandbox")
    shopee.locator("button.btn-primary").click()
    expect(page.locator('#app-shopee [data-error="credentials.partner_id"]')).to_be_visible()
    assert not MarketplaceApp.objects.exists()
    page.locator("#app-shopee input[name=partner_id]").fill("2009001")
    page.locator("#app-shopee input[name=partner_key]").fill("shpk-browser-secret")
    page.locator("#app-shopee button.btn-primary").click()
    expect(page.locator("#app-shopee")).to_have_attribute("data-configured", "yes")
    expect(page.locator("#app-shopee [data-fingerprint]")).to_have_text(fingerprint("shpk-browser-secret"))
    expect(page.locator("#app-shopee select[name=environment]")).to_have_value("sandbox")  # kept from the refusal
    assert MarketplaceApp.objects.get().environment == "sandbox"
    assert "shpk-browser-secret" not in page.content()
    page.locator("#app-shopee").scroll_into_view_if_needed()
    _shot(page, f"marketplace-apps-{width}.png")

    page.goto(base + f"/settings/stores/{store.pk}/connection/")
    expect(page.locator('[data-from-app="partner_key"]')).to_be_visible()
    expect(page.locator("[data-missing-app-fields]")).to_have_count(0)
    page.locator("#credentials").scroll_into_view_if_needed()
    _shot(page, f"marketplace-apps-store-{width}.png")
    assert violations == []
