"""Mark shipped from the ticket in a real browser, at 1280 and 390 px (issue 12): the order panel of a
TikTok Shop ticket offers "Mark shipped" (its connector can; a mailbox store's order panel does
not), the form refuses a tracking number with a space naming the field, then marks the order shipped
on the fake TikTok Shop; back on the ticket the shipment shows "Marketplace told". No CSP violation,
no horizontal scrolling. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.catalog.models import Order
from aftersales.channels.base import Stream
from aftersales.channels.connectors.tiktok.fake import TikTokFake
from aftersales.channels.connectors.tiktok.tests.conftest import load
from aftersales.channels.sync import sync_stream
from aftersales.testing.factories import OrderFactory, StoreFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page: Any, name: str) -> None:
    if folder := os.environ.get("SCREENSHOT_DIR"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_mark_shipped_from_the_ticket(live_server, page, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda seconds: None)
    world = build_world()
    with TikTokFake().running() as fake:
        assert isinstance(fake, TikTokFake)
        fake.add_order(
            {**load("order.json"), "update_time": int((datetime.now(UTC) - timedelta(minutes=5)).timestamp())}
        )
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
        assert sync_stream(store_id=shop.pk, stream=Stream.ORDERS).status == "succeeded"
        order = Order.objects.get(store=shop)
        ticket = world.ticket(store=shop, order=order, customer=order.customer, subject="Where is my charger?")
        mailbox = StoreFactory(organization=world.org, name="Mailbox", platform="email", site="")
        mail_ticket = world.ticket(store=mailbox, order=OrderFactory(store=mailbox), subject="Order by e-mail")

        violations = watch_csp(page)
        base = live_server.url
        sign_in(page, base)
        page.goto(f"{base}/tickets/{mail_ticket.pk}/")
        expect(page.locator("#order-actions")).to_be_visible()
        expect(page.locator('[data-action="mark-shipped"]')).to_have_count(0)

        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/tickets/{ticket.pk}/")
            expect(page.locator('[data-action="mark-shipped"]')).to_be_visible()
            page.goto(f"{base}/tickets/{ticket.pk}/mark-shipped/")
            page.fill("input[name=carrier]", "USPS")
            page.fill("input[name=tracking_number]", "9400 1118")
            page.locator("#mark-shipped-form button[type=submit]").click()
            expect(page.locator('[data-error="tracking_number"]')).to_contain_text("no spaces")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            _shot(page, f"mark-shipped-form-{width}")
        assert fake.requests_to(f"/fulfillment/202309/orders/{order.external_id}/packages") == []

        page.fill("input[name=tracking_number]", "9400111899223344556677")
        page.locator("#mark-shipped-form button[type=submit]").click()
        expect(page.locator('[data-marketplace="succeeded"]')).to_contain_text("Marketplace told")
        expect(page.locator("#order-panel .shipment")).to_contain_text("9400111899223344556677")
        [package] = fake.requests_to(f"/fulfillment/202309/orders/{order.external_id}/packages")
        assert package.json()["tracking_number"] == "9400111899223344556677"
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/tickets/{ticket.pk}/")
            page.locator("#order-panel").scroll_into_view_if_needed()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            _shot(page, f"mark-shipped-done-{width}")
        assert violations == []
