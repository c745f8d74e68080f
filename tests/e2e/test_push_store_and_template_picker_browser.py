"""A push-only WhatsApp store page (callback URL, verify token, subscription state instead of "Sync
now") and the ticket's template picker with header and button inputs, in a real browser at 1280 and
390 px. No CSP violation, no sideways scrolling. Screenshots go to $SCREENSHOT_DIR when set. Nothing is
pushed here (the page and the picker only), so no ingest runs in the live server."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from aftersales.channels.connectors.whatsapp.fake import WhatsAppFake
from aftersales.channels.models import MessageTemplate
from aftersales.testing.factories import StoreFactory, TicketFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp
from .test_store_connection_browser import _no_horizontal_scroll, _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_push_store_page_and_template_picker(live_server, page, settings):  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    world = build_world()
    fake = WhatsAppFake()
    store: Any = StoreFactory(
        organization=world.org, name="WhatsApp support", platform="whatsapp", site="", credentials=fake.credentials()
    )
    MessageTemplate.objects.create(
        store=store,
        name="order_shipped",
        language="en_US",
        category="UTILITY",
        body="Hello {{1}}, it is on its way.",
        variables=1,
        header_format="TEXT",
        header_text="Order {{1}} shipped",
        header_variables=1,
        buttons=[
            {"type": "URL", "text": "Track", "url": "https://track.example.com/{{1}}", "variables": 1},
            {"type": "QUICK_REPLY", "text": "Stop updates", "url": "", "variables": 0},
        ],
        synced_at=timezone.now(),
    )
    ticket: Any = TicketFactory(store=store, subject="Where is my parcel?")
    violations = watch_csp(page)
    sign_in(page, live_server.url)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/settings/stores/{store.pk}/connection/#push")
        expect(page.locator('[data-subscription="waiting"]')).to_be_visible()
        expect(page.locator("[data-push-verify-token]")).to_have_value(fake.verify_token)
        assert page.locator("#sync").count() == 0
        _no_horizontal_scroll(page)
        _shot(page, f"whatsapp-push-{width}")
        page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
        offer = page.locator('[data-template="order_shipped:en_US"]')
        offer.locator("summary").click()
        expect(offer.locator("input[name=header_text]")).to_be_visible()
        expect(offer.locator("input[name=button_0]")).to_be_visible()
        expect(offer.locator("input[name=button_1]")).to_be_visible()
        # Not cramped: each input on its own line under its label, as wide as the box allows.
        form = offer.locator("form").bounding_box()
        assert form is not None
        for name in ("header_text", "variables", "button_0", "button_1"):
            box = offer.locator(f"input[name={name}]").bounding_box()
            assert box is not None and box["width"] >= form["width"] - 2, (name, box, form)
        label = offer.locator('[data-template-button="0"] > span').bounding_box()
        field = offer.locator("input[name=button_0]").bounding_box()
        assert label is not None and field is not None and field["y"] >= label["y"] + label["height"] - 1
        _no_horizontal_scroll(page)
        _shot(page, f"whatsapp-template-picker-{width}")
    assert violations == []
