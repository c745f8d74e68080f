"""Send an RMA's evidence picture to its AliExpress issue from the RMA page in a real browser, at 1280
and 390 px (issue 12): the evidence row of a photo offers "Send to AliExpress", the click uploads it to
the fake AliExpress once and the row then shows "Sent to AliExpress". No CSP violation, no horizontal
scrolling. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.channels.connectors.aliexpress.fake import AliExpressFake
from aftersales.channels.connectors.aliexpress.tests.conftest import load, pacific_ago
from aftersales.channels.connectors.shopee.tests.test_chat_media import PNG
from aftersales.returns.models import ReturnRequest
from aftersales.returns.rma import rma_open_for_return_request
from aftersales.returns.rma_actions import Upload, rma_add_evidence
from aftersales.testing.connectors import sync_streams
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp
from .test_mark_shipped_browser import _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_send_an_evidence_picture_to_aliexpress(live_server: Any, page: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda seconds: None)
    world = build_world()
    with AliExpressFake().running() as fake:
        assert isinstance(fake, AliExpressFake)
        order = load("order.json")
        order["gmt_create"], order["gmt_update"] = pacific_ago(600), pacific_ago(50)
        fake.add_order(order)
        fake.add_issue({**load("issue.json"), "gmt_create": pacific_ago(31), "gmt_modified": pacific_ago(30)})
        store = StoreFactory(
            organization=world.org,
            name="AliExpress BR",
            platform="aliexpress",
            site="aliexpress.com",
            currency="USD",
            external_id=fake.seller_login_id,
            endpoint_url=fake.url,
            credentials=fake.credentials(),
        )
        sync_streams(store)
        request = ReturnRequest.objects.get(store=store)
        admin = world.admin
        rma = rma_open_for_return_request(user=admin, return_request_id=request.pk)
        rma_add_evidence(user=admin, rma_id=rma.pk, kind="photo", upload=Upload("damage.png", PNG))

        page.set_default_timeout(60_000)  # the sync and the RMA above are slow on a loaded machine
        violations = watch_csp(page)
        base = live_server.url
        sign_in(page, base)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/returns/{rma.pk}/#rma-evidence")
            expect(page.locator('[data-action="platform-evidence"]')).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            _shot(page, f"aliexpress-evidence-offered-{width}")
        page.locator('[data-action="platform-evidence"]').click()
        expect(page.locator('[data-platform-evidence="succeeded"]')).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, "aliexpress-evidence-sent-390")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.reload()
        expect(page.locator('[data-platform-evidence="succeeded"]')).to_be_visible()
        _shot(page, "aliexpress-evidence-sent-1280")
        assert len(fake.evidence) == 1 and fake.evidence[0]["content"] == PNG
        assert violations == []
