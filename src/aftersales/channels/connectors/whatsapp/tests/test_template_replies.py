"""Issue 12 section 5: a template sent from the ticket (POST /api/v1/tickets/{id}/template-messages
and the reply box's picker) goes through the ordinary reply path: checked against the stored
template, queued, delivered by the worker as the WhatsApp template (exact request asserted on the
fake). Outside the 24-hour window free text is refused and a template goes; inside both go; bad
variables are refused naming the field with nothing queued. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from aftersales.catalog.models import Store
from aftersales.channels.connectors.whatsapp.fake import WhatsAppFake
from aftersales.inbox.models import DeliveryStatus, Message, MessageDirection, Ticket
from aftersales.inbox.services.delivery import message_deliver

from .test_acceptance import BUYER, inbound

TEMPLATE = {"name": "order_update", "language": "en_US", "variables": ["Sheena", "#1042"]}


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def synced(store: Store, world: Any) -> Client:
    client = signed_in(world.admin)
    assert client.post(f"/api/v1/stores/{store.pk}/sync/templates").status_code == 200
    return client


def template_request(fake: WhatsAppFake) -> dict[str, Any]:
    return fake.requests_to(rf"/v23\.0/{fake.phone_number_id}/messages", "POST")[-1].json()


def send(client: Client, ticket: Ticket, payload: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/tickets/{ticket.pk}/template-messages", payload, content_type="application/json")


def outbound_count(ticket: Ticket) -> int:
    return Message.objects.filter(ticket=ticket, direction=MessageDirection.OUTBOUND).count()


def test_outside_the_window_free_text_is_refused_and_a_template_goes(
    store: Store, fake: WhatsAppFake, world: Any
) -> None:
    ticket = inbound(store, fake, ago=24 * 3600 + 5)
    client = synced(store, world)
    refused = client.post(
        f"/api/v1/tickets/{ticket.pk}/replies",
        {"body": "Your replacement ships today.", "confirm_language": True},
        content_type="application/json",
    )
    assert refused.status_code == 422, refused.content
    assert refused.json()["error"]["field"] == "body"
    assert outbound_count(ticket) == 0
    created = send(client, ticket, TEMPLATE)
    assert created.status_code == 201, created.content
    message = Message.objects.get(pk=created.json()["id"])
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert message.template == TEMPLATE
    assert "Sheena" in message.body and "#1042" in message.body and "{{1}}" not in message.body
    assert message_deliver(message.pk) == DeliveryStatus.SENT
    assert template_request(fake) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": BUYER,
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "Sheena"}, {"type": "text", "text": "#1042"}]}
            ],
        },
    }
    message.refresh_from_db()
    assert message.external_id == fake.sent[-1]["_id"]
    # Retry-safe: the same Idempotency-Key returns the first one.
    again = client.post(
        f"/api/v1/tickets/{ticket.pk}/template-messages",
        TEMPLATE,
        content_type="application/json",
        headers={"Idempotency-Key": "k1"},
    )
    assert again.status_code == 201
    repeat = client.post(
        f"/api/v1/tickets/{ticket.pk}/template-messages",
        TEMPLATE,
        content_type="application/json",
        headers={"Idempotency-Key": "k1"},
    )
    assert repeat.status_code == 200 and repeat.json()["id"] == again.json()["id"]


def test_inside_the_window_text_and_template_both_go(store: Store, fake: WhatsAppFake, world: Any) -> None:
    ticket = inbound(store, fake, ago=60)
    client = synced(store, world)
    text = client.post(
        f"/api/v1/tickets/{ticket.pk}/replies",
        {"body": "Your replacement ships today.", "confirm_language": True},
        content_type="application/json",
    )
    assert text.status_code == 201
    assert message_deliver(text.json()["id"]) == DeliveryStatus.SENT
    assert template_request(fake)["type"] == "text"
    created = send(client, ticket, TEMPLATE)
    assert created.status_code == 201
    assert message_deliver(created.json()["id"]) == DeliveryStatus.SENT
    assert template_request(fake)["template"]["name"] == "order_update"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "no_such_template"}, "name"),
        ({"name": ""}, "name"),
        ({"language": "pt_BR"}, "language"),
        ({"variables": ["Sheena"]}, "variables"),
        ({"variables": ["Sheena", "#1042", "extra"]}, "variables"),
        ({"variables": ["Sheena", "  "]}, "variables[1]"),
        ({"variables": ["two\nlines", "#1042"]}, "variables[0]"),
    ],
)
def test_bad_templates_are_refused_naming_the_field_nothing_queued(
    store: Store, fake: WhatsAppFake, world: Any, change: dict[str, Any], field: str
) -> None:
    ticket = inbound(store, fake, ago=24 * 3600 + 5)
    client = synced(store, world)
    refused = send(client, ticket, {**TEMPLATE, **change})
    assert refused.status_code == 422, refused.content
    assert refused.json()["error"]["field"] == field
    assert outbound_count(ticket) == 0


def test_another_organization_may_not_send_a_template(store: Store, fake: WhatsAppFake, world: Any) -> None:
    """(The viewer's 403 is in api/tests/test_permission_matrix.py.)"""
    ticket = inbound(store, fake, ago=60)
    synced(store, world)
    assert send(signed_in(world.foreign_user), ticket, TEMPLATE).status_code == 404
    assert outbound_count(ticket) == 0


def test_the_reply_box_offers_the_templates_when_the_window_is_closed(
    store: Store, fake: WhatsAppFake, world: Any
) -> None:
    ticket = inbound(store, fake, ago=60)
    client = synced(store, world)
    page = f"/tickets/{ticket.pk}/"
    assert "data-template-offers" not in client.get(page).content.decode()  # open window: free text
    Message.objects.filter(ticket=ticket).update(sent_at=timezone.now() - timedelta(hours=25))
    html = client.get(page).content.decode()
    assert "data-template-offers" in html and 'data-template="order_update:en_US"' in html
    assert html.count('name="variables"') == 2
    # Sending from the picker: the same service; an empty variable is refused naming it.
    url = f"/tickets/{ticket.pk}/template-message/"
    form = {"name": "order_update", "language": "en_US"}
    refused = client.post(url, {**form, "variables": ["Sheena", ""]}, follow=True)
    assert "variables[1]" in refused.content.decode()
    assert outbound_count(ticket) == 0
    done = client.post(url, {**form, "variables": ["Sheena", "#1042"]})
    assert done.status_code == 302
    [message] = Message.objects.filter(ticket=ticket, direction=MessageDirection.OUTBOUND)
    assert message.template == TEMPLATE
    assert message_deliver(message.pk) == DeliveryStatus.SENT
    assert template_request(fake)["template"]["name"] == "order_update"
