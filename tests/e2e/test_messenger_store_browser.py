"""A Messenger store in a real browser, at 1280 and 390 px (issue 12 §6): signed Page pushes from the
fake through the live webhook endpoint, the store's connection page (capabilities, credentials with
secrets only as "set", the Human Agent switch, the webhook address), the ticket's reply box saying until
when a reply is possible (7 days with the Human Agent tag). No CSP violation, no horizontal scrolling.
Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from aftersales.channels.connectors.messenger.fake import MessengerFake
from aftersales.channels.status import store_sync_for
from aftersales.inbox.models import Ticket
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp
from .test_whatsapp_store_browser import _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fake() -> Iterator[MessengerFake]:
    with MessengerFake().running() as server:
        assert isinstance(server, MessengerFake)
        yield server


def test_messenger_store_and_reply_box(live_server, page, fake, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda seconds: None)
    world = build_world()
    store = StoreFactory(
        organization=world.org,
        name="Gadgets Demo on Messenger",
        platform="facebook",
        site="",
        currency="USD",
        external_id=fake.page_id,
        endpoint_url=fake.url,
        credentials=fake.credentials(human_agent=True),
    )
    hook = f"{live_server.url}/hooks/facebook/{store_sync_for(store).webhook_token}"
    body, headers = fake.signed(
        fake.message_push("6012345678901234", "Hola, ¿dónde está mi pedido?", at=time.time() - 3 * 86400)
    )
    assert httpx.post(hook, content=body, headers=headers, timeout=30).status_code == 200
    ticket = Ticket.objects.get(store=store)

    violations = watch_csp(page)
    base = live_server.url
    sign_in(page, base)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/settings/stores/{store.pk}/connection/")
        for capability in ("webhooks", "send_message", "test_connection"):
            expect(page.locator(f'[data-capability="{capability}"]')).to_have_attribute("data-supported", "yes")
        for secret in ("access_token", "app_secret", "verify_token"):
            expect(page.locator(f'[data-credential="{secret}"] [data-set="set"]')).to_be_visible()
        expect(page.locator("[data-webhook]")).to_have_value(hook)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, f"messenger-store-{width}")
        page.goto(f"{base}/tickets/{ticket.pk}/")
        expect(page.locator("[data-reply-rules]")).to_contain_text("(Human Agent tag)")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, f"messenger-reply-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/settings/stores/{store.pk}/connection/")
    page.locator("#connection button[type=submit]").click()
    expect(page.locator('[data-check="ok"]')).to_contain_text("Messenger answered: Page Gadgets Demo")
    assert violations == []
