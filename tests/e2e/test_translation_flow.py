"""An English-speaking agent answers a Spanish customer in a real browser, with the real offline
engine (Apertium en<->es): she reads the customer's message translated, writes in English,
translates, checks the Spanish draft against its English back-translation, edits it and sends it;
the timeline shows the Spanish text sent and her English original.

Set E2E_SCREENSHOTS=<dir> to save screenshots of the translated timeline and the draft box."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.inbox.models import Message
from aftersales.language.services import message_translate
from aftersales.testing.factories import CustomerFactory, TicketFactory
from aftersales.testing.personas import build_world

from .test_agent_flow import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER = "Hola, mi teléfono no funciona. ¿Pueden enviarme uno nuevo? Pedido 113-1234567-1234567."
ENGLISH = "Hello, we will send you a new phone today."


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_english_agent_answers_a_spanish_customer(live_server, page):
    world = build_world()
    customer = CustomerFactory(organization=world.org, name="Ana Ruiz", preferred_language="es", country="ES")
    ticket = TicketFactory(store=world.store_us, customer=customer, subject="Teléfono no funciona", language="es")
    message = Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="inbound",
        channel="amazon",
        author_name=customer.name,
        body=CUSTOMER,
        language="es",
        external_id="es-1",
    )
    message_translate(message_id=message.pk)  # what the worker does when the message arrives

    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    translation = page.locator(f"#translation-{message.pk}")
    expect(translation).to_contain_text("my telephone does not work")
    expect(translation).to_contain_text("113-1234567-1234567")  # order numbers survive translation
    expect(translation.locator("[data-quality=draft]")).to_be_visible()

    page.fill("#reply-body", ENGLISH)
    page.click("#reply-translate")
    draft = page.locator("#reply-draft-text")
    expect(draft).to_have_value("Hola,  te enviaremos un teléfono nuevo hoy.")
    expect(page.locator("#reply-back-translation")).to_contain_text("we will send you a new telephone today")
    expect(page.locator("#reply-draft [data-quality=draft]")).to_have_text("Draft quality (rule-based)")
    screenshot(page, "ticket-translation-draft")

    edited = "Hola, le enviaremos hoy un teléfono nuevo. Saludos, Alice"
    draft.fill(edited)
    page.click("#reply-send")
    reply = page.locator(".msg-outbound", has_text=edited)
    expect(reply).to_be_visible()
    expect(reply).to_contain_text("Written in English, sent translated")
    expect(reply).to_contain_text(ENGLISH)
    expect(page.locator("#reply-body")).to_have_value("")
    expect(page.locator("#reply-draft-text")).to_have_count(0)
    screenshot(page, "ticket-after-send")
    sent = Message.objects.get(direction="outbound")
    assert sent.body == edited and sent.translations["en"]["text"] == ENGLISH
