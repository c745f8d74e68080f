"""WhatsApp templates with a header and buttons (issue 12 section 5): the header's parameter (a text
header's {{1}}, an image / video / document link) and the buttons' (a URL button's dynamic ending,
a quick-reply payload) are synced from the Graph API's listing, checked against the stored
template (422 naming header[...] / buttons[i]...; nothing queued), and sent as the template's
components (exact request asserted on the fake). SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales.catalog.models import Store
from aftersales.channels.connectors.whatsapp.fake import WhatsAppFake
from aftersales.channels.models import MessageTemplate
from aftersales.inbox.models import DeliveryStatus, Message
from aftersales.inbox.services.delivery import message_deliver

from .test_acceptance import BUYER, inbound
from .test_template_replies import outbound_count, send, synced, template_request

SHIPPED = {
    "name": "order_shipped",
    "language": "en_US",
    "status": "APPROVED",
    "category": "UTILITY",
    "id": "594425479261597",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}} shipped"},
        {"type": "BODY", "text": "Hello {{1}}, it is on its way."},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "URL", "text": "Track", "url": "https://track.example.com/{{1}}"},
                {"type": "QUICK_REPLY", "text": "Stop updates"},
                {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550100"},
            ],
        },
    ],
}
INVOICE = {
    "name": "invoice_ready",
    "language": "en_US",
    "status": "APPROVED",
    "category": "UTILITY",
    "id": "594425479261598",
    "components": [{"type": "HEADER", "format": "DOCUMENT"}, {"type": "BODY", "text": "Your invoice is attached."}],
}


@pytest.fixture
def templates(fake: WhatsAppFake) -> WhatsAppFake:
    fake.templates.extend([SHIPPED, INVOICE])
    return fake


def test_header_and_buttons_are_synced_checked_and_sent(store: Store, templates: WhatsAppFake, world: Any) -> None:
    fake = templates
    ticket = inbound(store, fake, ago=25 * 3600)
    client = synced(store, world)
    shipped = MessageTemplate.objects.get(store=store, name="order_shipped")
    assert (shipped.header_format, shipped.header_text, shipped.header_variables) == ("TEXT", "Order {{1}} shipped", 1)
    assert [(b["type"], b["variables"]) for b in shipped.buttons] == [
        ("URL", 1),
        ("QUICK_REPLY", 0),
        ("PHONE_NUMBER", 0),
    ]
    payload = {
        "name": "order_shipped",
        "language": "en_US",
        "variables": ["Sheena"],
        "header": {"text": "#1042"},
        "buttons": [{"index": 0, "value": "1Z999AA1"}, {"index": 1, "value": "STOP-1042"}],
    }
    created = send(client, ticket, payload)
    assert created.status_code == 201, created.content
    message = Message.objects.get(pk=created.json()["id"])
    assert message.body.startswith("Order #1042 shipped") and "Hello Sheena" in message.body
    assert message_deliver(message.pk) == DeliveryStatus.SENT
    assert template_request(fake) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": BUYER,
        "type": "template",
        "template": {
            "name": "order_shipped",
            "language": {"code": "en_US"},
            "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "#1042"}]},
                {"type": "body", "parameters": [{"type": "text", "text": "Sheena"}]},
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": "1Z999AA1"}],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "1",
                    "parameters": [{"type": "payload", "payload": "STOP-1042"}],
                },
            ],
        },
    }


def test_a_document_header_is_sent_by_link(store: Store, templates: WhatsAppFake, world: Any) -> None:
    fake = templates
    ticket = inbound(store, fake, ago=60)
    client = synced(store, world)
    payload = {
        "name": "invoice_ready",
        "language": "en_US",
        "header": {"type": "document", "link": "https://files.example.com/inv-1042.pdf", "filename": "inv-1042.pdf"},
    }
    created = send(client, ticket, payload)
    assert created.status_code == 201, created.content
    assert message_deliver(created.json()["id"]) == DeliveryStatus.SENT
    assert template_request(fake)["template"]["components"] == [
        {
            "type": "header",
            "parameters": [
                {
                    "type": "document",
                    "document": {"link": "https://files.example.com/inv-1042.pdf", "filename": "inv-1042.pdf"},
                }
            ],
        }
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"header": None}, "header[text]"),
        ({"header": {"text": ""}}, "header[text]"),
        ({"header": {"text": "x" * 61}}, "header[text]"),
        ({"header": {"type": "image", "link": "https://x.example/a.png"}}, "header[type]"),
        ({"buttons": [{"index": 1, "value": "STOP"}]}, "buttons[0]"),
        ({"buttons": [{"index": 0, "value": ""}]}, "buttons[0][value]"),
        ({"buttons": [{"index": 0, "value": "a"}, {"index": 0, "value": "b"}]}, "buttons[1][index]"),
        ({"buttons": [{"index": 0, "value": "a"}, {"index": 2, "value": "call"}]}, "buttons[1]"),
        ({"buttons": [{"index": 0, "value": "a"}, {"index": 7, "value": "x"}]}, "buttons[1][index]"),
    ],
)
def test_bad_header_or_button_parameters_are_refused_by_name(
    store: Store, templates: WhatsAppFake, world: Any, changes: dict[str, Any], field: str
) -> None:
    ticket = inbound(store, templates, ago=60)
    client = synced(store, world)
    payload = {
        "name": "order_shipped",
        "language": "en_US",
        "variables": ["Sheena"],
        "header": {"text": "#1042"},
        "buttons": [{"index": 0, "value": "1Z999AA1"}],
        **changes,
    }
    if payload["header"] is None:
        del payload["header"]
    refused = send(client, ticket, payload)
    assert refused.status_code == 422, refused.content
    assert refused.json()["error"]["field"] == field
    assert outbound_count(ticket) == 0


def test_document_links_must_be_https_and_a_plain_template_takes_no_header(
    store: Store, templates: WhatsAppFake, world: Any
) -> None:
    ticket = inbound(store, templates, ago=60)
    client = synced(store, world)
    bad = send(
        client, ticket, {"name": "invoice_ready", "language": "en_US", "header": {"link": "http://x.example/a.pdf"}}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "header[link]"
    plain = {"name": "order_update", "language": "en_US", "variables": ["A", "B"], "header": {"text": "x"}}
    refused = send(client, ticket, plain)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "header"
    assert outbound_count(ticket) == 0


def test_the_picker_offers_header_and_button_inputs(store: Store, templates: WhatsAppFake, world: Any) -> None:
    ticket = inbound(store, templates, ago=25 * 3600)
    client = synced(store, world)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'name="header_text"' in html and 'name="button_0"' in html and 'name="button_1"' in html
    assert 'name="button_2"' not in html  # a phone button takes no parameter
    answer = client.post(
        f"/tickets/{ticket.pk}/template-message/",
        {
            "name": "order_shipped",
            "language": "en_US",
            "variables": "Sheena",
            "header_text": "#1042",
            "button_0": "1Z9",
        },
    )
    assert answer.status_code == 302
    sent = Message.objects.filter(ticket=ticket).latest("pk")
    assert sent.template["header"] == {"type": "text", "text": "#1042"}
    assert sent.template["buttons"] == [{"index": 0, "type": "url", "value": "1Z9"}]
