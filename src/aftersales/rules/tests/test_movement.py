"""One definition of a ticket's last movement (rules.movement), read by the "no movement" trigger's
job and by the snapshot: messages both ways and notes, status/assignee/team/priority changes, RMA
and tracking events count; classification (category, urgency, tags) does not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from aftersales.catalog.models import TrackingEvent
from aftersales.core.clock import now
from aftersales.inbox.models import Message, MessageDirection, Ticket, TicketEvent
from aftersales.returns.models import Rma, RmaEvent
from aftersales.rules import services
from aftersales.rules.idle import run_idle
from aftersales.rules.models import RuleExecution
from aftersales.rules.movement import last_movements
from aftersales.rules.snapshots import ticket_snapshots
from aftersales.testing.factories import OrderFactory, ShipmentFactory

pytestmark = pytest.mark.django_db

IDLE_3 = {"all": [{"field": "ticket.last_movement_at", "op": "days_since", "value": {"gte": 3}}]}


def quiet_ticket(world: Any, days: float = 10) -> Ticket:
    """A ticket created and last written to `days` days ago, with an order."""
    old = now() - timedelta(days=days)
    order = OrderFactory(store=world.store_us, organization=world.org)
    ticket = world.ticket(order=order)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=old, last_message_at=old, last_customer_message_at=old)
    return Ticket.objects.get(pk=ticket.pk)


def audit(ticket: Ticket, kind: str, days_ago: float) -> None:
    TicketEvent.objects.create(ticket=ticket, type=kind, payload={}, at=now() - timedelta(days=days_ago))


def note(ticket: Ticket, days_ago: float) -> None:
    message = Message.objects.create(
        ticket=ticket, store_id=ticket.store_id, direction=MessageDirection.NOTE, body="called the carrier"
    )
    Message.objects.filter(pk=message.pk).update(created_at=now() - timedelta(days=days_ago))


def rma_event(world: Any, ticket: Ticket, days_ago: float) -> None:
    rma = Rma.objects.create(
        organization=world.org,
        store=world.store_us,
        number=f"R-{ticket.pk}",
        order=ticket.order,
        customer=ticket.customer,
        ticket=ticket,
        reason="damaged",
        requested_at=now() - timedelta(days=20),
    )
    RmaEvent.objects.create(rma=rma, type="received", actor_kind="user", at=now() - timedelta(days=days_ago))


def tracking_event(world: Any, ticket: Ticket, days_ago: float) -> None:
    shipment = ShipmentFactory(order=ticket.order)
    TrackingEvent.objects.create(shipment=shipment, status="in_transit", at=now() - timedelta(days=days_ago))


MOVES = {
    "status change": lambda w, t: audit(t, "status_changed", 1),
    "assignee change": lambda w, t: audit(t, "assigned", 1),
    "team change": lambda w, t: audit(t, "team_changed", 1),
    "priority change": lambda w, t: audit(t, "priority_changed", 1),
    "reply sent": lambda w, t: audit(t, "reply_sent", 1),
    "internal note": lambda w, t: note(t, 1),
    "RMA event": lambda w, t: rma_event(w, t, 1),
    "tracking event": lambda w, t: tracking_event(w, t, 1),
}


@pytest.mark.parametrize("move", list(MOVES))
def test_each_kind_of_movement_counts(world: Any, move: str) -> None:
    ticket = quiet_ticket(world)
    MOVES[move](world, ticket)
    moved = last_movements([ticket.pk])[ticket.pk]
    assert now() - timedelta(days=1, minutes=5) < moved < now() - timedelta(hours=23)
    # the snapshot reads the same definition
    snap = ticket_snapshots(organization_id=world.org.pk, ticket_ids=[ticket.pk], now=now())[ticket.pk]
    assert snap["ticket"]["last_movement_at"] == moved
    # and the periodic job: one day of movement is not three days idle
    services.rule_create(
        user=world.admin,
        data={
            "name": "nudge",
            "trigger": "ticket_idle",
            "enabled": True,
            "conditions": IDLE_3,
            "actions": [{"type": "add_tags", "params": {"tags": ["idle"]}}],
        },
    )
    assert run_idle()["applied"] == 0


@pytest.mark.parametrize("kind", ["category_changed", "urgency_changed", "tags_changed", "language_detected"])
def test_classification_is_not_movement(world: Any, kind: str) -> None:
    ticket = quiet_ticket(world)
    audit(ticket, kind, 1)
    moved = last_movements([ticket.pk])[ticket.pk]
    assert moved < now() - timedelta(days=9)


def test_idle_period_follows_the_latest_movement(world: Any) -> None:
    rule = services.rule_create(
        user=world.admin,
        data={
            "name": "nudge",
            "trigger": "ticket_idle",
            "enabled": True,
            "conditions": IDLE_3,
            "actions": [{"type": "add_tags", "params": {"tags": ["idle"]}}],
        },
    )
    ticket = quiet_ticket(world)
    tracking_event(world, ticket, 5)  # the parcel moved 5 days ago: still 3+ days quiet
    assert run_idle()["applied"] == 1
    execution = RuleExecution.objects.get(rule=rule)
    assert execution.event_key == f"ticket_idle:{ticket.pk}:{last_movements([ticket.pk])[ticket.pk].isoformat()}"
    assert run_idle()["applied"] == 0
    audit(ticket, "assigned", 4)  # later movement, 4 days ago: a new idle period
    assert run_idle()["applied"] == 1


def test_without_anything_the_creation_is_the_last_movement(world: Any) -> None:
    ticket = quiet_ticket(world, days=7)
    Ticket.objects.filter(pk=ticket.pk).update(last_message_at=None)
    assert last_movements([ticket.pk])[ticket.pk] == Ticket.objects.get(pk=ticket.pk).created_at
