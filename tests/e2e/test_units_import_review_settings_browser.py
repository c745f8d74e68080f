"""In a real browser (issue 10): Warranty > Upload shipped units from a CSV file (a wrong IMEI check
digit named by row and column, nothing registered; then a preview and Register), and Settings >
Refund review (a window out of range named next to its field, then saved). No CSP violation, no
sideways scrolling at 1280 and 390 px. Set E2E_SCREENSHOTS=<dir> to keep screenshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from aftersales.core.clock import now
from aftersales.returns.review import review_thresholds
from aftersales.testing.factories import OrderFactory, OrderLineFactory, ProductFactory
from aftersales.testing.personas import build_world
from aftersales.warranty.models import SoldUnit

from .test_csp_browser import watch_csp
from .test_warranty_browser import _no_sideways_scroll, _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
IMEI, OTHER = "490154203237518", "352099001761481"


def _sign_in(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("width", [1280, 390])
def test_units_csv_upload_and_review_settings(live_server, page, width, tmp_path):  # type: ignore[no-untyped-def]
    world = build_world()
    phone = ProductFactory(organization=world.org, sku="PH-X1", title="Phone X1 128 GB", category="phones")
    order = OrderFactory(store=world.store_de, external_id="12-34567-89012", placed_at=now() - timedelta(days=40))
    OrderLineFactory(order=order, product=phone, sku="PH-X1", title="Phone X1 128 GB", quantity=2)
    violations = watch_csp(page)
    page.set_default_timeout(60_000)  # 8 helpers share 2 cores: the live server answers slowly
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    _sign_in(page, base)

    bad = tmp_path / "bad.csv"
    bad.write_text(f"order,sku,identifier\n12-34567-89012,PH-X1,{IMEI[:-1]}9\n", encoding="utf-8")
    good = tmp_path / "units.csv"
    good.write_bytes(
        f"订单号,SKU,序列号\n12-34567-89012,PH-X1,{IMEI}\n12-34567-89012,PH-X1,{OTHER}\n".encode("gb18030")
    )
    page.goto(base + "/warranty/")
    page.click("[data-link=units-import]")
    page.set_input_files("#units-import-form input[name=file]", str(bad))
    page.click("#units-import-form button[value=register]")
    expect(page.locator("[data-error=file]")).to_contain_text("row 2, column identifier")
    assert not SoldUnit.objects.exists()
    _shot(page, f"units-import-error-{width}.png")
    _no_sideways_scroll(page)
    page.set_input_files("#units-import-form input[name=file]", str(good))
    page.click("#units-import-form button[value=preview]")
    expect(page.locator("#units-import-preview")).to_contain_text(OTHER)
    assert not SoldUnit.objects.exists()
    _shot(page, f"units-import-preview-{width}.png")
    _no_sideways_scroll(page)
    page.click("#units-import-preview button[value=register]")
    expect(page.locator(".messages, [role=status], body")).to_contain_text("2 units registered")
    assert SoldUnit.objects.filter(order_line__order=order).count() == 2

    page.goto(base + "/settings/returns/review/")
    page.fill("input[name=shared_address_window_days]", "5000")
    page.click("#review-settings button[type=submit]")
    expect(page.locator("[data-error=shared_address_window_days]")).to_contain_text("0 to 3650")
    _shot(page, f"review-settings-error-{width}.png")
    _no_sideways_scroll(page)
    page.fill("input[name=shared_address_window_days]", "30")
    page.click("#review-settings button[type=submit]")
    expect(page.locator("#review-settings")).to_contain_text("Last saved")
    assert review_thresholds(world.org.pk).shared_address_window_days == 30
    _shot(page, f"review-settings-{width}.png")
    _no_sideways_scroll(page)
    assert violations == []
