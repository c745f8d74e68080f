"""An e-mail's quoted history in a real browser: the ticket shows the customer's new words; the full
original (quoted history, signature) is one click away. Imported through the e-mail connector's
pipeline (manage.py mail_import). Set E2E_SCREENSHOTS=<dir> to keep screenshots (1280 and 390 px)."""

from __future__ import annotations

import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from aftersales.catalog.models import Platform
from aftersales.inbox.models import Message
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).resolve().parents[2] / "src/aftersales/channels/connectors/email/tests/fixtures"


def test_quoted_history_is_folded_away(live_server, page):
    world = build_world()
    mailbox = StoreFactory(organization=world.org, name="Support mailbox", platform=Platform.EMAIL, site="")
    mailbox.credentials = {"address": "support@gadgets.example"}
    mailbox.save()
    world.team_us.stores.add(mailbox)
    eml = FIXTURES / "outlook_de_windows1252.eml"
    call_command("mail_import", "--store", str(mailbox.pk), str(eml), stdout=StringIO())
    message = Message.objects.get(external_id="<AM0PR01MB0008@EURPRD01.prod.outlook.com>")

    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/tickets/{message.ticket_id}/")
        body = page.locator(f"#message-{message.pk}")
        expect(body.locator("[data-body-display]")).to_contain_text("Rechnung über 49,90 €")
        expect(body.locator("[data-body-display]")).not_to_contain_text("Ihre Bestellung wurde versandt")
        quoted = body.locator("[data-quoted]")
        original = quoted.locator("[data-original]")
        expect(original).to_contain_text("Ihre Bestellung wurde versandt")
        expect(original).to_be_hidden()
        screenshot(page, f"email-folded-{width}")
        quoted.locator("summary").click()
        expect(original).to_be_visible()
        screenshot(page, f"email-unfolded-{width}")


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_amazon_relay_reply_box_states_and_enforces_the_rules(live_server, page):
    world = build_world()
    mailbox = StoreFactory(organization=world.org, name="Seller Central mailbox", platform=Platform.EMAIL, site="")
    mailbox.credentials = {"address": "seller@gadgets.example"}
    mailbox.save()
    eml = FIXTURES / "amazon_relay_us.eml"
    call_command("mail_import", "--store", str(mailbox.pk), str(eml), stdout=StringIO())
    message = Message.objects.get(external_id="<0100018c-amazon-us-0030@email.amazonses.com>")
    assert message.store_id == world.store_us.pk  # the organization's Amazon store

    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/tickets/{message.ticket_id}/")
        expect(page.locator("[data-reply-rules]")).to_contain_text("plain text")
        page.fill("#reply-body", "Please return it via https://my-shop.example/returns")
        page.click("#reply-box button[type=submit]:has-text('Send reply')")
        expect(page.locator("#reply-box .field-error")).to_contain_text("https://my-shop.example/returns")
        screenshot(page, f"email-amazon-rules-{width}")
    assert not Message.objects.filter(ticket_id=message.ticket_id, direction="outbound").exists()
