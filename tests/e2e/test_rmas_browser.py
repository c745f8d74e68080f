"""Returns in a real browser: create a return from the ticket's order panel, approve it on the RMA
page, bulk-approve two RMAs from the list (progress bar, result per RMA); the list, the RMA page, the
refund review queue and the bulk progress at 1280 and 390 px without sideways scrolling.
Set E2E_SCREENSHOTS=<dir> to keep screenshots."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.returns.models import Refund, Rma, RmaStatus
from aftersales.returns.tests.rma_list_fixtures import make_rma
from aftersales.testing.factories import OrderFactory, OrderLineFactory
from aftersales.testing.personas import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page: Any, name: str, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (name, width)
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"rmas-{name}-{width}.png"), full_page=True)


def test_create_approve_and_bulk_approve(live_server: Any, page: Any) -> None:
    world = build_world()
    order: Any = OrderFactory(store=world.store_us, currency="USD", total_amount=Decimal("98.00"))
    line: Any = OrderLineFactory(order=order, quantity=2, unit_price_amount=Decimal("49.00"), title="Earbuds Pro")
    ticket = world.ticket(store=world.store_us, order=order, customer=order.customer, subject="Earbuds crackle")
    others = [make_rma(world, customer_name=name) for name in ("Olivia Martins", "Jonas Weber")]
    Refund.objects.create(
        organization=world.org,
        store=world.store_us,
        order=others[0].order,
        rma=others[0],
        kind="full",
        status="in_review",
        amount=Decimal("49.00"),
        currency="USD",
        idempotency_key="e2e-review",
        review_reasons=[{"code": "repeat_returner", "message": "Third return in 90 days"}],
        requested_by=world.agent,
    )

    page.set_default_timeout(60_000)  # a shared, loaded CI machine: the first page can take a while
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", "peter")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")

    # Create a return from the ticket's order panel.
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    page.click("#order-actions [data-action=create-return]")
    page.fill(f"input[name=qty-{line.pk}]", "1")
    page.fill("input[name=reason]", "defective")
    page.click("#return-form button[type=submit]")
    expect(page.locator("#rma-header")).to_contain_text("Requested")
    rma = Rma.objects.get(ticket=ticket)
    assert page.url.endswith(f"/returns/{rma.pk}/")

    # Approve it on the RMA page.
    page.click("form[data-action=approve] button[type=submit]")
    expect(page.locator("#rma-header")).to_contain_text("Approved")
    expect(page.locator("#rma-timeline")).to_contain_text("Peter")
    rma.refresh_from_db()
    assert rma.status == RmaStatus.APPROVED
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        _shot(page, "page", width)

    # Bulk-approve the two others from the list.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/returns/?status=requested")
    for other in others:
        page.check(f"input[name=rma_ids][value='{other.pk}']")
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    page.click("button[data-bulk=approve]")
    job = page.locator("#rma-job")
    expect(job).to_have_attribute("data-job-status", "done")
    expect(job).to_contain_text("2 done, 0 failed, of 2")
    assert set(Rma.objects.filter(pk__in=[o.pk for o in others]).values_list("status", flat=True)) == {"approved"}
    _shot(page, "bulk", 1280)
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "bulk", 390)

    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/returns/")
        expect(page.locator("table.rmas")).to_contain_text(rma.number)
        _shot(page, "list", width)
        page.goto(f"{live_server.url}/returns/review/")
        expect(page.locator("table.review-queue")).to_contain_text("Third return in 90 days")
        _shot(page, "review", width)


def _png_file(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (64, 48), (30, 120, 200)).save(path, format="PNG")
    return path


def test_qc_inspection_and_partial_refund_offer_forms(live_server: Any, page: Any, tmp_path: Path) -> None:
    from aftersales.returns.rma import rma_approve
    from aftersales.returns.rma_actions import rma_mark_in_transit, rma_receive
    from aftersales.returns.tests.rma_fixtures import delivered_order, return_hub, ticket_for

    world = build_world()
    return_hub(world)
    order = delivered_order(world, lines=(("phones", "399.00", 1, "USD"),))
    rma = make_rma(world, ticket=ticket_for(world, order), customer_name="Mia Chen")
    Rma.objects.filter(pk=rma.pk).update(order=order)
    rma_line = rma.lines.get()
    rma_line.order_line = order.lines.get()
    rma_line.sku = rma_line.order_line.sku
    rma_line.save(update_fields=["order_line", "sku"])
    rma_approve(user=world.approver, rma_id=rma.pk)
    rma_mark_in_transit(user=world.agent, rma_id=rma.pk)
    rma_receive(user=world.agent, rma_id=rma.pk)
    offer = make_rma(world, ticket=ticket_for(world, delivered_order(world)), customer_name="Liam Brown")

    page.set_default_timeout(60_000)
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", "peter")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")

    # QC: the phone checklist, the IMEI read from the unit, a photo.
    page.goto(f"{live_server.url}/returns/{rma.pk}/")
    form = page.locator("form[data-action=inspect]")
    expect(form).to_contain_text("Activation lock")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        _shot(page, "qc-form", width)
    page.set_viewport_size({"width": 1280, "height": 900})
    prefix = f"line-{rma_line.pk}"
    for code in ("imei_matches", "activation_lock_off", "screen_ok", "body_ok"):
        form.locator(f"input[name={prefix}-check-{code}]").check()
    form.locator(f"input[name={prefix}-note]").fill("Like new")
    form.locator("input[name=photos]").set_input_files(str(_png_file(tmp_path / "front.png")))
    form.locator("button[type=submit]").click()
    expect(page.locator("#rma-header")).to_contain_text("Inspected")
    expect(page.locator("#rma-lines")).to_contain_text("Passed")
    photo = page.locator("#rma-evidence [data-evidence-file]")
    expect(photo).to_have_count(1)
    response = page.request.get(live_server.url + (photo.get_attribute("href") or ""))
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        _shot(page, "qc-done", width)

    # A partial refund offered for keeping the item, then the buyer's answer.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/returns/{offer.pk}/")
    offer_form = page.locator("form[data-action=offer_partial]")
    offer_form.locator("input[name=percent]").fill("20")
    offer_form.locator("button[type=submit]").click()
    expect(page.locator("#rma-offer")).to_contain_text("9.80 USD")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        _shot(page, "offer", width)
    page.click("form[data-action=accept_partial] button[type=submit]")
    expect(page.locator("#rma-header")).to_contain_text("Resolved")
    offer.refresh_from_db()
    assert (offer.status, offer.outcome) == ("resolved", "kept_partial_refund")
