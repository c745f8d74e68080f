"""Settings → Return policy in a real browser: a document with an unknown key is refused with its
path, a valid one becomes version 1, the try-it form answers day 14 / day 15 in Berlin; no
Content-Security-Policy violation; at a desktop and a phone width. Set SCREENSHOT_DIR to keep the
screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.testing.personas import build_world

from .conftest import open_settings
from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GOOD = (
    "schema_version: 1\nreporting_currency: USD\nsite_timezones: {amazon.de: Europe/Berlin}\n"
    "reasons: [{code: changed_mind}, {code: defective, return_shipping_paid_by: seller}]\n"
    "windows: [{code: W-14, days: 14}]\n"
    "evidence: [{code: E-PHOTOS, require: [photos], reasons: [defective]}]\n"
)


def _shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_return_policy_settings(live_server, page, width):
    build_world()
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    open_settings(page, base, "/settings/returns/")
    expect(page.locator("[data-active-version='0']")).to_be_visible()
    page.fill(
        "textarea[name=document]", GOOD.replace("{code: W-14, days: 14}", "{code: W-14, days: 14, scope: {skuu: A}}")
    )
    page.click("#return-policy button.btn-primary")
    expect(page.locator("[data-error=document]")).to_contain_text("document.windows[0].scope.skuu")
    page.fill("textarea[name=document]", GOOD)
    page.fill("input[name=comment]", "two weeks")
    page.click("#return-policy button.btn-primary")
    expect(page.locator("[data-active-version='1']")).to_be_visible()

    page.fill("input[name=site]", "amazon.de")
    page.fill("input[name=delivery_country]", "DE")
    page.fill("input[name=delivered_at]", "2026-03-20T10:00:00+01:00")
    page.fill("input[name=requested_at]", "2026-04-03T22:00:00Z")
    page.select_option("select[name=category]", "phones")
    page.fill("input[name=unit_price]", "299.00")
    page.select_option("select[name=reason]", "defective")
    page.click("#return-policy-check button")
    expect(page.locator("#eligibility-result")).to_have_attribute("data-resolution", "reject")
    page.fill("input[name=requested_at]", "2026-04-03T21:59:59Z")
    page.click("#return-policy-check button")
    expect(page.locator("#eligibility-result")).to_have_attribute("data-resolution", "needs_evidence")
    _shot(page, f"return-policy-{width}.png")
    assert violations == []
