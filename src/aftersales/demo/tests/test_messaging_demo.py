"""The demo's mailbox, WhatsApp and Messenger (demo/messaging.py, demo/mailbox.py) end to end on
random loopback ports: buyers' e-mails read over the demo IMAP server by the ordinary sync, a reply
delivered to the demo SMTP sink; signed WhatsApp / Messenger pushes posted by the fakes to the
running app (a live server) become tickets, and the agent's reply reaches the fake."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from aftersales.catalog.models import Platform, Store
from aftersales.channels.base import Stream
from aftersales.channels.models import StoreSync
from aftersales.channels.sync import sync_stream
from aftersales.demo import data
from aftersales.demo.messaging import (
    MAIL_BUYERS,
    MAILBOX_STORE,
    MESSENGER_BUYERS,
    MESSENGER_STORE,
    WHATSAPP_BUYERS,
    WHATSAPP_STORE,
    DemoMessaging,
)
from aftersales.inbox.models import DeliveryStatus, Ticket
from aftersales.inbox.services import ticket_reply


@pytest.fixture
def messaging() -> Iterator[DemoMessaging]:
    lines: list[str] = []
    demo = DemoMessaging(log=lines.append).start(0)
    demo.lines = lines  # type: ignore[attr-defined]
    try:
        yield demo
    finally:
        demo.stop()


@pytest.mark.django_db
def test_the_demo_mailbox_reads_the_demo_imap_and_its_replies_reach_the_smtp_sink(
    world: Any, messaging: DemoMessaging, django_capture_on_commit_callbacks: Any
) -> None:
    store = Store.objects.create(organization=world.org, name=MAILBOX_STORE, platform=Platform.EMAIL, site="")
    store.credentials = messaging.mail.credentials()
    store.save()
    world.team_us.stores.add(store)
    messaging.seed()
    run = sync_stream(store_id=store.pk, stream=Stream.MESSAGES)
    assert run.status == "succeeded", run.error
    assert Ticket.objects.filter(store=store).count() == len(MAIL_BUYERS)
    ticket = Ticket.objects.get(store=store, subject=MAIL_BUYERS[0][2])
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=ticket, author=world.agent, body="Sorry! A new case is on its way.")
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT, reply.delivery_error
    [sent] = messaging.mail.store.outbox
    assert sent.recipients == [MAIL_BUYERS[0][1]] and sent.subject == f"Re: {MAIL_BUYERS[0][2]}"
    assert "A new case is on its way" in sent.body
    assert any(line.startswith("mail: delivered 'Re: ") for line in messaging.lines)  # type: ignore[attr-defined]
    # the outbox page lists it; a second sync finds nothing new
    import httpx

    assert MAIL_BUYERS[0][1] in httpx.get(messaging.mail.outbox_url).text
    assert sync_stream(store_id=store.pk, stream=Stream.MESSAGES).created == 0


@pytest.mark.django_db(transaction=True)
def test_whatsapp_and_messenger_pushes_reach_the_app_and_replies_reach_the_fakes(
    live_server: Any, settings: Any
) -> None:
    settings.CHANNELS_ALLOW_ENDPOINT_OVERRIDE = True
    call_command("demo", tickets=0, fakes=True, fakes_port_base=8801, stdout=io.StringIO())
    lines: list[str] = []
    demo = DemoMessaging(app_url=live_server.url, log=lines.append).start(0)
    try:
        for name, fake in ((WHATSAPP_STORE, demo.whatsapp), (MESSENGER_STORE, demo.messenger)):
            Store.objects.filter(name=name).update(endpoint_url=fake.url)  # the fakes' random ports
        seeded = demo.seed()
        assert sum("pushed (200)" in line for line in seeded) == len(WHATSAPP_BUYERS) + len(MESSENGER_BUYERS), [
            line for line in seeded if "messenger" in line
        ]
        whatsapp = Store.objects.get(name=WHATSAPP_STORE, organization__slug=data.ORG_SLUG)
        messenger = Store.objects.get(name=MESSENGER_STORE, organization__slug=data.ORG_SLUG)
        assert Ticket.objects.filter(store=whatsapp).count() == len(WHATSAPP_BUYERS)
        assert Ticket.objects.filter(store=messenger).count() == len(MESSENGER_BUYERS)
        assert StoreSync.objects.get(store=whatsapp).webhook_token  # pushed to the store's own address
        # a push with a wrong signature is refused by the app
        body, headers = demo.whatsapp.signed(demo.whatsapp.text_push("6500000000", "hi", at=time.time()), secret="x")
        token = StoreSync.objects.get(store=whatsapp).webhook_token
        import httpx

        refused = httpx.post(f"{live_server.url}/hooks/whatsapp/{token}", content=body, headers=headers)
        assert refused.status_code == 401
        # replies go out through the worker (Huey immediate) and reach the fakes
        agent = whatsapp.organization.users.get(username="admin")
        for store, fake in ((whatsapp, demo.whatsapp), (messenger, demo.messenger)):
            ticket = Ticket.objects.filter(store=store).order_by("pk").first()
            assert ticket is not None
            reply = ticket_reply(ticket=ticket, author=agent, body="Thanks, we are on it.")
            reply.refresh_from_db()
            assert reply.delivery_status == DeliveryStatus.SENT, reply.delivery_error
            assert any("Thanks, we are on it." in str(item) for item in fake.sent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sum("reply reached the fake" in line for line in lines) < 2:
            time.sleep(0.2)
        assert sum("reply reached the fake" in line for line in lines) == 2, lines
    finally:
        demo.stop()


def test_the_demo_mail_and_chat_fakes_listen_on_loopback_only(messaging: DemoMessaging) -> None:
    import socket

    for port in messaging.mail.ports.values():
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) == 0
    assert all("127.0.0.1" in url for url in messaging.urls.values())
    assert messaging.mail._imap is not None and messaging.mail._imap.server_address[0] == "127.0.0.1"
