"""The ticket page shows the triage of the latest inbound message (intent, urgency, entities, why a
human decides) at desktop and phone widths, without sideways scrolling. Set E2E_SCREENSHOTS=<dir> to
keep screenshots (1280 and 390 px)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.testing.personas import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_triage_panel_on_the_ticket(live_server, page):
    world = build_world()
    result = message_ingest(
        inbound=InboundMessage(
            store=world.store_us,
            external_id="triage-e2e-1",
            body="The vase arrived in pieces, the box was crushed, you idiots. Order 113-4455667-7889900, paid $89.90",
            customer_external_id="buyer-triage",
        )
    )  # committed (transactional test): the subscribers ran the triage task (Huey immediate)
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/tickets/{result.ticket.pk}/")
        panel = page.locator("#triage-panel")
        expect(panel).to_have_attribute("data-intent", "damaged_item")
        expect(panel).to_contain_text("113-4455667-7889900")
        expect(panel).to_contain_text("$89.90")
        expect(panel.locator("[data-needs-human]")).to_contain_text("abusive language")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        folder = os.environ.get("E2E_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"triage-panel-{width}.png"), full_page=True)
