"""The "no movement for N days" trigger (rules.idle) and the ticket_updated key made by the publisher."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import DomainError
from aftersales.core.events import publish
from aftersales.inbox.events import TicketUpdated
from aftersales.inbox.models import Ticket, TicketEvent
from aftersales.inbox.services import ticket_update
from aftersales.rules import services
from aftersales.rules.idle import run_idle
from aftersales.rules.models import Rule, RuleExecution

pytestmark = pytest.mark.django_db

IDLE_3 = {"all": [{"field": "ticket.last_movement_at", "op": "days_since", "value": {"gte": 3}}]}


def rule(world: Any, trigger: str, conditions: Any, name: str = "r") -> Rule:
    return services.rule_create(
        user=world.admin,
        data={
            "name": name,
            "trigger": trigger,
            "enabled": True,
            "conditions": conditions,
            "actions": [{"type": "add_tags", "params": {"tags": [trigger]}}],
        },
    )


def idle_since(ticket: Ticket, days: float) -> None:
    """The ticket's last message `days` ago (created a month ago: its creation is movement too)."""
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=now() - timedelta(days=30), last_message_at=now() - timedelta(days=days)
    )


@pytest.mark.parametrize(
    "conditions",
    [
        {"all": []},
        {"all": [{"field": "ticket.last_movement_at", "op": "days_since", "value": {"lte": 3}}]},
        {"any": [{"field": "ticket.last_movement_at", "op": "days_since", "value": {"gte": 3}}]},
        {"all": [{"field": "ticket.last_movement_at", "op": "days_since", "value": {"gte": 0}}]},
    ],
)
def test_an_idle_rule_needs_its_days_at_the_top(world: Any, conditions: Any) -> None:
    with pytest.raises(DomainError) as info:
        rule(world, "ticket_idle", conditions)
    assert info.value.field == "conditions"
    assert not Rule.objects.exists()


def test_idle_tickets_get_the_rule_once_per_idle_period(world: Any) -> None:
    r = rule(world, "ticket_idle", IDLE_3)
    idle, fresh, solved = world.ticket(), world.ticket(), world.ticket()
    idle_since(idle, 4)
    idle_since(fresh, 1)
    idle_since(solved, 10)
    Ticket.objects.filter(pk=solved.pk).update(status="solved", status_category="resolved")
    assert run_idle()["applied"] == 1
    assert run_idle()["applied"] == 0  # the same idle period: nothing twice
    execution = RuleExecution.objects.get(rule=r)
    assert execution.ticket_id == idle.pk and execution.event_key.startswith(f"ticket_idle:{idle.pk}:")
    idle_since(idle, 5)  # another message, then 5 quiet days: a new period
    assert run_idle()["applied"] == 1
    assert RuleExecution.objects.filter(rule=r).count() == 2
    assert list(idle.tags.values_list("name", flat=True)) == ["ticket_idle"]


def test_ticket_update_publishes_its_audit_row_as_the_event_id(world: Any, monkeypatch: Any) -> None:
    from aftersales.inbox.services import tickets

    seen: list[Any] = []
    monkeypatch.setattr(tickets.events, "publish", seen.append)
    ticket = world.ticket()
    ticket_update(ticket=ticket, actor=world.agent, urgency="high")
    [event] = [e for e in seen if isinstance(e, TicketUpdated)]
    assert event.ticket_event_id == TicketEvent.objects.filter(ticket=ticket).latest("pk").pk


def test_a_duplicated_ticket_updated_publication_applies_once(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rule(world, "ticket_updated", {"all": []})
    ticket = world.ticket()
    event = TicketUpdated(
        ticket_id=ticket.pk,
        organization_id=world.org.pk,
        changes={"urgency": ("low", "high")},
        actor=Actor.user(world.agent),
        ticket_event_id=987,
    )
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            publish(event)
    assert RuleExecution.objects.filter(event_key="ticket_updated:987").count() == 1
    # the rule's own tag change is another update, keyed by its own audit row (and a chain step)
    own = TicketEvent.objects.filter(ticket=ticket, type="tags_changed").latest("pk")
    assert RuleExecution.objects.filter(event_key=f"ticket_updated:{own.pk}").exists()
