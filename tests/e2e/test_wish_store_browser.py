"""A Wish store's connection page in a real browser, at 1280 and 390 px (issue 12, Wish): the orders
and tickets synced from the fake Wish, the capabilities, the credentials (secrets only as set), "Test
connection"; a store whose authorisation was revoked shows the sync paused with Wish's words. No
Content-Security-Policy violation, no horizontal scrolling. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.channels.base import Stream
from aftersales.channels.connectors.wish.fake import WishFake, iso_ago
from aftersales.channels.connectors.wish.tests.conftest import load
from aftersales.channels.sync import sync_stream
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_wish_store_page(live_server, page, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda seconds: None)
    world = build_world()
    folder = os.environ.get("SCREENSHOT_DIR")
    with WishFake().running() as fake, WishFake().running() as revoked:
        assert isinstance(fake, WishFake) and isinstance(revoked, WishFake)
        fake.add_order({**load("order.json"), "updated_at": iso_ago(30)})
        fake.add_ticket({**load("ticket.json"), "updated_at": iso_ago(20)})
        stores = []
        for server, name in ((fake, "Wish"), (revoked, "Wish (old app)")):
            stores.append(
                StoreFactory(
                    organization=world.org,
                    name=name,
                    platform="wish",
                    site="wish.com",
                    currency="USD",
                    endpoint_url=server.url,
                    credentials=server.credentials(),
                )
            )
        shop, cancelled = stores
        for stream in (Stream.ORDERS, Stream.MESSAGES):
            assert sync_stream(store_id=shop.pk, stream=stream).status == "succeeded"
        revoked.revoked = True
        assert sync_stream(store_id=cancelled.pk, stream=Stream.ORDERS).status == "paused"

        violations = watch_csp(page)
        base = live_server.url
        sign_in(page, base)
        shots = []
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/settings/stores/{shop.pk}/connection/")
            expect(page.locator('#streams [data-stream="orders"]')).to_contain_text("1 / 0 / 0 / 0")
            expect(page.locator('#streams [data-stream="messages"]')).to_contain_text("1 / 0 / 0 / 0")
            for capability, supported in (("send_message", "yes"), ("issue_refund", "yes"), ("decide_return", "no")):
                expect(page.locator(f'[data-capability="{capability}"]')).to_have_attribute("data-supported", supported)
            expect(page.locator('[data-credential="client_secret"] [data-set="set"]')).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            shots.append(f"wish-store-{width}")
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(folder) / f"{shots[-1]}.png"), full_page=True)
            page.goto(f"{base}/settings/stores/{cancelled.pk}/connection/")
            expect(page.locator("#paused")).to_contain_text("The merchant has revoked this app's authorization")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            if folder:
                page.screenshot(path=str(Path(folder) / f"wish-paused-{width}.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{base}/settings/stores/{shop.pk}/connection/")
        page.locator("#connection button[type=submit]").click()
        expect(page.locator('[data-check="ok"]')).to_contain_text("Wish answered the ticket list")
        assert fake.client_secret.encode() not in page.content().encode()
        assert violations == []
