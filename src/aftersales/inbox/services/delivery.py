"""Delivery of queued replies through the store's connector, run by the worker.

Safe to run twice: a message is claimed with a conditional update (queued -> sending) so only one
worker ever sends it. Transient connector errors put it back to queued and re-raise so the task is
retried with backoff; permanent ones mark it failed for the agent to see."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F

from aftersales.channels.base import ConnectorError, OutboundReply
from aftersales.channels.registry import get_connector
from aftersales.core.clock import now
from aftersales.core.errors import Conflict

from ..models import DeliveryStatus, Message, MessageDirection, TicketEventType
from .common import record_event

logger = logging.getLogger(__name__)

STALE_SENDING_AFTER = timedelta(minutes=15)
# The task retries 6 times (inbox/tasks.py): after the 7th failed attempt the reply is marked failed,
# so a reply never stays "queued" forever.
MAX_DELIVERY_ATTEMPTS = 7


class DeliveryRetry(Exception):
    """Raised to make the task queue retry a transient failure."""


def message_deliver(message_id: int) -> str:
    """Send one queued outbound message. Returns the final delivery status."""
    claimed = Message.objects.filter(
        pk=message_id, direction=MessageDirection.OUTBOUND, delivery_status=DeliveryStatus.QUEUED
    ).update(delivery_status=DeliveryStatus.SENDING, delivery_attempts=F("delivery_attempts") + 1)
    if not claimed:
        current = Message.objects.filter(pk=message_id).values_list("delivery_status", flat=True).first()
        return current or "missing"
    message = Message.objects.select_related("ticket", "ticket__customer", "ticket__order", "store").get(pk=message_id)
    ticket = message.ticket
    try:
        connector = get_connector(message.store.platform)
        receipt = connector.send_reply(_reply_of(message))
    except ConnectorError as exc:
        if exc.permanent:
            _finish(message, DeliveryStatus.FAILED, error=str(exc))
            return DeliveryStatus.FAILED
        if message.delivery_attempts >= MAX_DELIVERY_ATTEMPTS:
            _finish(message, DeliveryStatus.FAILED, error=f"gave up after {message.delivery_attempts} attempts: {exc}")
            return DeliveryStatus.FAILED
        Message.objects.filter(pk=message.pk).update(delivery_status=DeliveryStatus.QUEUED, delivery_error=str(exc))
        logger.warning("reply delivery failed, will retry", extra={"message_id": message.pk, "error": str(exc)})
        raise DeliveryRetry(str(exc)) from exc
    except Exception as exc:  # unknown failure: do not resend blindly
        _finish(message, DeliveryStatus.FAILED, error=f"unexpected error: {exc}")
        logger.exception("reply delivery crashed", extra={"message_id": message.pk})
        return DeliveryStatus.FAILED
    _finish(message, DeliveryStatus.SENT, external_id=receipt.external_id, sent_at=receipt.sent_at)
    logger.info("reply delivered", extra={"message_id": message.pk, "ticket_id": ticket.pk})
    return DeliveryStatus.SENT


def _reply_of(message: Message) -> OutboundReply:
    ticket = message.ticket
    customer = ticket.customer
    last_inbound = (
        Message.objects.filter(ticket=ticket, direction=MessageDirection.INBOUND, external_id__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("external_id", flat=True)
        .first()
    )
    identity = customer.identities.filter(store_id=message.store_id).values_list("external_id", flat=True).first()
    address = customer.email if message.store.platform == "email" and customer.email else (identity or "")
    attachments = [(a.filename, a.file.read(), a.content_type) for a in message.attachments.all()]
    return OutboundReply(
        message_id=message.pk,
        store_id=message.store_id,
        credentials=message.store.credentials,
        conversation_id=ticket.conversation_id,
        order_external_id=ticket.order.external_id if ticket.order else None,
        customer_address=address,
        customer_name=customer.name,
        subject=ticket.subject,
        body=message.body,
        in_reply_to=last_inbound,
        attachments=attachments,
    )


def _finish(
    message: Message, status: str, *, error: str = "", external_id: str | None = None, sent_at: datetime | None = None
) -> None:
    with transaction.atomic():
        fields: dict[str, Any] = {"delivery_status": status, "delivery_error": error}
        if external_id:
            fields["external_id"] = external_id
        if sent_at:
            fields["sent_at"] = sent_at
        Message.objects.filter(pk=message.pk).update(**fields)
        event = TicketEventType.REPLY_SENT if status == DeliveryStatus.SENT else TicketEventType.REPLY_FAILED
        payload: dict[str, Any] = {"message_id": message.pk}
        if error:
            payload["error"] = error
        record_event(message.ticket, event, None, **payload)


def message_retry_delivery(*, message: Message) -> Message:
    """Put a failed reply back in the queue (agent's "retry" button)."""
    from aftersales.core import events

    from ..events import ReplyQueued

    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.FAILED).update(
            delivery_status=DeliveryStatus.QUEUED, delivery_error=""
        )
        if not updated:
            raise Conflict("only a failed reply can be sent again", field="message_id")
        events.publish(ReplyQueued(message_id=message.pk, ticket_id=message.ticket_id))
    message.refresh_from_db()
    return message


def messages_fail_stale_sending() -> int:
    """A worker that died mid-send leaves a message in `sending`. We cannot know whether the
    platform got it, so we do not resend: it is marked failed for the agent to check and retry."""
    stale = Message.objects.filter(
        delivery_status=DeliveryStatus.SENDING, created_at__lt=now() - STALE_SENDING_AFTER
    ).select_related("ticket")
    count = 0
    for message in stale:
        if Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.SENDING).update(
            delivery_status=DeliveryStatus.FAILED,
            delivery_error="delivery outcome unknown (worker stopped); check before retrying",
        ):
            record_event(
                message.ticket, TicketEventType.REPLY_FAILED, None, message_id=message.pk, error="outcome unknown"
            )
            count += 1
    return count
