"""POST /inbound/messages: idempotent ingestion for integrations."""

from __future__ import annotations

import base64

import pytest

from aftersales.accounts.services import api_token_create
from aftersales.inbox.models import Message, Ticket

from .fixtures import PNG_B64
from .helpers import ApiClient, assert_error, db_state


def payload(world, **overrides):
    data = {
        "store_id": world.store_us.pk,
        "external_id": "amzn-msg-1",
        "body": "My earbuds arrived broken",
        "subject": "Broken earbuds",
        "customer_external_id": "A1B2C3",
        "customer_name": "Jane Doe",
        "customer_email": "jane@example.com",
        "customer_country": "us",
        "customer_language": "en",
        "conversation_id": "conv-9",
        "sent_at": "2026-11-11T08:00:00+08:00",
        "category": "quality_issue",
        "attachments": [{"filename": "photo.png", "content_type": "image/png", "content_base64": PNG_B64}],
    }
    data.update(overrides)
    return data


def test_ingest_creates_then_replays(world, as_user):
    client = as_user(world.admin)
    first = client.post("/inbound/messages", payload(world))
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["created"] and body["ticket_created"]
    ticket = Ticket.objects.get(pk=body["ticket_id"])
    assert ticket.category == "quality_issue" and ticket.store_id == world.store_us.pk
    assert ticket.customer.country == "US"
    message = Message.objects.get(pk=body["message_id"])
    assert message.attachments.get().content_type == "image/png"
    again = client.post("/inbound/messages", payload(world))
    assert again.status_code == 200
    assert again.json() == {**body, "created": False, "ticket_created": False}
    follow_up = client.post("/inbound/messages", payload(world, external_id="amzn-msg-2", attachments=[]))
    assert follow_up.status_code == 201
    assert follow_up.json()["ticket_id"] == body["ticket_id"] and not follow_up.json()["ticket_created"]


def test_ingest_with_an_admin_token(world):
    _, raw = api_token_create(user=world.admin, name="gateway", scopes=["write", "admin"])
    response = ApiClient(token=raw, enforce_csrf=True).post("/inbound/messages", payload(world))
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"attachments": [{"filename": "a.png", "content_base64": "@@@"}]}, "attachments[0].content_base64"),
        ({"attachments": [{"filename": "a.png", "content_base64": "aGVsbG8"}]}, "attachments[0].content_base64"),
        ({"attachments": [{"filename": "a.png"}]}, "attachments[0].content_base64"),
        ({"attachments": [{"filename": "../a.png", "content_base64": PNG_B64}]}, "attachments[0].filename"),
        ({"attachments": [{"filename": "..", "content_base64": PNG_B64}]}, "attachments[0].filename"),
        (
            {"attachments": [{"filename": "a.bin", "content_base64": base64.b64encode(b"\x00\x01\x02" * 9).decode()}]},
            "attachments[0]",
        ),
        ({"external_id": ""}, "external_id"),
        ({"customer_external_id": "x" * 201}, "customer_external_id"),
        ({"body": "", "attachments": []}, "body"),
        ({"category": "fraud"}, "category"),
        ({"customer_country": "XX"}, "customer_country"),
        ({"customer_email": "not-an-email"}, "customer_email"),
        ({"sent_at": "2026-11-11T08:00:00"}, "sent_at"),
        ({"sent_at": "yesterday"}, "sent_at"),
        ({"store_id": "amazon"}, "store_id"),
        ({"unknown": 1}, "unknown"),
        ({"customer_language": "x" * 11}, "customer_language"),
    ],
)
def test_ingest_bad_input_writes_nothing(world, as_user, overrides, field):
    before = db_state()
    assert_error(as_user(world.admin).post("/inbound/messages", payload(world, **overrides)), 422, field=field)
    assert db_state() == before


def test_ingest_needs_a_store_of_the_organization(world, as_user):
    before = db_state()
    client = as_user(world.admin)
    assert_error(
        client.post("/inbound/messages", payload(world, store_id=world.foreign_store.pk)), 404, field="store_id"
    )
    assert_error(client.post("/inbound/messages", payload(world, store_id=987654)), 404, field="store_id")
    assert_error(as_user(world.agent).post("/inbound/messages", payload(world)), 403)
    assert_error(client.post("/inbound/messages", raw="{"), 400, field="body")
    assert db_state() == before
