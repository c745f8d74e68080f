"""WhatsApp templates and receipts in a real browser, at 1280 and 390 px (issue 12 §5): the store page's
"Sync templates" lists the approved templates; a ticket whose 24-hour window is closed offers them in the
reply area with their variable inputs; sending one queues it and WhatsApp receives the template; its
delivered/read statuses show on the reply. No Content-Security-Policy violation, no horizontal
scrolling. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from aftersales.channels.connectors.whatsapp.fake import WhatsAppFake
from aftersales.channels.status import store_sync_for
from aftersales.inbox.models import Message, MessageDirection, Ticket
from aftersales.inbox.services.delivery import message_deliver
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp
from .test_whatsapp_store_browser import _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUYER = "4915112345678"


@pytest.fixture
def fake() -> Iterator[WhatsAppFake]:
    with WhatsAppFake().running() as server:
        assert isinstance(server, WhatsAppFake)
        yield server


def test_templates_picker_and_receipts(live_server, page, fake, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda seconds: None)
    world = build_world()
    store = StoreFactory(
        organization=world.org,
        name="WhatsApp +1 555-010-0199",
        platform="whatsapp",
        site="",
        currency="USD",
        external_id=fake.phone_number_id,
        endpoint_url=fake.url,
        credentials=fake.credentials(),
    )
    hook = f"{live_server.url}/hooks/whatsapp/{store_sync_for(store).webhook_token}"
    push = fake.text_push(BUYER, "Wo bleibt mein Paket?", at=time.time() - 25 * 3600, name="Jonas Weber")
    assert fake.deliver(hook, push) == 200
    ticket = Ticket.objects.get(store=store)

    violations = watch_csp(page)
    base = live_server.url
    sign_in(page, base)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/settings/stores/{store.pk}/connection/")
    expect(page.locator("#templates")).to_contain_text("No templates synced yet.")
    page.locator("#templates button[type=submit]").click()
    expect(page.locator('[data-template="order_update:en_US"]')).to_contain_text("Hello {{1}}")

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/settings/stores/{store.pk}/connection/#templates")
        expect(page.locator("[data-templates]")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, f"whatsapp-templates-store-{width}")
        page.goto(f"{base}/tickets/{ticket.pk}/")
        expect(page.locator("[data-reply-rules]")).to_contain_text("window is closed")
        offer = page.locator('[data-template-offers] [data-template="order_update:en_US"]')
        offer.locator("summary").click()
        expect(offer.locator('input[name="variables"]')).to_have_count(2)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.locator("#reply-box").scroll_into_view_if_needed()
        _shot(page, f"whatsapp-template-picker-{width}")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/tickets/{ticket.pk}/")
    offer = page.locator('[data-template-offers] [data-template="order_update:en_US"]')
    offer.locator("summary").click()
    offer.locator('input[name="variables"]').nth(0).fill("Jonas")
    offer.locator('input[name="variables"]').nth(1).fill("#1042")
    offer.locator("button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("Template queued for delivery.")
    reply = Message.objects.get(ticket=ticket, direction=MessageDirection.OUTBOUND)
    message_deliver(reply.pk)  # the worker's task may have run it already (after commit)
    reply.refresh_from_db()
    assert reply.delivery_status == "sent" and reply.template["name"] == "order_update"
    sent = fake.requests_to(rf"/v23\.0/{fake.phone_number_id}/messages", "POST")[-1].json()
    assert sent["template"]["components"][0]["parameters"][1] == {"type": "text", "text": "#1042"}
    assert fake.deliver(hook, fake.status_push(reply.external_id, "delivered", BUYER, at=time.time())) == 200
    assert fake.deliver(hook, fake.status_push(reply.external_id, "read", BUYER, at=time.time() + 1)) == 200
    reply.refresh_from_db()
    assert reply.receipt == "read", (reply.delivered_at, reply.read_at, reply.external_id)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/tickets/{ticket.pk}/")
        page.reload()  # the same address with another #fragment would not load the page again
        expect(page.locator(f'#message-{reply.pk} [data-receipt="read"]')).to_be_visible()
        expect(page.locator(f"#message-{reply.pk}")).to_contain_text("Hello Jonas, your order #1042")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.locator(f"#message-{reply.pk}").scroll_into_view_if_needed()
        _shot(page, f"whatsapp-template-read-{width}")
    assert violations == []
