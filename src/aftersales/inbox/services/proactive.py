"""A ticket the seller side opens before the buyer wrote (issue 11 section 5: a parcel stalled for
days -> a proactive message to the buyer): the order's live ticket when there is one, else a new
ticket on the order's store, customer and language. Opened by a system or rule actor, never by a
buyer message, so it starts open and not unreplied (nobody is waiting for an answer yet)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.catalog.models import Order
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import Conflict

from ..events import TicketCreated
from ..models import Ticket, TicketEventType
from ..workflow import STATUS_CATEGORY, StatusCategory, TicketCategory, TicketStatus
from .common import record_event
from .search import ticket_search_refresh


def order_live_ticket(order: Order) -> Ticket | None:
    """The order's newest ticket that is neither resolved nor merged away."""
    return (
        Ticket.objects.filter(order=order, merged_into__isnull=True)
        .exclude(status_category=StatusCategory.RESOLVED)
        .order_by("-created_at", "-id")
        .first()
    )


def ticket_open_for_order(
    *, order: Order, subject: str, actor: Actor, category: str = TicketCategory.LOGISTICS
) -> tuple[Ticket, bool]:
    """The order's live ticket (False), else a new one opened by `actor` (True): a `created` audit
    row with the actor and `source: proactive`, TicketCreated after commit. Conflict (field
    `order`) when the order has no customer to write to. Locks the order row, so two sweeps never
    open two tickets for one order."""
    if order.customer_id is None:
        raise Conflict(_("the order has no customer to write to"), field="order")
    with transaction.atomic():
        locked = Order.objects.select_for_update(of=("self",)).select_related("store", "customer").get(pk=order.pk)
        existing = order_live_ticket(locked)
        if existing is not None:
            return existing, False
        customer = locked.customer
        assert customer is not None
        store = locked.store
        at = now()
        ticket = Ticket(
            organization_id=locked.organization_id,
            subject=subject[:300],
            store=store,
            platform=store.platform,
            customer=customer,
            customer_tier=customer.tier,
            order=locked,
            category=category,
            language=customer.preferred_language or store.default_language,
            is_high_priority=customer.tier == "vip",
            status=TicketStatus.OPEN,
            status_category=STATUS_CATEGORY[TicketStatus.OPEN],
            last_message_at=at,
            is_unreplied=False,
        )
        ticket.save(force_insert=True)
        record_event(ticket, TicketEventType.CREATED, actor, source="proactive", store_id=store.pk)
        ticket_search_refresh(ticket_ids=[ticket.pk])
        events.publish(TicketCreated(ticket_id=ticket.pk, organization_id=ticket.organization_id, actor=actor))
    return ticket, True
