"""A TikTok Shop store's connection page in a real browser, at 1280 and 390 px (issue 12, TikTok Shop):
the streams synced from the fake TikTok Shop, the capabilities, the credentials form (secrets only as set),
"Test connection" answered by TikTok, the webhook address; a store whose app was deauthorised shows the
sync paused with TikTok's words. No Content-Security-Policy violation, no
horizontal scrolling. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.channels.base import Stream
from aftersales.channels.connectors.tiktok.fake import TikTokFake
from aftersales.channels.connectors.tiktok.tests.conftest import load
from aftersales.channels.sync import sync_stream
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fake() -> Iterator[TikTokFake]:
    with TikTokFake().running() as server:
        assert isinstance(server, TikTokFake)
        yield server


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _ago(minutes: int) -> int:
    return int((datetime.now(UTC) - timedelta(minutes=minutes)).timestamp())


def test_tiktok_store_page(live_server, page, fake, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda seconds: None)
    world = build_world()
    order = load("order.json")
    order["update_time"] = _ago(30)
    fake.add_order(order)
    chat = load("conversation.json")
    for n, message in enumerate(chat["messages"]):
        message["create_time"] = _ago(20 - n)
    fake.add_conversation(chat["conversation"], chat["messages"])
    item = load("return.json")
    item["update_time"] = _ago(10)
    fake.add_return(item)
    shop = StoreFactory(
        organization=world.org,
        name="TikTok Shop US",
        platform="tiktok",
        site="shop.tiktok.com/us",
        currency="USD",
        external_id=fake.shop_id,
        endpoint_url=fake.url,
        credentials=fake.credentials(),
    )
    for stream in (Stream.ORDERS, Stream.MESSAGES, Stream.RETURNS):
        assert sync_stream(store_id=shop.pk, stream=stream).status == "succeeded"
    revoked = TikTokFake()
    revoked.revoked = True
    with revoked.running():
        cancelled = StoreFactory(
            organization=world.org,
            name="TikTok Shop GB",
            platform="tiktok",
            site="tiktok.gb",
            currency="GBP",
            endpoint_url=revoked.url,
            credentials=revoked.credentials(),
        )
        assert sync_stream(store_id=cancelled.pk, stream=Stream.ORDERS).status == "paused"

    violations = watch_csp(page)
    base = live_server.url
    sign_in(page, base)

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/settings/stores/{shop.pk}/connection/")
        expect(page.locator('#streams [data-stream="orders"]')).to_contain_text("1 / 0 / 0 / 0")
        expect(page.locator('#streams [data-stream="messages"]')).to_contain_text("3 / 0 / 0 / 0")
        expect(page.locator('#streams [data-stream="returns"]')).to_contain_text("1 / 0 / 0 / 0")
        for capability in ("pull_orders", "pull_messages", "pull_returns", "send_message", "decide_return"):
            expect(page.locator(f'[data-capability="{capability}"]')).to_have_attribute("data-supported", "yes")
        expect(page.locator('[data-capability="mark_shipped"]')).to_have_attribute("data-supported", "no")
        expect(page.locator('[data-credential="app_secret"] [data-set="set"]')).to_be_visible()
        expect(page.locator('[data-credential="refresh_token"] [data-set="set"]')).to_be_visible()
        expect(page.locator("[data-webhook]")).to_have_value(f"{base}/hooks/tiktok/{shop.sync.webhook_token}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, f"tiktok-store-{width}")
        page.goto(f"{base}/settings/stores/{cancelled.pk}/connection/")
        expect(page.locator("#paused")).to_contain_text("The seller has deauthorized the app")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, f"tiktok-paused-{width}")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/settings/stores/{shop.pk}/connection/")
    page.locator("#connection button[type=submit]").click()
    expect(page.locator('[data-check="ok"]')).to_contain_text("TikTok Shop answered: shop Gadgets US (US)")
    _shot(page, "tiktok-test-connection-1280")
    assert fake.app_secret.encode() not in page.content().encode()
    assert violations == []
