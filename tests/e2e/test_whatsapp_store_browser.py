"""A WhatsApp store in a real browser, at 1280 and 390 px (issue 12 §5): signed pushes from the fake
Graph API through the live webhook endpoint, the store's connection page (capabilities, the credentials
form with secrets only as "set", the webhook address, "Test connection" answered by WhatsApp), the ticket's
reply box saying until when free-form replies are possible, a closed window saying only templates, and a
store paused by an expired token (code 190) with Meta's words. No Content-Security-Policy violation, no
horizontal scrolling. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.channels.connectors.whatsapp.fake import WhatsAppFake
from aftersales.channels.status import store_sync_for
from aftersales.inbox.models import Ticket
from aftersales.inbox.services.delivery import message_deliver
from aftersales.inbox.services.tickets import ticket_reply
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fake() -> Iterator[WhatsAppFake]:
    with WhatsAppFake().running() as server:
        assert isinstance(server, WhatsAppFake)
        yield server


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_whatsapp_store_and_reply_box(live_server, page, fake, monkeypatch):  # type: ignore[no-untyped-def]
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
    assert (
        fake.deliver(hook, fake.text_push("16505551234", "Hi, my parcel arrived damaged.", at=time.time() - 60)) == 200
    )
    assert (
        fake.deliver(
            hook,
            fake.text_push("4915112345678", "Wo bleibt mein Paket?", at=time.time() - 25 * 3600, name="Jonas Weber"),
        )
        == 200
    )
    open_ticket = Ticket.objects.get(store=store, conversation_id__endswith=":16505551234")
    closed_ticket = Ticket.objects.get(store=store, conversation_id__endswith=":4915112345678")
    expired = WhatsAppFake()
    with expired.running():
        paused = StoreFactory(
            organization=world.org,
            name="WhatsApp DE",
            platform="whatsapp",
            site="",
            currency="EUR",
            external_id=expired.phone_number_id,
            endpoint_url=expired.url,
            credentials=expired.credentials(),
        )
        expired_hook = f"{live_server.url}/hooks/whatsapp/{store_sync_for(paused).webhook_token}"
        assert expired.deliver(expired_hook, expired.text_push("4915112345678", "Hallo", at=time.time() - 60)) == 200
        ticket = Ticket.objects.get(store=paused)
        expired.token_expired = True
        reply = ticket_reply(ticket=ticket, author=world.admin, body="Hallo Jonas")
        message_deliver(reply.pk)  # the worker's task may have run it already (after commit)
        reply.refresh_from_db()
        assert reply.delivery_status == "failed"

    violations = watch_csp(page)
    base = live_server.url
    sign_in(page, base)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/settings/stores/{store.pk}/connection/")
        for capability in ("webhooks", "send_message", "test_connection"):
            expect(page.locator(f'[data-capability="{capability}"]')).to_have_attribute("data-supported", "yes")
        expect(page.locator('[data-capability="pull_orders"]')).to_have_attribute("data-supported", "no")
        for secret in ("access_token", "app_secret", "verify_token"):
            expect(page.locator(f'[data-credential="{secret}"] [data-set="set"]')).to_be_visible()
        expect(page.locator("[data-webhook]")).to_have_value(hook)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, f"whatsapp-store-{width}")
        page.goto(f"{base}/tickets/{open_ticket.pk}/")
        expect(page.locator("[data-reply-rules]")).to_contain_text("free-form replies")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, f"whatsapp-reply-open-{width}")
        page.goto(f"{base}/tickets/{closed_ticket.pk}/")
        expect(page.locator("[data-reply-rules]")).to_contain_text("window is closed")
        _shot(page, f"whatsapp-reply-closed-{width}")
        page.goto(f"{base}/settings/stores/{paused.pk}/connection/")
        expect(page.locator("#paused")).to_contain_text("Session has expired")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, f"whatsapp-paused-{width}")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/settings/stores/{store.pk}/connection/")
    page.locator("#connection button[type=submit]").click()
    expect(page.locator('[data-check="ok"]')).to_contain_text("WhatsApp answered: Demo Shop +1 555-010-0199")
    assert fake.access_token.encode() not in page.content().encode()
    assert violations == []
