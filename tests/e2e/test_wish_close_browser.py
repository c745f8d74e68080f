"""Close a Wish ticket on Wish from the ticket page in a real browser, at 1280 and 390 px (issue 12):
the header offers "Close on Wish" for a synced Wish ticket (its connector can close), the click sends
the close to the fake Wish once and the header then shows "Closed on Wish". No CSP violation, no
horizontal scrolling. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.channels.base import Stream
from aftersales.channels.connectors.wish.fake import WishFake, iso_ago
from aftersales.channels.connectors.wish.tests.conftest import load
from aftersales.channels.sync import sync_stream
from aftersales.inbox.models import Ticket
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp
from .test_mark_shipped_browser import _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_close_a_wish_ticket_on_wish(live_server: Any, page: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda seconds: None)
    world = build_world()
    with WishFake().running() as fake:
        assert isinstance(fake, WishFake)
        record = load("ticket.json")
        record.update(opened_at=iso_ago(40), updated_at=iso_ago(40))
        record["replies"][0]["replied_at"] = iso_ago(40)
        fake.add_ticket(record)
        store = StoreFactory(
            organization=world.org,
            name="Wish US",
            platform="wish",
            site="wish.com",
            currency="USD",
            external_id=fake.merchant_id,
            endpoint_url=fake.url,
            credentials=fake.credentials(),
        )
        assert sync_stream(store_id=store.pk, stream=Stream.MESSAGES).status == "succeeded"
        ticket = Ticket.objects.get(store=store)
        close = f"/api/v3/tickets/{record['id']}"

        violations = watch_csp(page)
        base = live_server.url
        sign_in(page, base)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/tickets/{ticket.pk}/")
            expect(page.locator('[data-action="platform-close"]')).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            _shot(page, f"wish-close-offered-{width}")
        page.locator('[data-action="platform-close"]').click()
        expect(page.locator('[data-platform-close="succeeded"]')).to_be_visible()
        expect(page.locator('[data-action="platform-escalate"]')).to_have_count(0)  # closed: not offered
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, "wish-closed-390")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.reload()
        expect(page.locator('[data-platform-close="succeeded"]')).to_be_visible()
        _shot(page, "wish-closed-1280")
        assert len(fake.requests_to(close)) == 1 and fake.tickets[record["id"]]["state"] == "CLOSED"
        assert violations == []
