"""Delivery of queued replies through the store's connector, run by the worker.

Safe to run twice: a message is claimed with a conditional update (queued -> sending) so only one
worker ever sends it. Transient connector errors put it back to queued and re-raise so the task is
retried with backoff; permanent ones mark it failed for the agent to see.

A reply changes the ticket (status by ON_AGENT_REPLY or the agent's choice, unreplied mark, first
response) only once it is delivered: an undeliverable reply never looks sent."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import check_ticket
from aftersales.catalog.models import Platform, Store
from aftersales.channels.base import AuthError, ConnectorError, OutboundReply
from aftersales.channels.connectors.email.amazon_relay import parse_relay_conversation
from aftersales.channels.context import store_context
from aftersales.channels.pausing import store_sync_pause_by_connector
from aftersales.channels.registry import get_connector
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import Conflict

from ..events import ReplyDelivered, ReplyDeliveryFailed, ReplyQueued
from ..models import DeliveryStatus, Message, MessageDirection, Ticket, TicketEvent, TicketEventType
from ..workflow import ON_AGENT_REPLY, can_transition
from .common import check_store_active, record_event
from .transition import ticket_transition

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
        store = _sending_store(message)
        connector = get_connector(store.platform)
        reply = _reply_of(message, store)
        send_message = getattr(connector, "send_message", None)
        if callable(send_message):  # a connector of the sync engine: it gets the store's context
            receipt = send_message(store_context(store, connector=connector), reply)
        else:
            receipt = connector.send_reply(reply)
    except ConnectorError as exc:
        if isinstance(exc, AuthError):  # the platform refused the store's token: pause it, say why
            _pause_store(message.store, str(exc))
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


def _pause_store(store: Store, reason: str) -> None:
    """The store's sync paused with the platform's words (shown on the store page), as the engine does
    when a pull is refused for good."""
    store_sync_pause_by_connector(store=store, reason=reason)


def _sending_store(message: Message) -> Store:
    """The store a reply goes out through: the ticket's, except for Amazon's buyer messages received
    through Amazon's e-mail relay, answered from the mailbox they came through (amazon_relay.py)."""
    relay = parse_relay_conversation(message.ticket.conversation_id)
    if relay is not None:
        mailbox = Store.objects.filter(
            pk=relay.mailbox_store_id, organization_id=message.ticket.organization_id, platform=Platform.EMAIL
        ).first()
        if mailbox is not None:
            return mailbox
    return message.store


def _reply_of(message: Message, store: Store | None = None) -> OutboundReply:
    ticket = message.ticket
    customer = ticket.customer
    store = store or message.store
    # E-mail threading: the thread's Message-IDs, oldest first (In-Reply-To: the last inbound one).
    thread_ids = list(
        Message.objects.filter(ticket=ticket, external_id__isnull=False)
        .exclude(direction=MessageDirection.NOTE)
        .order_by("-created_at", "-id")
        .values_list("direction", "external_id")[:20]
    )
    last_inbound = next((ext for direction, ext in thread_ids if direction == MessageDirection.INBOUND), None)
    references = [ext for _direction, ext in reversed(thread_ids) if ext and ext.startswith("<")]
    relay = parse_relay_conversation(ticket.conversation_id)
    identity = customer.identities.filter(store_id=message.store_id).values_list("external_id", flat=True).first()
    address = customer.email if store.platform == "email" and customer.email else (identity or "")
    if relay is not None:
        address = relay.address
    attachments = [(a.filename, a.file.read(), a.content_type) for a in message.attachments.all()]
    return OutboundReply(
        message_id=message.pk,
        store_id=message.store_id,
        credentials=store.credentials,
        conversation_id=ticket.conversation_id,
        order_external_id=ticket.order.external_id if ticket.order else None,
        customer_address=address,
        customer_name=customer.name,
        subject=ticket.subject,
        body=message.body,
        in_reply_to=last_inbound,
        attachments=attachments,
        references=references,
        template=dict(message.template) if message.template else None,
    )


def _finish(
    message: Message, status: str, *, error: str = "", external_id: str | None = None, sent_at: datetime | None = None
) -> None:
    """Record the outcome of a delivery attempt. Locks the ticket row (a delivered reply changes it)."""
    actor = Actor.connector(store_id=message.store_id, platform=message.store.platform)
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=message.ticket_id)
        fields: dict[str, Any] = {"delivery_status": status, "delivery_error": error}
        if external_id:
            fields["external_id"] = external_id
        if sent_at:
            fields["sent_at"] = sent_at
        Message.objects.filter(pk=message.pk).update(**fields)
        if status == DeliveryStatus.SENT:
            record_event(ticket, TicketEventType.REPLY_SENT, actor, message_id=message.pk)
            _apply_delivered_reply(ticket, message, delivered_at=sent_at or now())
            events.publish(
                ReplyDelivered(
                    message_id=message.pk, ticket_id=ticket.pk, organization_id=ticket.organization_id, actor=actor
                )
            )
        else:
            record_event(ticket, TicketEventType.REPLY_FAILED, actor, message_id=message.pk, error=error)
            events.publish(
                ReplyDeliveryFailed(
                    message_id=message.pk,
                    ticket_id=ticket.pk,
                    organization_id=ticket.organization_id,
                    error=error,
                    actor=actor,
                )
            )


def _apply_delivered_reply(ticket: Ticket, message: Message, *, delivered_at: datetime) -> None:
    """The customer now has the agent's answer: the ticket counts as replied and moves to the status
    the agent picked with the reply (else by ON_AGENT_REPLY), as the reply's author. A customer
    message that arrived after the reply was written keeps the ticket unreplied and where it is."""
    ticket.first_response_at = ticket.first_response_at or delivered_at
    answered = ticket.last_customer_message_at is None or ticket.last_customer_message_at <= message.created_at
    if answered:
        ticket.is_unreplied = False
        row = (
            TicketEvent.objects.filter(ticket=ticket, type=TicketEventType.REPLIED, payload__message_id=message.pk)
            .values_list("payload", "actor_kind", "actor_ref")
            .first()
        )
        replied = (row[0] if row else None) or {}
        target = replied.get("status") or ON_AGENT_REPLY.get(ticket.status, ticket.status)
        if target != ticket.status and can_transition(ticket.status, target):
            ticket_transition(ticket, target, actor=_reply_author(message, row), reason="replied")
    ticket.save()


def _reply_author(message: Message, replied_row: tuple[Any, str, str] | None) -> Actor:
    """Who wrote the reply, as its `replied` audit row says (an agent, a rule, the system)."""
    if message.author_id:
        return Actor.user(message.author)
    if replied_row and replied_row[1]:
        return Actor(replied_row[1], replied_row[2], message.author_name)
    return Actor.system("delivery")


def message_retry_delivery(*, message: Message, actor: User) -> Message:
    """Put a failed reply back in the queue (agent's "retry" button). The actor needs the reply
    permission on a ticket they can see (NotFound otherwise); the retry is an audit row with the
    actor. Locks the ticket row."""
    ticket = message.ticket
    check_ticket(actor, ticket, Permission.REPLY)
    who = Actor.user(actor)
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        check_store_active(locked.store_id, field="store")
        updated = Message.objects.filter(
            pk=message.pk, direction=MessageDirection.OUTBOUND, delivery_status=DeliveryStatus.FAILED
        ).update(delivery_status=DeliveryStatus.QUEUED, delivery_error="")
        if not updated:
            raise Conflict(_("only a failed reply can be sent again"), field="message_id")
        record_event(locked, TicketEventType.REPLY_RETRIED, who, message_id=message.pk)
        locked.save(update_fields=["updated_at"])
        events.publish(
            ReplyQueued(message_id=message.pk, ticket_id=locked.pk, organization_id=locked.organization_id, actor=who)
        )
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
            sweeper = Actor.system("delivery-sweeper")
            record_event(
                message.ticket, TicketEventType.REPLY_FAILED, sweeper, message_id=message.pk, error="outcome unknown"
            )
            events.publish(
                ReplyDeliveryFailed(
                    message_id=message.pk,
                    ticket_id=message.ticket_id,
                    organization_id=message.ticket.organization_id,
                    error="outcome unknown",
                    actor=sweeper,
                )
            )
            count += 1
    return count


def _message_id_forms(ids: list[str]) -> set[str]:
    """A Message-ID as stored (with angle brackets, as the e-mail connector keeps it) and bare."""
    forms: set[str] = set()
    for raw in ids:
        bare = raw.strip().strip("<>").strip()
        if bare:
            forms.update({bare, f"<{bare}>"})
    return forms


def message_mark_bounced(
    *, organization_id: int, original_message_ids: list[str], reason: str, actor: Actor
) -> Message | None:
    """A bounce (delivery status notification) of one of our replies: the organization's outbound
    message whose external id (its Message-ID) is among `original_message_ids` is marked failed
    with `reason`, a reply_failed audit row is written and ReplyDeliveryFailed published; the ticket
    counts as unreplied again unless a later reply was delivered. Opens nothing, changes no status.
    Returns the message, or None when none of ours matches (or it was already marked). Locks the
    ticket row."""
    forms = _message_id_forms(original_message_ids)
    if not forms:
        return None
    message = (
        Message.objects.select_related("ticket")
        .filter(
            ticket__organization_id=organization_id,
            direction=MessageDirection.OUTBOUND,
            external_id__in=forms,
        )
        .order_by("-id")
        .first()
    )
    if message is None:
        return None
    error = (reason or "bounced")[:2000]
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=message.ticket_id)
        updated = (
            Message.objects.filter(pk=message.pk)
            .exclude(delivery_status=DeliveryStatus.FAILED)
            .update(delivery_status=DeliveryStatus.FAILED, delivery_error=error)
        )
        if not updated:
            return None
        later_delivered = Message.objects.filter(
            ticket=ticket,
            direction=MessageDirection.OUTBOUND,
            delivery_status=DeliveryStatus.SENT,
            created_at__gt=message.created_at,
        ).exists()
        if not later_delivered and not ticket.is_unreplied:
            ticket.is_unreplied = True
            ticket.save(update_fields=["is_unreplied", "updated_at"])
        record_event(ticket, TicketEventType.REPLY_FAILED, actor, message_id=message.pk, error=error, bounce=True)
        events.publish(
            ReplyDeliveryFailed(
                message_id=message.pk,
                ticket_id=ticket.pk,
                organization_id=ticket.organization_id,
                error=error,
                actor=actor,
            )
        )
    message.refresh_from_db()
    return message


RECEIPTS = ("delivered", "read")


def message_record_receipt(
    *, store_id: int, external_id: str, receipt: str, at: datetime, conversation_id: str = ""
) -> Message | None:
    """The platform reports one of our sent replies (found by its external id in the store) as
    "delivered" or "read" at `at`; without an external id, every sent reply of the store's thread
    `conversation_id` sent at or before `at` (Messenger's watermark). Receipts only move forwards and
    are idempotent: each time is set once and never overwritten, "read" also sets "delivered" when
    that status never arrived (Meta may skip or reorder them), a replayed or late "delivered" after
    "read" changes nothing. A reply that is not (or no longer) sent, e.g. failed, is left alone.
    Returns the (latest) updated message, or None when nothing changed or no reply of ours matches."""
    if receipt not in RECEIPTS:
        raise ValueError(f"unknown receipt {receipt!r}")
    mine = Message.objects.filter(
        store_id=store_id, direction=MessageDirection.OUTBOUND, delivery_status=DeliveryStatus.SENT
    )
    if external_id:
        mine = mine.filter(external_id=external_id)
    elif conversation_id:
        mine = mine.filter(ticket__store_id=store_id, ticket__conversation_id=conversation_id, sent_at__lte=at)
    else:
        return None
    ids = list(mine.values_list("pk", flat=True))
    if not ids:
        return None
    # Conditional updates (no read-modify-write): two workers applying receipts cannot move one back.
    changed = Message.objects.filter(pk__in=ids, delivered_at__isnull=True).update(delivered_at=at)
    if receipt == "read":
        changed += Message.objects.filter(pk__in=ids, read_at__isnull=True).update(read_at=at)
    if not changed:
        return None
    return Message.objects.filter(pk__in=ids).order_by("-pk").first()
