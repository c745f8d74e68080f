"""Inbound message -> MessageReceived -> Huey task -> TriageResult (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aftersales.catalog.models import CustomerTier, Platform
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.testing.factories import CustomerFactory, OrderFactory, StoreFactory, make_identity
from aftersales.triage.models import TriageResult
from aftersales.triage.selectors import ticket_triage
from aftersales.triage.services import message_triage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("triage_model")]


def _amazon_de(world):  # type: ignore[no-untyped-def]
    return StoreFactory(
        organization=world.org, name="Amazon DE", platform=Platform.AMAZON, site="amazon.de", default_language="de"
    )


def test_a_german_vip_broken_screen_on_amazon_de_is_damaged_and_urgent(world, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    store = _amazon_de(world)
    vip = CustomerFactory(organization=world.org, tier=CustomerTier.VIP, preferred_language="de", country="DE")
    make_identity(vip, store, "A1VIPBUYER")
    order = OrderFactory(store=store, customer=vip, external_id="302-7766554-3322110")
    with django_capture_on_commit_callbacks(execute=True):
        result = message_ingest(
            inbound=InboundMessage(
                store=store,
                external_id="amz-de-1",
                body="Hallo, das Display meines Handys ist kaputt angekommen, der Bildschirm ist gesprungen. "
                "Bestellung 302-7766554-3322110",
                customer_external_id="A1VIPBUYER",
            )
        )
    triage = TriageResult.objects.get(message__ticket=result.ticket)
    assert triage.intent == "damaged_item"
    assert triage.urgency == "high"
    assert triage.language == "de"
    assert triage.order_id == order.pk
    assert triage.organization_id == world.org.pk
    assert [e["value"] for e in triage.entities if e["type"] == "order_number"] == ["302-7766554-3322110"]
    shown = ticket_triage(ticket_id=result.ticket.pk)
    assert shown is not None and shown.intent == "damaged_item" and shown.order_number == "302-7766554-3322110"


def test_classifying_again_is_idempotent(world, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        result = message_ingest(
            inbound=InboundMessage(
                store=world.store_us,
                external_id="m-1",
                body="I want to cancel my order please",
                customer_external_id="C1",
            )
        )
    message = result.ticket.messages.get()
    first = TriageResult.objects.get(message=message)
    again = message_triage(message_id=message.pk)
    assert again is not None and again.pk == first.pk and again.updated_at == first.updated_at
    assert TriageResult.objects.filter(message=message).count() == 1


def test_a_threat_needs_a_human(world, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        result = message_ingest(
            inbound=InboundMessage(
                store=world.store_us,
                external_id="m-2",
                body="Still nothing. If I don't get my money by Friday I'm opening a PayPal dispute.",
                customer_external_id="C2",
            )
        )
    triage = TriageResult.objects.get(message__ticket=result.ticket)
    assert triage.intent == "chargeback_dispute_threat"
    assert triage.urgency == "high" and triage.needs_human and "threat" in triage.reasons


def test_an_order_number_of_another_organization_is_not_linked(world):  # type: ignore[no-untyped-def]
    from aftersales.triage.services import order_for_entities

    OrderFactory(store=world.foreign_store, external_id="302-1111111-2222222")
    entities = [{"type": "order_number", "value": "302-1111111-2222222", "start": 0, "end": 19}]
    assert order_for_entities(organization_id=world.org.pk, entities=entities) is None
    assert order_for_entities(organization_id=world.foreign_org.pk, entities=entities) is not None


def test_shopify_numbers_link_with_or_without_the_hash(world):  # type: ignore[no-untyped-def]
    from aftersales.triage.services import order_for_entities

    order = OrderFactory(store=world.store_us, external_id="1043")
    entities = [{"type": "order_number", "value": "#1043", "start": 0, "end": 5}]
    assert order_for_entities(organization_id=world.org.pk, entities=entities) == order


def test_outbound_messages_are_not_triaged(world):  # type: ignore[no-untyped-def]
    from aftersales.inbox.models import Message

    ticket = world.ticket()
    message = Message.objects.create(
        ticket=ticket, store=ticket.store, direction="outbound", channel=ticket.platform, body="Thanks, we'll check"
    )
    assert message_triage(message_id=message.pk) is None


def test_the_ticket_page_shows_the_triage(world, client, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        result = message_ingest(
            inbound=InboundMessage(
                store=world.store_us,
                external_id="m-3",
                body="The vase arrived in pieces, the box was crushed. Order 113-0000001-0000000",
                customer_external_id="C3",
            )
        )
    client.force_login(world.agent)
    page = client.get(reverse("web:ticket", args=[result.ticket.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="triage-panel"' in html and 'data-intent="damaged_item"' in html
