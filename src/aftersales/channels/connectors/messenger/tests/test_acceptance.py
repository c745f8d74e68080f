"""Acceptance (issue 12 §6, Facebook Messenger): signed Page pushes through /hooks/facebook/<token>
become one ticket per person (names from the User Profile API, attachments downloaded, the Page's own
answers as echoes), replays store nothing twice, forged signatures are refused and malformed events
quarantined; replies go out as RESPONSE within 24 hours or with the HUMAN_AGENT tag up to 7 days where
granted, with the exact request asserted, and are refused past the window at its edges; an invalidated
token (code 190) pauses the store. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from aftersales.catalog.models import Store
from aftersales.channels.connectors.messenger.fake import MessengerFake
from aftersales.channels.models import RawEvent, RawEventStatus
from aftersales.channels.status import store_sync_for
from aftersales.core.errors import ValidationFailed
from aftersales.inbox.models import DeliveryStatus, Message, MessageDirection, Ticket
from aftersales.inbox.services import reply_rules
from aftersales.inbox.services.delivery import message_deliver
from aftersales.inbox.services.tickets import ticket_reply
from aftersales.testing.factories import StoreFactory

PSID = "6012345678901234"


@pytest.fixture
def fake() -> Iterator[MessengerFake]:
    with MessengerFake().running() as server:
        assert isinstance(server, MessengerFake)
        yield server


def make_store(world: Any, fake: MessengerFake, **credentials: Any) -> Store:
    return StoreFactory(
        organization=world.org,
        name="Gadgets Demo on Messenger",
        platform="facebook",
        site="",
        currency="USD",
        external_id=fake.page_id,
        endpoint_url=fake.url,
        credentials=fake.credentials(**credentials),
    )


def post(store: Store, fake: MessengerFake, push: dict[str, Any], *, secret: str | None = None) -> Any:
    body, headers = fake.signed(push, secret=secret)
    url = f"/hooks/facebook/{store_sync_for(store).webhook_token}"
    return Client().post(url, data=body, content_type="application/json", headers=headers)


def test_pushes_become_one_ticket_per_person(world: Any, fake: MessengerFake) -> None:
    store = make_store(world, fake)
    push = fake.message_push(PSID, "Hola, my order never arrived", at=time.time() - 120)
    assert post(store, fake, push, secret="wrong").status_code == 401
    assert not RawEvent.objects.filter(store=store).exists()
    assert post(store, fake, push).json()["actions"] == {"new_ticket": 1}
    assert post(store, fake, push).json()["actions"] == {"duplicate": 1}
    ogg = b"OggS\x00\x02" + b"\x00" * 64
    voice = fake.message_push(PSID, at=time.time() - 60, files=[("audio", ogg, "audio/ogg")])
    assert post(store, fake, voice).status_code == 200
    echo = fake.message_push(PSID, "We are checking it", at=time.time() - 30, echo=True)
    assert post(store, fake, echo).status_code == 200
    ticket = Ticket.objects.get(store=store)
    assert ticket.customer.name == "Maria Santos"
    assert ticket.conversation_id == f"fb:{fake.page_id}:{PSID}"
    first, second, third = Message.objects.filter(ticket=ticket).order_by("id")
    assert first.body == "Hola, my order never arrived"
    [audio] = second.attachments.all()
    assert audio.file.read() == ogg and audio.filename == "voice-note-1.oga"
    assert third.direction == MessageDirection.OUTBOUND and third.body == "We are checking it"
    profile = fake.requests_to(rf"/v23\.0/{PSID}", "GET")[0]
    assert profile.query == {"fields": ["first_name,last_name"]}
    assert profile.headers["authorization"] == f"Bearer {fake.access_token}"
    broken = fake.message_push(PSID, "x", at=time.time())
    broken["entry"][0]["messaging"][0]["timestamp"] = "soon"
    broken["entry"][0]["messaging"][0]["message"]["mid"] = "m_broken"
    assert post(store, fake, broken).json()["actions"] == {"quarantined": 1}
    quarantined = RawEvent.objects.get(store=store, event_id="mid:m_broken")
    assert quarantined.status == RawEventStatus.QUARANTINED and quarantined.field == "timestamp"
    handshake = {"hub.mode": "subscribe", "hub.verify_token": fake.verify_token, "hub.challenge": "42"}
    answered = Client().get(f"/hooks/facebook/{store_sync_for(store).webhook_token}", handshake)
    assert answered.status_code == 200 and answered.content == b"42"


@pytest.mark.parametrize("tagged", [False, True])
def test_a_reply_is_sent_with_the_exact_request(world: Any, fake: MessengerFake, tagged: bool) -> None:
    store = make_store(world, fake, human_agent=tagged)
    assert post(store, fake, fake.message_push(PSID, "Hola", at=time.time() - 60)).status_code == 200
    ticket = Ticket.objects.get(store=store)
    reply = ticket_reply(ticket=ticket, author=world.admin, body="Your parcel ships today.")
    message_deliver(reply.pk)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT and reply.external_id == fake.sent[0]["_id"]
    [sent] = fake.requests_to(r"/v23\.0/me/messages", "POST")
    assert sent.headers["authorization"] == f"Bearer {fake.access_token}"
    tagging = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"} if tagged else {"messaging_type": "RESPONSE"}
    assert sent.json() == {"recipient": {"id": PSID}, **tagging, "message": {"text": "Your parcel ships today."}}


@pytest.mark.parametrize(
    ("tagged", "elapsed", "allowed"),
    [
        (False, timedelta(hours=23, minutes=59, seconds=59), True),
        (False, timedelta(hours=24), False),
        (True, timedelta(days=6, hours=23, minutes=59, seconds=59), True),
        (True, timedelta(days=7), False),
    ],
)
def test_the_window_at_its_edges(
    world: Any, fake: MessengerFake, monkeypatch: pytest.MonkeyPatch, tagged: bool, elapsed: timedelta, allowed: bool
) -> None:
    store = make_store(world, fake, human_agent=tagged)
    assert post(store, fake, fake.message_push(PSID, "Hola", at=time.time() - 60)).status_code == 200
    ticket = Ticket.objects.get(store=store)
    last = Message.objects.get(ticket=ticket).sent_at
    monkeypatch.setattr(reply_rules, "now", lambda: last + elapsed)
    if allowed:
        assert ticket_reply(ticket=ticket, author=world.admin, body="Still in time.").pk
        assert "until" in reply_rules.reply_rules_notice(ticket)
        return
    with pytest.raises(ValidationFailed) as caught:
        ticket_reply(ticket=ticket, author=world.admin, body="Too late.")
    assert caught.value.field == "body"
    assert "window is closed" in reply_rules.reply_rules_notice(ticket)


def test_outside_the_window_messenger_refuses_without_pausing_an_invalid_token_pauses(
    world: Any, fake: MessengerFake
) -> None:
    store = make_store(world, fake)
    assert post(store, fake, fake.message_push(PSID, "Hola", at=time.time() - 60)).status_code == 200
    ticket = Ticket.objects.get(store=store)
    reply = ticket_reply(ticket=ticket, author=world.admin, body="Hello")
    fake.last_inbound[PSID] = time.time() - 2 * 86400  # Messenger's own clock says the window closed
    message_deliver(reply.pk)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED and "outside of allowed window" in reply.delivery_error
    assert not store_sync_for(store).paused
    fake.last_inbound[PSID] = time.time()
    fake.token_expired = True
    second = ticket_reply(ticket=ticket, author=world.admin, body="Hello again")
    message_deliver(second.pk)
    sync = store_sync_for(store)
    assert sync.paused and "(code 190)" in sync.paused_reason


def test_delivery_and_read_receipts_move_replies_forwards_only(world: Any, fake: MessengerFake) -> None:
    """A delivery names its mids; a read covers the thread up to its watermark (milliseconds)."""
    store = make_store(world, fake)
    assert post(store, fake, fake.message_push(PSID, "Hola", at=time.time() - 60)).status_code == 200
    ticket = Ticket.objects.get(store=store)
    first = ticket_reply(ticket=ticket, author=world.admin, body="Your parcel ships today.")
    message_deliver(first.pk)
    first.refresh_from_db()
    assert first.delivery_status == DeliveryStatus.SENT and first.sent_at is not None

    def receipt(kind: str, body: dict[str, Any]) -> dict[str, int]:
        event = {"sender": {"id": PSID}, "recipient": {"id": fake.page_id}, kind: body}
        push = {"object": "page", "entry": [{"id": fake.page_id, "time": 1, "messaging": [event]}]}
        response = post(store, fake, push)
        assert response.status_code == 200, response.content
        return dict(response.json()["actions"])

    mark = int(first.sent_at.timestamp() * 1000) + 1000
    assert receipt("delivery", {"mids": [first.external_id], "watermark": mark}) == {"updated": 1}
    assert receipt("delivery", {"mids": [first.external_id], "watermark": mark}) == {"duplicate": 1}
    first.refresh_from_db()
    assert first.receipt == "delivered" and first.read_at is None
    # A later reply, then a read whose watermark is before it: only the first is read.
    Message.objects.filter(pk=first.pk).update(sent_at=first.sent_at - timedelta(seconds=30))
    second = ticket_reply(ticket=ticket, author=world.admin, body="Tracking: 1Z999.")
    message_deliver(second.pk)
    second.refresh_from_db()
    read_mark = int((first.sent_at - timedelta(seconds=10)).timestamp() * 1000)
    assert receipt("read", {"watermark": read_mark}) == {"updated": 1}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.receipt, second.receipt) == ("read", "")
    # A read past both: the second becomes read (and delivered); the first keeps its first times.
    read_at = first.read_at
    assert receipt("read", {"watermark": int(time.time() * 1000) + 5000}) == {"updated": 1}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.receipt, first.read_at, second.receipt) == ("read", read_at, "read")
    assert second.delivered_at == second.read_at
    # A late delivery of the first changes nothing.
    assert receipt("delivery", {"mids": [first.external_id], "watermark": mark + 9}) == {"unchanged": 1}
