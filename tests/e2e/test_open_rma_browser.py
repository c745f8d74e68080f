"""The "Open RMA" button of a marketplace return request on the ticket page, in a real browser: shown
beside the request (1280 and 390 px, no sideways scrolling), one click opens the RMA's page, and the
ticket then shows the RMA's number instead of the button. Set E2E_SCREENSHOTS=<dir> to keep
screenshots."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.returns.models import Rma
from aftersales.returns.services import ReturnLineData, ReturnRequestData, return_request_upsert
from aftersales.returns.tests.rma_fixtures import delivered_order, first_line
from aftersales.testing.personas import build_world

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def test_open_rma_from_the_marketplace_request(live_server, page):
    world = build_world()
    store = world.store_us
    order = delivered_order(world, store=store, lines=(("home", "40.00", 1, "USD"),))
    line = first_line(order)
    result = return_request_upsert(
        store=store,
        data=ReturnRequestData(
            external_id="RR-E2E-1",
            kind="return",
            status="Pending",
            platform_state="open",
            created_at=now() - timedelta(days=1),
            updated_at=now() - timedelta(days=1),
            order_external_id=order.external_id,
            buyer_external_id="buyer-e2e",
            reason="changed_mind",
            buyer_comment="Too small.",
            lines=[ReturnLineData(sku=line.sku, quantity=1)],
        ),
        actor=Actor.connector(store_id=store.pk, platform=store.platform),
    )
    assert result.ticket_id is not None
    page.set_default_timeout(60_000)  # a loaded machine is slow on the first page
    sign_in(page, live_server.url, "alice")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/tickets/{result.ticket_id}/")
        button = page.locator('#return-requests-panel [data-action="open-rma"]')
        expect(button).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, f"open-rma-button-{width}.png")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator('#return-requests-panel [data-action="open-rma"]').click()
    page.wait_for_load_state("networkidle")
    rma = Rma.objects.get(return_request_id=result.return_request.pk)
    assert page.url.endswith(f"/returns/{rma.pk}/")
    expect(page.locator("body")).to_contain_text(rma.number)
    _shot(page, "open-rma-opened-1280.png")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/tickets/{result.ticket_id}/")
        panel = page.locator("#return-requests-panel")
        expect(panel.locator(f"[data-rma-of-request] >> text={rma.number}")).to_be_visible()
        expect(panel.locator('[data-action="open-rma"]')).to_have_count(0)
        _shot(page, f"open-rma-done-{width}.png")
