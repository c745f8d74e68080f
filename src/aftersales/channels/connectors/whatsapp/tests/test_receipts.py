"""Acceptance (issue 12 section 5): WhatsApp's `delivered` / `read` statuses become receipts on the sent
reply, idempotent and never moving backwards (read after delivered; a late `sent` or `delivered` after
`read` changes nothing; `read` alone also counts as delivered), scoped to the store that sent the reply,
and shown on the reply in the ticket timeline and the API. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from django.test import Client

from aftersales.catalog.models import Store
from aftersales.channels.connectors.whatsapp.fake import WhatsAppFake
from aftersales.inbox.models import DeliveryStatus, Message
from aftersales.inbox.services.delivery import message_deliver, message_record_receipt
from aftersales.inbox.services.tickets import ticket_reply

from .test_acceptance import BUYER, inbound, post


def sent_reply(store: Store, fake: WhatsAppFake, world: Any) -> Message:
    ticket = inbound(store, fake)
    reply = ticket_reply(ticket=ticket, author=world.admin, body="Sorry! A replacement ships today.")
    assert message_deliver(reply.pk) == DeliveryStatus.SENT
    reply.refresh_from_db()
    assert reply.external_id and reply.delivered_at is None and reply.read_at is None
    return reply


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def test_delivered_then_read_move_forwards_and_late_statuses_change_nothing(
    store: Store, fake: WhatsAppFake, world: Any
) -> None:
    reply = sent_reply(store, fake, world)
    base = int(time.time())

    def status(word: str, seconds: int) -> dict[str, Any]:
        response = post(store, fake, fake.status_push(reply.external_id, word, BUYER, at=seconds))
        assert response.status_code == 200, response.content
        return dict(response.json()["actions"])

    assert status("sent", base) == {"ignored": 1}
    assert status("delivered", base + 5) == {"updated": 1}
    reply.refresh_from_db()
    assert (reply.receipt, reply.delivered_at, reply.read_at) == ("delivered", at(base + 5), None)
    assert reply.delivery_status == DeliveryStatus.SENT
    # The same push again is a duplicate; another `delivered` (Meta resends) keeps the first time.
    assert status("delivered", base + 5) == {"duplicate": 1}
    assert status("delivered", base + 7) == {"unchanged": 1}
    assert status("read", base + 60) == {"updated": 1}
    reply.refresh_from_db()
    assert (reply.receipt, reply.delivered_at, reply.read_at) == ("read", at(base + 5), at(base + 60))
    # Late statuses after read: nothing moves backwards.
    assert status("sent", base + 90) == {"ignored": 1}
    assert status("delivered", base + 91) == {"unchanged": 1}
    assert status("read", base + 92) == {"unchanged": 1}
    reply.refresh_from_db()
    assert (reply.receipt, reply.delivered_at, reply.read_at) == ("read", at(base + 5), at(base + 60))
    assert reply.delivery_status == DeliveryStatus.SENT

    # Shown on the reply in the timeline, and in the API.
    client = Client()
    client.force_login(world.admin)
    page = client.get(f"/tickets/{reply.ticket_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-receipt="read"' in html and "Read by the customer" in html
    api = client.get(f"/api/v1/tickets/{reply.ticket_id}")
    assert api.status_code == 200, api.content
    [out] = [e["message"] for e in api.json()["timeline"] if e["message"] and e["message"]["id"] == reply.pk]
    assert out["delivery_status"] == "sent"
    assert datetime.fromisoformat(out["delivered_at"]) == at(base + 5)
    assert datetime.fromisoformat(out["read_at"]) == at(base + 60)


def test_read_without_delivered_counts_as_both(store: Store, fake: WhatsAppFake, world: Any) -> None:
    reply = sent_reply(store, fake, world)
    seconds = int(time.time())
    assert post(store, fake, fake.status_push(reply.external_id, "read", BUYER, at=seconds)).json()["actions"] == {
        "updated": 1
    }
    reply.refresh_from_db()
    assert (reply.receipt, reply.delivered_at, reply.read_at) == ("read", at(seconds), at(seconds))
    # A `delivered` that arrives after the `read` (Meta does not promise the order) changes nothing.
    late = fake.status_push(reply.external_id, "delivered", BUYER, at=seconds + 3)
    assert post(store, fake, late).json()["actions"] == {"unchanged": 1}
    reply.refresh_from_db()
    assert reply.delivered_at == at(seconds)

    client = Client()
    client.force_login(world.admin)
    html = client.get(f"/tickets/{reply.ticket_id}/").content.decode()
    assert 'data-receipt="read"' in html and 'data-receipt="delivered"' not in html


def test_a_delivered_reply_shows_delivered_on_the_timeline(store: Store, fake: WhatsAppFake, world: Any) -> None:
    reply = sent_reply(store, fake, world)
    post(store, fake, fake.status_push(reply.external_id, "delivered", BUYER, at=time.time()))
    client = Client()
    client.force_login(world.admin)
    html = client.get(f"/tickets/{reply.ticket_id}/").content.decode()
    assert 'data-receipt="delivered"' in html and "Delivered to the customer" in html


def test_receipts_touch_only_the_sending_stores_sent_replies(store: Store, fake: WhatsAppFake, world: Any) -> None:
    reply = sent_reply(store, fake, world)
    other = world.foreign_store
    now = datetime.now(tz=UTC)
    # Another store (another organization) reporting the same id changes nothing.
    assert message_record_receipt(store_id=other.pk, external_id=reply.external_id, receipt="read", at=now) is None
    assert message_record_receipt(store_id=store.pk, external_id="", receipt="read", at=now) is None
    assert message_record_receipt(store_id=store.pk, external_id="wamid.unknown", receipt="read", at=now) is None
    reply.refresh_from_db()
    assert reply.receipt == ""
    # A failed reply gets no receipt (a `failed` status then a stray `read`).
    Message.objects.filter(pk=reply.pk).update(delivery_status=DeliveryStatus.FAILED)
    stray = fake.status_push(reply.external_id, "read", BUYER, at=time.time())
    assert post(store, fake, stray).json()["actions"] == {"unchanged": 1}
    reply.refresh_from_db()
    assert reply.receipt == "" and reply.delivery_status == DeliveryStatus.FAILED
