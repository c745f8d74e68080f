"""Domain events reach the rules of their trigger (subscribers -> Huey task -> engine), with the
event's fields in the snapshot's `event` section, once per event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.events import publish
from aftersales.rules import services
from aftersales.rules.models import RuleExecution
from aftersales.sla.events import SlaBreached
from aftersales.testing.factories import OrderFactory, ShipmentFactory
from aftersales.tracking.events import ShipmentStatusChanged

pytestmark = pytest.mark.django_db


def rule(world: Any, trigger: str, conditions: dict[str, Any]) -> Any:
    return services.rule_create(
        user=world.admin,
        data={
            "name": trigger,
            "trigger": trigger,
            "enabled": True,
            "conditions": conditions,
            "actions": [{"type": "add_tags", "params": {"tags": [trigger]}}],
        },
    )


def test_sla_breach_reaches_its_rules_once(world: Any, django_capture_on_commit_callbacks: Any) -> None:
    rule(world, "sla_breached", {"field": "event.clock", "op": "eq", "value": "first_response"})
    ticket = world.ticket()
    due = now() - timedelta(minutes=5)
    event = SlaBreached(
        ticket_id=ticket.pk, organization_id=world.org.pk, clock="first_response", due_at=due, actor=Actor.system("sla")
    )
    for _ in range(2):  # the same breach delivered twice
        with django_capture_on_commit_callbacks(execute=True):
            publish(event)
    execution = RuleExecution.objects.get()
    assert execution.event_key == f"sla_breached:{ticket.pk}:first_response:{due.isoformat()}"
    assert list(ticket.tags.values_list("name", flat=True)) == ["sla_breached"]
    other = SlaBreached(
        ticket_id=ticket.pk, organization_id=world.org.pk, clock="resolution", due_at=due, actor=Actor.system("sla")
    )
    with django_capture_on_commit_callbacks(execute=True):
        publish(other)
    assert RuleExecution.objects.count() == 1  # conditions: the first-response clock only


def test_a_stalled_shipment_reaches_the_open_tickets_of_its_order(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rule(world, "shipment_stalled", {"field": "event.new_status", "op": "in", "value": ["exception", "lost"]})
    order = OrderFactory(organization=world.org, store=world.store_us)
    shipment = ShipmentFactory(order=order)
    ticket = world.ticket(order=order, customer=order.customer)
    moved = ShipmentStatusChanged(
        shipment_id=shipment.pk,
        order_id=order.pk,
        organization_id=world.org.pk,
        tracking_number="1Z999",
        old_status="in_transit",
        new_status="in_transit",
        at=None,
        actor=Actor.connector(store_id=world.store_us.pk, platform="17track"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        publish(moved)  # still moving: not a stall
    assert not RuleExecution.objects.exists()
    stalled = ShipmentStatusChanged(**{**moved.__dict__, "new_status": "exception", "at": now()})
    with django_capture_on_commit_callbacks(execute=True):
        publish(stalled)
    execution = RuleExecution.objects.get()
    assert execution.ticket_id == ticket.pk and execution.trigger == "shipment_stalled"
    assert list(ticket.tags.values_list("name", flat=True)) == ["shipment_stalled"]
