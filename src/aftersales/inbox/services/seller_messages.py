"""Messages the seller wrote on the platform itself (its own back office, the seller app): kept on
the buyer's thread as outbound messages so the agent sees the whole conversation. They open no
ticket and never reopen or move one; a seller's answer after the buyer's last message counts as a
reply (the ticket is no longer unreplied). The connector that brought it is the actor."""

from __future__ import annotations

from django.db import transaction

from aftersales.catalog.models import CustomerIdentity, Order
from aftersales.core import events
from aftersales.core.actors import Actor

from ..events import ReplyDelivered
from ..models import DeliveryStatus, Message, MessageDirection, Ticket, TicketEventType
from ..workflow import StatusCategory
from .common import record_event, sanitise_html
from .ingest import InboundMessage, IngestResult, live_tickets
from .search import ticket_search_refresh


def seller_message_record(*, inbound: InboundMessage, actor: Actor) -> IngestResult | None:
    """Attach a seller-written platform message to its buyer's thread (the conversation, else the
    order's ticket, else the buyer's open ticket on this store). Returns None when there is no such
    ticket (nothing is opened for it). Same (store, external id) twice = one message. Locks the
    ticket row."""
    store = inbound.store
    existing = Message.objects.select_related("ticket").filter(store=store, external_id=inbound.external_id).first()
    if existing is not None:
        return IngestResult(message=existing, ticket=existing.ticket, created=False, ticket_created=False)
    with transaction.atomic():
        ticket = _thread(inbound)
        if ticket is None:
            return None
        at = inbound.sent_at or ticket.last_message_at
        message = Message.objects.create(
            ticket=ticket,
            store=store,
            direction=MessageDirection.OUTBOUND,
            channel=store.platform,
            external_id=inbound.external_id,
            author_name=store.name,  # the seller wrote it (the buyer fields name the recipient)
            body=inbound.body,
            body_html=sanitise_html(inbound.body_html),
            delivery_status=DeliveryStatus.SENT,
            sent_at=at,
        )
        if at is not None:
            if ticket.last_message_at is None or at > ticket.last_message_at:
                ticket.last_message_at = at
            if ticket.last_customer_message_at is None or at >= ticket.last_customer_message_at:
                ticket.is_unreplied = False
                ticket.first_response_at = ticket.first_response_at or at
        ticket.save()
        record_event(ticket, TicketEventType.REPLY_SENT, actor, message_id=message.pk, via="platform")
        ticket_search_refresh(ticket_ids=[ticket.pk])
        events.publish(
            ReplyDelivered(
                message_id=message.pk, ticket_id=ticket.pk, organization_id=ticket.organization_id, actor=actor
            )
        )
    return IngestResult(message=message, ticket=ticket, created=True, ticket_created=False)


def _thread(inbound: InboundMessage) -> Ticket | None:
    store = inbound.store
    live = live_tickets()
    if inbound.conversation_id:
        ticket = live.filter(store=store, conversation_id=inbound.conversation_id).order_by("-id").first()
        if ticket is not None:
            return ticket
    if inbound.order_external_id:
        order = Order.objects.filter(store=store, external_id=inbound.order_external_id).first()
        if order is not None:
            ticket = live.filter(order=order).order_by("-id").first()
            if ticket is not None:
                return ticket
    identity = CustomerIdentity.objects.filter(store=store, external_id=inbound.customer_external_id).first()
    if identity is None:
        return None
    return (
        live.filter(
            store=store,
            customer_id=identity.customer_id,
            status_category__in=[StatusCategory.OPEN, StatusCategory.WAITING],
        )
        .order_by("-id")
        .first()
    )
