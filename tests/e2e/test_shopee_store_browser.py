"""A Shopee store's connection page in a real browser, at 1280 and 390 px (issue 12, Shopee): the
streams synced from the fake Shopee, the capabilities, the credentials form (secrets only as set),
"Test connection" answered by Shopee, the webhook address; a store whose shop authorisation was
cancelled shows the sync paused with Shopee's words. No Content-Security-Policy violation, no
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
from aftersales.channels.connectors.shopee.fake import ShopeeFake
from aftersales.channels.connectors.shopee.tests.conftest import load
from aftersales.channels.sync import sync_stream
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fake() -> Iterator[ShopeeFake]:
    with ShopeeFake().running() as server:
        assert isinstance(server, ShopeeFake)
        yield server


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _ago(minutes: int) -> int:
    return int((datetime.now(UTC) - timedelta(minutes=minutes)).timestamp())


def test_shopee_store_page(live_server, page, fake, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda seconds: None)
    world = build_world()
    order = load("order.json")
    order["update_time"] = _ago(30)
    fake.add_order(order)
    chat = load("conversation.json")
    chat["messages"][0]["created_timestamp"], chat["messages"][1]["created_timestamp"] = _ago(20), _ago(19)
    fake.add_conversation(chat["conversation"], chat["messages"])
    item = load("return.json")
    item["update_time"] = _ago(10)
    fake.add_return(item)
    shop = StoreFactory(
        organization=world.org,
        name="Shopee SG",
        platform="shopee",
        site="shopee.sg",
        currency="SGD",
        external_id=str(fake.shop_id),
        endpoint_url=fake.url,
        credentials=fake.credentials(dispute_email="ops@gadgets.example"),
    )
    for stream in (Stream.ORDERS, Stream.MESSAGES, Stream.RETURNS):
        assert sync_stream(store_id=shop.pk, stream=stream).status == "succeeded"
    revoked = ShopeeFake()
    revoked.revoked = True
    with revoked.running():
        cancelled = StoreFactory(
            organization=world.org,
            name="Shopee MY",
            platform="shopee",
            site="shopee.com.my",
            currency="MYR",
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
        expect(page.locator('#streams [data-stream="messages"]')).to_contain_text("2 / 0 / 0 / 0")
        expect(page.locator('#streams [data-stream="returns"]')).to_contain_text("1 / 0 / 0 / 0")
        for capability in ("pull_orders", "pull_messages", "pull_returns", "send_message", "decide_return"):
            expect(page.locator(f'[data-capability="{capability}"]')).to_have_attribute("data-supported", "yes")
        expect(page.locator('[data-capability="mark_shipped"]')).to_have_attribute("data-supported", "no")
        expect(page.locator('[data-credential="partner_key"] [data-set="set"]')).to_be_visible()
        expect(page.locator('[data-credential="refresh_token"] [data-set="set"]')).to_be_visible()
        expect(page.locator("[data-webhook]")).to_have_value(f"{base}/hooks/shopee/{shop.sync.webhook_token}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, f"shopee-store-{width}")
        page.goto(f"{base}/settings/stores/{cancelled.pk}/connection/")
        expect(page.locator("#paused")).to_contain_text("The shop authorization has been cancelled")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, f"shopee-paused-{width}")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/settings/stores/{shop.pk}/connection/")
    page.locator("#connection button[type=submit]").click()
    expect(page.locator('[data-check="ok"]')).to_contain_text("Shopee answered: shop Gadgets SG (SG)")
    _shot(page, "shopee-test-connection-1280")
    assert b"shopee-test-partner-key" not in page.content().encode()
    assert violations == []
