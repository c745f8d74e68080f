"""Settings → Warehouses and the Stock page in a real browser: an admin adds a return hub, finds a
SKU, records goods received and sees on hand / reserved / available per warehouse; no sideways
scrolling and no Content-Security-Policy violation at a desktop and a phone width. Set
SCREENSHOT_DIR to keep the screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.core.actors import Actor
from aftersales.inventory.models import Warehouse
from aftersales.inventory.services import stock_move
from aftersales.testing.factories import ProductFactory
from aftersales.testing.personas import build_world

from .conftest import open_settings
from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


WIDE = """() => {
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > window.innerWidth + 1) {
      wide.push(`${el.tagName}.${el.className}#${el.id} ${Math.round(box.right)}`);
    }
  }
  return wide.slice(0, 8);
}"""


def _no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.evaluate(WIDE)


@pytest.mark.parametrize("width", [1280, 390])
def test_warehouses_and_stock(live_server, page, width):
    world = build_world()
    ProductFactory(organization=world.org, sku="PHONE-X1", title="Phone X1 128 GB")
    main = Warehouse.objects.create(
        organization=world.org, code="SZ-MAIN", name="Shenzhen main warehouse", city="Shenzhen", country="CN"
    )
    stock_move(
        organization_id=world.org.pk, warehouse_id=main.pk, sku="PHONE-X1", kind="receive", quantity=12,
        reference="t", idempotency_key="opening", actor=Actor.system("t"),
    )  # fmt: skip
    stock_move(
        organization_id=world.org.pk, warehouse_id=main.pk, sku="PHONE-X1", kind="reserve", quantity=2,
        reference="exchange:1", idempotency_key="reserve", actor=Actor.system("t"),
    )  # fmt: skip
    violations = watch_csp(page)
    page.set_default_timeout(30_000)  # a shared, busy machine
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    open_settings(page, base, "/settings/warehouses/")
    form = page.locator("#new-warehouse form")
    form.locator("input[name=code]").fill("LAX-HUB")
    form.locator("input[name=name]").fill("Los Angeles return hub")
    form.locator("input[name=is_return_hub]").check()
    form.locator("input[name=serves_countries]").fill("US XX")
    form.locator("button[type=submit]").click()
    expect(page.locator("#new-warehouse [data-error=serves_countries]")).to_be_visible()
    page.locator("#new-warehouse input[name=serves_countries]").fill("US CA")
    page.locator("#new-warehouse button[type=submit]").click()
    expect(page.locator("[data-warehouse=LAX-HUB] [data-return-hub]")).to_be_visible()
    _no_sideways_scroll(page, width)
    _shot(page, f"warehouses-{width}.png")

    page.goto(base + "/stock/")
    page.fill("#stock-search input[name=q]", "X1")
    page.click("#stock-search button[type=submit]")
    expect(page.locator("[data-warehouse=SZ-MAIN]")).to_have_attribute("data-available", "10")
    expect(page.locator("[data-warehouse=LAX-HUB]")).to_have_attribute("data-available", "0")
    page.select_option("#stock-record select[name=warehouse_id]", label="LAX-HUB")
    page.fill("#stock-record input[name=quantity]", "3")
    page.fill("#stock-record input[name=note]", "returned stock counted")
    page.click("#stock-record button[type=submit]")
    expect(page.locator("[data-warehouse=LAX-HUB]")).to_have_attribute("data-available", "3")
    expect(page.locator("[data-total-available]")).to_have_attribute("data-total-available", "13")
    expect(page.locator("#stock-movements [data-kind=reserve]")).to_be_visible()
    _no_sideways_scroll(page, width)
    _shot(page, f"stock-{width}.png")
    assert violations == []
