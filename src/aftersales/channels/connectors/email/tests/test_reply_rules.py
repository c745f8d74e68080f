"""Amazon's messaging rules for answers through the relay, refused when the reply is queued: by the
API and the agent UI alike (one service), with a 4xx naming the field; and the threading rules that
keep a stranger out of someone's ticket."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from aftersales.catalog.models import Platform
from aftersales.channels.connectors.email.amazon_relay import relay_conversation_id, relay_reply_problems
from aftersales.inbox.models import Message, MessageDirection
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.inbox.services.threading import message_of_reply_token, reply_message_id
from aftersales.inbox.services.tickets import ticket_merge
from aftersales.testing.factories import StoreFactory

RELAY = "q9w8e7r6t5y4abc@marketplace.amazon.com"


class ApiClient:
    """JSON to /api/v1 as a signed-in user (a domain app's tests do not import the API's helpers)."""

    def __init__(self, *, user: Any) -> None:
        self.client = Client()
        self.client.force_login(user)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json")


def assert_error(response: Any, status: int, *, field: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:500])
    error = response.json()["error"]
    assert error["field"] == field, error
    return dict(error)


@pytest.fixture
def relay_ticket(world):  # type: ignore[no-untyped-def]
    mailbox = StoreFactory(organization=world.org, name="Seller mailbox", platform=Platform.EMAIL, site="")
    return world.ticket(
        conversation_id=relay_conversation_id(mailbox_store_id=mailbox.pk, address=RELAY, order="114-3941689-8772232")
    )


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("See <b>this</b> page", "plain text"),
        ("Details: https://my-shop.example/help", "https://my-shop.example/help"),
        ("Visit www.my-shop.example for more", "www.my-shop.example"),
        ("Mail me: help@my-shop.example", "help@my-shop.example"),
    ],
)
def test_api_refuses_a_draft_breaking_amazons_rules(world, relay_ticket, body, fragment):
    agent = ApiClient(user=world.agent)
    error = assert_error(agent.post(f"/tickets/{relay_ticket.pk}/replies", {"body": body}), 422, field="body")
    assert fragment in error["message"]
    assert not Message.objects.filter(ticket=relay_ticket, direction=MessageDirection.OUTBOUND).exists()


def test_api_accepts_amazon_links_and_allowed_attachments(world, relay_ticket):
    agent = ApiClient(user=world.agent)
    image = io.BytesIO()
    Image.new("RGB", (4, 4)).save(image, "PNG")
    response = agent.post(
        f"/tickets/{relay_ticket.pk}/replies",
        {
            "body": "Start the return at https://www.amazon.com/gp/css/returns and reply here.",
            "attachments": [
                {
                    "filename": "label.png",
                    "content_type": "image/png",
                    "content_base64": base64.b64encode(image.getvalue()).decode(),
                }
            ],
        },
    )
    assert response.status_code == 201, response.content


def test_attachment_type_and_size_rules():
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert relay_reply_problems("ok", [("a.pdf", 10, "application/pdf"), ("b.docx", 10, docx)]) == []
    [problem] = relay_reply_problems("ok", [("a.pdf", 10, "application/pdf"), ("sheet.xlsx", 10, xlsx)])
    assert problem.field == "attachments[1]"
    [problem] = relay_reply_problems("ok", [("big.pdf", 11 * 1024 * 1024, "application/pdf")])
    assert problem.field == "attachments"


def test_agent_ui_refuses_it_too(world, relay_ticket, client):
    client.force_login(world.agent)
    response = client.post(
        reverse("web:ticket_reply", args=[relay_ticket.pk]), {"body": "Our shop: https://my-shop.example"}
    )
    assert response.status_code in {200, 422}
    assert "https://my-shop.example" in response.content.decode()
    assert "Amazon" in response.content.decode()
    assert not Message.objects.filter(ticket=relay_ticket, direction=MessageDirection.OUTBOUND).exists()


def test_ordinary_tickets_are_not_bound_by_amazons_rules(world):
    agent = ApiClient(user=world.agent)
    ticket = world.ticket()
    response = agent.post(f"/tickets/{ticket.pk}/replies", {"body": "See https://my-shop.example/help"})
    assert response.status_code == 201, response.content


# --- threading -----------------------------------------------------------------------------------


def test_reply_tokens_are_signed(settings):
    token = reply_message_id(message_id=42, domain="gadgets.example")
    assert message_of_reply_token(token) == 42
    forged = token.replace("<as.42.", "<as.43.")
    assert message_of_reply_token(forged) is None
    settings.SECRET_KEY = "another-key-another-key-another-key-0123456789"
    assert message_of_reply_token(token) is None


def _mail(store, external_id, *, customer="jane@example.com", subject="Hi", references=(), body="Hello"):  # type: ignore[no-untyped-def]
    return message_ingest(
        inbound=InboundMessage(
            store=store,
            external_id=external_id,
            body=body,
            subject=subject,
            customer_external_id=customer,
            customer_email=customer,
            message_id_header=external_id,
            references=list(references),
        )
    )


def test_reply_to_a_merged_ticket_lands_in_the_ticket_it_was_merged_into(world):
    mailbox = StoreFactory(organization=world.org, name="Support", platform=Platform.EMAIL, site="")
    world.team_us.stores.add(mailbox)
    first = _mail(mailbox, "<a@x>")
    second = _mail(mailbox, "<b@x>", customer="jane.work@example.com")
    ticket_merge(source=first.ticket, target=second.ticket, actor=world.agent, confirm_differences=True)
    answer = _mail(mailbox, "<c@x>", customer="someone@else.example", references=["<a@x>"])
    assert answer.ticket.pk == second.ticket.pk and not answer.ticket_created


def test_message_ids_of_another_organization_are_not_followed(world):
    mine = StoreFactory(organization=world.org, name="Support", platform=Platform.EMAIL, site="")
    theirs = StoreFactory(organization=world.foreign_store.organization, name="Theirs", platform=Platform.EMAIL)
    foreign = _mail(theirs, "<secret@x>")
    mail = _mail(mine, "<d@x>", customer="mallory@evil.example", references=["<secret@x>"])
    assert mail.ticket_created and mail.ticket.pk != foreign.ticket.pk
    # and the same Message-ID in another organization is not a duplicate
    again = _mail(mine, "<secret@x>", customer="mallory@evil.example")
    assert again.created


def test_same_message_in_two_mailboxes_is_stored_once(world):
    support = StoreFactory(organization=world.org, name="Support", platform=Platform.EMAIL, site="")
    sales = StoreFactory(organization=world.org, name="Sales", platform=Platform.EMAIL, site="")
    first = _mail(support, "<cc@x>")
    second = _mail(sales, "<cc@x>")
    assert first.created and not second.created and second.message.pk == first.message.pk


def test_reply_box_states_amazons_rules(world, relay_ticket, client):
    client.force_login(world.agent)
    page = client.get(reverse("web:ticket", args=[relay_ticket.pk])).content.decode()
    assert "data-reply-rules" in page and "Amazon buyer message: reply in plain text" in page
    ordinary = client.get(reverse("web:ticket", args=[world.ticket().pk])).content.decode()
    assert "data-reply-rules" not in ordinary
