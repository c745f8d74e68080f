"""Warranty in a real browser: look a phone up by IMEI (a wrong check digit is shown next to the
field), open a claim, review / approve it, send it to repair and move the repair order; the timeline
names who did what; Settings > Warranty adds a VIP term. No Content-Security-Policy violation and no
sideways scrolling at a desktop and a phone width. Set E2E_SCREENSHOTS=<dir> to keep screenshots."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.core.clock import now
from aftersales.testing.factories import OrderFactory, OrderLineFactory, ProductFactory, ShipmentFactory
from aftersales.testing.personas import build_world
from aftersales.warranty.models import WarrantyClaim, WarrantyTerm
from aftersales.warranty.services import UnitInput, units_register

from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
IMEI = "490154203237518"


def _shot(page, name: str) -> None:
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


WIDE = """() => [...document.querySelectorAll('main *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)"""


def _no_sideways_scroll(page) -> None:
    """Nothing sticks out on the right (the main navigation wraps on a phone)."""
    assert page.evaluate(WIDE) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", [1280, 390])
def test_warranty_lookup_claim_and_repair(live_server, page, width):
    world = build_world()
    phone = ProductFactory(organization=world.org, sku="PH-X1", title="Phone X1 128 GB", category="phones")
    order = OrderFactory(store=world.store_de, placed_at=now() - timedelta(days=40), ship_country="DE")
    line = OrderLineFactory(order=order, product=phone, sku="PH-X1", quantity=1)
    ShipmentFactory(order=order, status="delivered", delivered_at=now() - timedelta(days=35))
    units_register(user=world.admin, rows=[UnitInput(imei=IMEI, serial_number="R58N12AB", order_line_id=line.pk)])
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    page.goto(base + "/login/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.goto(base + "/warranty/")
    page.fill("input[name=q]", "49-015420-323751-9")
    page.click("#warranty-lookup button")
    expect(page.locator("[data-error=q]")).to_contain_text("Luhn")
    page.fill("input[name=q]", "49-015420-323751-8")
    page.click("#warranty-lookup button")
    expect(page.locator("[data-warranty=in]")).to_be_visible()
    expect(page.locator("#warranty-unit")).to_contain_text("Phone X1 128 GB")
    _shot(page, f"warranty-lookup-{width}.png")
    _no_sideways_scroll(page)

    page.fill("textarea[name=problem]", "The screen flickers after ten minutes.")
    page.click("#warranty-unit form.stack button[type=submit]")
    expect(page.locator("h1 [data-status=submitted]")).to_be_visible()
    claim = WarrantyClaim.objects.get()
    page.click("[data-action=under_review]")
    expect(page.locator("h1 [data-status=under_review]")).to_be_visible()
    page.click("[data-action=approved]")
    expect(page.locator("h1 [data-status=approved]")).to_be_visible()
    page.click("[data-action=repair]")
    expect(page.locator("h1 [data-status=repair]")).to_be_visible()
    page.click("[data-repair-action=received]")
    page.click("[data-repair-action=diagnosing]")
    page.fill("textarea[name=diagnosis]", "Display cable loose")
    page.click("[data-repair-action=repairing]")
    page.click("[data-repair-action=shipped_back]")
    expect(page.locator("[data-error]")).to_contain_text("tracking")
    page.fill("input[name=carrier]", "DHL")
    page.fill("input[name=tracking_number]", "JD014600001234")
    page.click("[data-repair-action=shipped_back]")
    expect(page.locator("#claim-timeline")).to_contain_text("JD014600001234")
    expect(page.locator("#claim-timeline")).to_contain_text("Ada")
    _no_sideways_scroll(page)
    _shot(page, f"warranty-claim-{width}.png")
    page.click("[data-repair-action=closed]")
    expect(page.locator("h1 [data-status=closed]")).to_be_visible()
    claim.refresh_from_db()
    kinds = list(claim.events.values_list("type", flat=True))
    notices = [k for k in kinds if k in ("customer_notified", "notification_skipped")]
    # six workflow rows, and the buyer's notices of the repair received / shipped back (issue 10 section 7)
    assert claim.status == "closed" and len(kinds) - len(notices) == 6 and len(notices) == 2, kinds

    page.goto(base + "/settings/warranty/")
    page.select_option("select[name=category]", "phones")
    page.select_option("select[name=customer_tier]", "vip")
    page.fill("input[name=months]", "36")
    page.click("#warranty-terms button.btn-primary")
    expect(page.locator("[data-term]")).to_have_count(1)
    page.fill("input[name=region]", "XX")
    page.fill("input[name=months]", "12")
    page.click("#warranty-terms button.btn-primary")
    expect(page.locator("[data-error=region]")).to_be_visible()
    assert WarrantyTerm.objects.count() == 1
    _no_sideways_scroll(page)
    _shot(page, f"warranty-settings-{width}.png")
    assert violations == []
