"""Outbound replies on an e-mail store, delivered by the worker to a real SMTP server."""

from __future__ import annotations

import pytest

from aftersales.catalog.models import Platform
from aftersales.channels.base import ConnectorError
from aftersales.channels.registry import get_connector
from aftersales.inbox.models import DeliveryStatus, Message, TicketEvent
from aftersales.inbox.services import InboundMessage, message_ingest, message_retry_delivery, ticket_reply
from aftersales.inbox.services.delivery import DeliveryRetry, message_deliver
from aftersales.testing.connectors import unplugged
from aftersales.testing.factories import StoreFactory


@pytest.fixture
def mailbox(world):  # type: ignore[no-untyped-def]
    store = StoreFactory(
        organization=world.org, name="Support mailbox", platform=Platform.EMAIL, site="support@gadgets.example"
    )
    store.credentials = {"from_address": "support@gadgets.example"}
    store.save()
    world.team_us.stores.add(store)
    return store


def _incoming(store):  # type: ignore[no-untyped-def]
    return message_ingest(
        inbound=InboundMessage(
            store=store,
            external_id="<CAF1234@mail.example.net>",
            body="Hallo, mein Paket ist noch nicht angekommen.",
            subject="Bestellung 1001",
            customer_external_id="klaus@example.de",
            customer_email="klaus@example.de",
            customer_name="Klaus Weber",
            customer_language="de",
        )
    )


def test_reply_is_delivered_over_smtp_with_threading_headers(
    world, mailbox, smtp_server, django_capture_on_commit_callbacks
):
    result = _incoming(mailbox)
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=result.ticket, author=world.agent, body="Guten Tag, wir prüfen das sofort.")
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT, reply.delivery_error
    assert len(smtp_server.received) == 1
    sent = smtp_server.received[0]
    assert sent["To"] == "klaus@example.de"
    assert sent["From"] == "support@gadgets.example"
    assert sent["Subject"] == "Re: Bestellung 1001"
    assert sent["In-Reply-To"] == "<CAF1234@mail.example.net>"
    assert "wir prüfen das sofort" in sent.get_content()
    assert reply.external_id == sent["Message-ID"]
    assert TicketEvent.objects.filter(ticket=result.ticket, type="reply_sent").exists()
    # running the task again sends nothing more (the message was claimed and finished)
    assert message_deliver(reply.pk) == DeliveryStatus.SENT
    assert len(smtp_server.received) == 1


def test_refused_recipient_fails_permanently_and_can_be_retried(
    world, mailbox, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.handler.refuse.add("klaus@example.de")
    result = _incoming(mailbox)
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=result.ticket, author=world.agent, body="Hello")
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert "recipient refused" in reply.delivery_error
    smtp_server.handler.refuse.clear()
    with django_capture_on_commit_callbacks(execute=True):
        message_retry_delivery(message=reply, actor=world.agent)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert reply.delivery_attempts == 2


def test_server_down_is_transient_and_keeps_message_queued(world, mailbox, settings):
    from aftersales.testing.smtp import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    result = _incoming(mailbox)
    reply = ticket_reply(ticket=result.ticket, author=world.agent, body="Hello")  # no commit: not sent yet
    with pytest.raises(DeliveryRetry):
        message_deliver(reply.pk)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert "SMTP delivery failed" in reply.delivery_error


def test_unknown_platform_has_no_connector():
    with pytest.raises(ConnectorError) as exc:
        get_connector("wish")
    assert exc.value.permanent


def test_stale_sending_is_failed_not_resent(world, mailbox):
    from datetime import timedelta

    from django.utils import timezone

    from aftersales.inbox.services import messages_fail_stale_sending

    result = _incoming(mailbox)
    reply = ticket_reply(ticket=result.ticket, author=world.agent, body="Hello")
    Message.objects.filter(pk=reply.pk).update(
        delivery_status=DeliveryStatus.SENDING, created_at=timezone.now() - timedelta(hours=1)
    )
    assert messages_fail_stale_sending() == 1
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED and "unknown" in reply.delivery_error


def test_transient_failures_end_in_failed_after_the_last_attempt(world, mailbox, settings):
    from aftersales.inbox.services.delivery import MAX_DELIVERY_ATTEMPTS
    from aftersales.testing.smtp import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    result = _incoming(mailbox)
    reply = ticket_reply(ticket=result.ticket, author=world.agent, body="Hello")
    for _ in range(MAX_DELIVERY_ATTEMPTS - 1):
        with pytest.raises(DeliveryRetry):
            message_deliver(reply.pk)
    assert message_deliver(reply.pk) == DeliveryStatus.FAILED
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert reply.delivery_error.startswith(f"gave up after {MAX_DELIVERY_ATTEMPTS} attempts")


# Wish is this module's example of a platform without a connector: unplugged for its tests.
_no_wish_connector = unplugged("wish")
