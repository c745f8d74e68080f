"""Two workers applying the same event at once on PostgreSQL (threads, each with its own
connection): the rule applies once. The execution row's UNIQUE (rule, event key) is inserted first
in the transaction that runs the actions: the second worker waits on it, then finds it taken."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from aftersales.inbox.models import TicketEvent
from aftersales.rules import engine, services
from aftersales.rules.models import RuleExecution
from aftersales.testing.factories import CustomerFactory
from aftersales.testing.threads import run_together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
]


def test_two_workers_apply_an_event_once(world: Any) -> None:
    rule = services.rule_create(
        user=world.admin,
        data={
            "name": "VIP",
            "trigger": "ticket_created",
            "enabled": True,
            "conditions": {"all": [{"field": "customer.tier", "op": "eq", "value": "vip"}]},
            "actions": [
                {"type": "add_note", "params": {"body": "VIP: answer first."}},
                {"type": "set_urgency", "params": {"urgency": "high"}},
            ],
        },
    )
    for n in range(5):
        ticket = world.ticket(customer=CustomerFactory(organization=world.org, tier="vip"))

        def work(ticket_id: int = ticket.pk, n: int = n) -> engine.RunResult:
            return engine.run_rules(
                organization_id=world.org.pk, trigger="ticket_created", event_key=f"created:{n}", ticket_id=ticket_id
            )

        results = run_together(work, work)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sorted(len(r.applied) for r in results) == [0, 1]
        assert sorted(len(r.already) for r in results) == [0, 1]
        assert RuleExecution.objects.filter(rule=rule, ticket=ticket).count() == 1
        assert TicketEvent.objects.filter(ticket=ticket, type="note_added").count() == 1
        assert TicketEvent.objects.filter(ticket=ticket, type="urgency_changed").count() == 1
