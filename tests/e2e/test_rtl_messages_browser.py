"""Arabic text on the ticket page reads right to left: the buyer's message, its translation and our
Arabic reply carry dir="auto", so the browser lays each out by its own script. Set
E2E_SCREENSHOTS=<dir> to keep screenshots (1280 and 390 px)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.testing.personas import build_world
from aftersales.web.tests.test_translations import arabic_thread

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_arabic_message_and_reply_read_right_to_left(live_server, page):
    world = build_world()
    ticket, inbound, reply = arabic_thread(world)
    sign_in(page, live_server.url, "alice")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
        original = page.locator(f"#message-body-{inbound.pk}")
        expect(original).to_contain_text("وصل الشاحن")
        assert original.evaluate("e => getComputedStyle(e).direction") == "rtl"
        translation = page.locator(f"#translation-{inbound.pk} .tr-text")
        assert translation.evaluate("e => getComputedStyle(e).direction") == "ltr"
        sent = page.locator(f"#message-body-{reply.pk}")
        assert sent.evaluate("e => getComputedStyle(e).direction") == "rtl"
        page.fill("#reply-body", "شكرًا لصبرك")
        assert page.locator("#reply-body").evaluate("e => getComputedStyle(e).direction") == "rtl"
        screenshot(page, f"ticket-rtl-{width}")


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
