"""Order and RMA numbers keep their left-to-right order next to Arabic text (issue 10 §8): in an Arabic
buyer message, in the ticket's order panel and on the RMA page (a store named in Arabic) each number is a
<bdi>, isolated from the surrounding direction. Set E2E_SCREENSHOTS=<dir> to keep screenshots (1280 and
390 px)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from aftersales.catalog.models import Order
from aftersales.returns.models import Rma
from aftersales.returns.tests.test_rma_notify_steps import approved_rma
from aftersales.testing.personas import build_world
from aftersales.web.tests.test_translations import inbound

from .conftest import sign_in
from .test_rtl_messages_browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ISOLATED = "e => getComputedStyle(e).unicodeBidi"


def test_order_and_rma_numbers_stay_left_to_right_beside_arabic(live_server, page, django_capture_on_commit_callbacks):
    world = build_world()
    world.store_us.name = "متجر الإلكترونيات"
    world.store_us.save()
    rma, ticket = approved_rma(world, django_capture_on_commit_callbacks, language="ar")
    order = rma.order
    Order.objects.filter(pk=order.pk).update(external_id="113-1234567-7654321")
    Rma.objects.filter(pk=rma.pk).update(buyer_comment="الطلب 113-1234567-7654321 وصل مكسورًا")
    order.refresh_from_db()
    message = inbound(ticket, "وصل الشاحن مكسورًا. الطلب رقم 113-1234567-7654321، أرجو الاستبدال.", "ar")
    page.set_default_timeout(30_000)  # the first page of a session compiles the templates: slow on a loaded machine
    sign_in(page, live_server.url, "alice")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
        in_message = page.locator(f"#message-body-{message.pk} bdi", has_text=order.external_id)
        expect(in_message).to_have_count(1)
        assert in_message.evaluate(ISOLATED) == "isolate"
        in_panel = page.locator("#order-panel bdi", has_text=order.external_id)
        expect(in_panel).to_have_count(1)
        assert in_panel.evaluate(ISOLATED) == "isolate"
        screenshot(page, f"ticket-bdi-{width}")
        page.goto(f"{live_server.url}/returns/{rma.pk}/")
        header = page.locator("#rma-header")
        for number in (rma.number, order.external_id):
            expect(header.locator("bdi.mono", has_text=number)).to_have_count(1)
        comment = header.locator("q")
        assert comment.evaluate("e => getComputedStyle(e).direction") == "rtl"
        expect(comment.locator("bdi", has_text=order.external_id)).to_have_count(1)  # the buyer's words too
        screenshot(page, f"rma-bdi-{width}")
