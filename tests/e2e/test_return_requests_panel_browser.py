"""A ticket opened by a marketplace case shows the case beside the order in a real browser: kind, status,
amount, lines and the marketplace's respond-by deadline, at desktop and phone widths, without sideways
scrolling. Set E2E_SCREENSHOTS=<dir> to keep screenshots (1280 and 390 px)."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.returns.services import ReturnLineData, ReturnRequestData, return_request_upsert
from aftersales.testing.personas import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_case_panel_on_the_ticket(live_server, page):
    world = build_world()
    store = world.store_us
    result = return_request_upsert(
        store=store,
        data=ReturnRequestData(
            external_id="5012345678",
            kind="case",
            status="OPEN",
            created_at=now() - timedelta(days=1),
            updated_at=now() - timedelta(days=1),
            buyer_external_id="buyer-panel",
            buyer_name="Camille Martin",
            reason="ITEM_NOT_RECEIVED",
            buyer_comment="Le colis n'est jamais arrivé.",
            requested_amount=Decimal("42.50"),
            currency="USD",
            respond_by=now() + timedelta(days=2, hours=3),
            lines=[ReturnLineData(sku="SZG-SH-HIKE-WP", quantity=1, reason="ITEM_NOT_RECEIVED")],
        ),
        actor=Actor.connector(store_id=store.pk, platform=store.platform),
    )
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/tickets/{result.ticket_id}/")
        panel = page.locator("#return-requests-panel")
        expect(panel).to_contain_text("5012345678")
        expect(panel).to_contain_text("SZG-SH-HIKE-WP")
        expect(panel.locator("[data-respond-by]")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        folder = os.environ.get("E2E_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"case-panel-{width}.png"), full_page=True)
