"""An AliExpress store's connection page in a real browser, at 1280 and 390 px (issue 12, AliExpress):
the streams synced from the fake AliExpress, the capabilities, the credentials (secrets only as set),
"Test connection" answered by AliExpress; a store whose authorisation was revoked shows the sync paused
with AliExpress's words. No Content-Security-Policy violation, no horizontal scrolling. Screenshots go
to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.channels.base import Stream
from aftersales.channels.connectors.aliexpress.fake import AliExpressFake
from aftersales.channels.connectors.aliexpress.tests.conftest import load, ms_ago, pacific_ago
from aftersales.channels.sync import sync_stream
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page: Any, name: str) -> None:
    if folder := os.environ.get("SCREENSHOT_DIR"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _store(world: Any, fake: AliExpressFake, name: str) -> Any:
    return StoreFactory(
        organization=world.org,
        name=name,
        platform="aliexpress",
        site="aliexpress.com",
        currency="USD",
        external_id=fake.seller_login_id,
        endpoint_url=fake.url,
        credentials=fake.credentials(),
    )


def test_aliexpress_store_page(live_server, page, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda seconds: None)
    world = build_world()
    with AliExpressFake().running() as fake, AliExpressFake().running() as revoked:
        assert isinstance(fake, AliExpressFake) and isinstance(revoked, AliExpressFake)
        order = load("order.json")
        order["gmt_update"] = pacific_ago(30)
        fake.add_order(order)
        chat = load("conversation.json")
        for n, message in enumerate(chat["messages"]):
            fake.add_message(chat["relation"], {**message, "gmt_create": ms_ago(20 - n)})
        fake.add_issue({**load("issue.json"), "gmt_modified": pacific_ago(10)})
        shop = _store(world, fake, "AliExpress")
        for stream in (Stream.ORDERS, Stream.MESSAGES, Stream.RETURNS):
            assert sync_stream(store_id=shop.pk, stream=stream).status == "succeeded"
        revoked.revoked = True
        cancelled = _store(world, revoked, "AliExpress (old app)")
        assert sync_stream(store_id=cancelled.pk, stream=Stream.ORDERS).status == "paused"

        violations = watch_csp(page)
        base = live_server.url
        sign_in(page, base)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/settings/stores/{shop.pk}/connection/")
            expect(page.locator('#streams [data-stream="orders"]')).to_contain_text("1 / 0 / 0 / 0")
            expect(page.locator('#streams [data-stream="messages"]')).to_contain_text("2 / 0 / 0 / 0")
            expect(page.locator('#streams [data-stream="returns"]')).to_contain_text("1 / 0 / 0 / 0")
            for capability in ("pull_orders", "pull_messages", "pull_returns", "send_message", "issue_refund"):
                expect(page.locator(f'[data-capability="{capability}"]')).to_have_attribute("data-supported", "yes")
            for capability in ("mark_shipped", "webhooks"):
                expect(page.locator(f'[data-capability="{capability}"]')).to_have_attribute("data-supported", "no")
            expect(page.locator('[data-credential="app_secret"] [data-set="set"]')).to_be_visible()
            expect(page.locator('[data-credential="refresh_token"] [data-set="set"]')).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            _shot(page, f"aliexpress-store-{width}")
            page.goto(f"{base}/settings/stores/{cancelled.pk}/connection/")
            expect(page.locator("#paused")).to_contain_text("The specified refresh token is invalid or expired")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            _shot(page, f"aliexpress-paused-{width}")

        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{base}/settings/stores/{shop.pk}/connection/")
        page.locator("#connection button[type=submit]").click()
        expect(page.locator('[data-check="ok"]')).to_contain_text("AliExpress answered the order list")
        _shot(page, "aliexpress-test-connection-1280")
        assert fake.app_secret.encode() not in page.content().encode()
        assert violations == []
