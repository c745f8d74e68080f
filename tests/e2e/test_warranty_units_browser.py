"""Warranty in a real browser (issue 10): type in the shipped units of an eBay order (a wrong IMEI
check digit is shown, nothing registered; then both units), and a replacement out of stock retried
after stock arrived, then shipped with its tracking number. No CSP violation, no sideways scrolling
at 1280 and 390 px. Set E2E_SCREENSHOTS=<dir> to keep screenshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.inventory.models import Warehouse
from aftersales.inventory.services import stock_move
from aftersales.testing.factories import OrderFactory, OrderLineFactory, ProductFactory, ShipmentFactory
from aftersales.testing.personas import build_world
from aftersales.warranty.models import SoldUnit
from aftersales.warranty.replacements import replacement_reserve
from aftersales.warranty.services import claim_change_status, claim_open, claim_resolve

from .test_csp_browser import watch_csp
from .test_warranty_browser import _no_sideways_scroll, _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
IMEI, OTHER = "490154203237518", "352099001761481"


@pytest.mark.parametrize("width", [1280, 390])
def test_shipped_units_and_replacement_retry(live_server, page, width):
    world = build_world()
    phone = ProductFactory(organization=world.org, sku="PH-X1", title="Phone X1 128 GB", category="phones")
    order = OrderFactory(
        store=world.store_de, external_id="12-34567-89012", placed_at=now() - timedelta(days=40), ship_country="DE"
    )
    line = OrderLineFactory(order=order, product=phone, sku="PH-X1", title="Phone X1 128 GB", quantity=2)
    ShipmentFactory(order=order, status="delivered", delivered_at=now() - timedelta(days=35))
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    page.goto(base + "/login/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.goto(base + "/warranty/")
    page.click("[data-link=order-units]")
    page.fill("input[name=order]", "12-34567-89012")
    page.click("#order-units-find button")
    field = f"textarea[name=line_{line.pk}]"
    page.fill(field, f"{IMEI[:-1]}9\n{OTHER}")
    page.click("[data-action=register-units]")
    expect(page.locator(f"[data-error=line_{line.pk}]")).to_contain_text("Luhn")
    assert not SoldUnit.objects.exists()
    page.fill(field, f"{IMEI}\n{OTHER}")
    page.click("[data-action=register-units]")
    expect(page.locator("#order-units")).to_contain_text(f"IMEI {OTHER}")
    _shot(page, f"warranty-order-units-{width}.png")
    _no_sideways_scroll(page)

    unit = SoldUnit.objects.get(imei=IMEI)
    claim = claim_open(user=world.admin, unit_id=unit.pk, problem="Dead on arrival")
    claim_change_status(user=world.admin, claim_id=claim.pk, status="under_review")
    claim_change_status(user=world.admin, claim_id=claim.pk, status="approved")
    claim_resolve(user=world.admin, claim_id=claim.pk, resolution="replacement")
    replacement_reserve(replacement_id=claim.replacement.pk)  # out of stock: no warehouse yet
    page.goto(f"{base}/warranty/claims/{claim.pk}/")
    expect(page.locator("#replacement-stock")).to_contain_text("refund")
    _shot(page, f"warranty-replacement-out-of-stock-{width}.png")
    warehouse = Warehouse.objects.create(organization=world.org, code="SZ-1", name="Shenzhen")
    stock_move(
        organization_id=world.org.pk,
        warehouse_id=warehouse.pk,
        sku="PH-X1",
        kind="receive",
        quantity=1,
        reference="test",
        idempotency_key="test:receive",
        actor=Actor.system("test"),
    )
    page.click("[data-action=replacement-reserve]")
    expect(page.locator("#replacement-ship-form")).to_be_visible()
    page.fill("#replacement-ship-form input[name=carrier]", "DHL")
    page.fill("#replacement-ship-form input[name=tracking_number]", "JD014600003")
    _shot(page, f"warranty-replacement-reserved-{width}.png")
    _no_sideways_scroll(page)
    page.click("[data-action=replacement-ship]")
    expect(page.locator("#claim-timeline")).to_contain_text("DHL JD014600003")
    _shot(page, f"warranty-replacement-shipped-{width}.png")
    _no_sideways_scroll(page)
    assert violations == []
