"""The engine end to end: rules saved through the services, events evaluated against snapshots,
actions applied as the rule through the domain services, once per event, with loop protection,
scopes, schedules, precedence and stop-further."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.core.actors import Actor, ActorKind
from aftersales.core.clock import now
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.inbox.models import Ticket, TicketEvent
from aftersales.rules import engine, services
from aftersales.rules.models import ExecutionOutcome, Rule, RuleExecution, RuleVersion
from aftersales.rules.snapshots import build_snapshot, ticket_snapshots
from aftersales.testing.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


def rule_doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "High urgency for VIPs",
        "trigger": "ticket_created",
        "enabled": True,
        "conditions": {"all": [{"field": "customer.tier", "op": "eq", "value": "vip"}]},
        "actions": [{"type": "set_urgency", "params": {"urgency": "high"}}],
    }
    doc.update(overrides)
    return doc


def vip_ticket(world: Any, **kwargs: Any) -> Ticket:
    customer = CustomerFactory(organization=world.org, tier="vip", lifetime_value_amount=Decimal("900"))
    return world.ticket(customer=customer, **kwargs)


def run(world: Any, ticket: Ticket, key: str = "", trigger: str = "ticket_created", **kw: Any) -> engine.RunResult:
    return engine.run_rules(
        organization_id=world.org.pk,
        trigger=trigger,
        event_key=key or f"{trigger}:{ticket.pk}",
        ticket_id=ticket.pk,
        **kw,
    )


def test_rule_applies_once_per_event_as_the_rule(world: Any) -> None:
    rule = services.rule_create(user=world.admin, data=rule_doc())
    ticket = vip_ticket(world)
    first = run(world, ticket)
    assert len(first.applied) == 1
    ticket.refresh_from_db()
    assert ticket.urgency == "high"
    row = TicketEvent.objects.filter(ticket=ticket, type="urgency_changed").get()
    assert (row.actor_kind, row.actor_ref) == (ActorKind.RULE, str(rule.pk))
    execution = RuleExecution.objects.get()
    assert execution.outcome == ExecutionOutcome.APPLIED and execution.version.number == 1
    assert execution.matched[0]["field"] == "customer.tier" and execution.matched[0]["result"] is True
    assert execution.actions == [
        {"type": "set_urgency", "params": {"urgency": "high"}, "status": "ok", "result": {"urgency": "high"}}
    ]
    again = run(world, ticket)  # a retried task, a second worker: nothing applied twice
    assert again.applied == [] and again.already == [rule.pk]
    assert RuleExecution.objects.count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, type="urgency_changed").count() == 1


def test_no_match_writes_nothing(world: Any) -> None:
    services.rule_create(user=world.admin, data=rule_doc())
    ticket = world.ticket()  # not a VIP
    result = run(world, ticket)
    assert result.applied == []
    assert not RuleExecution.objects.exists()


def test_every_edit_makes_a_version_and_logs_name_it(world: Any) -> None:
    rule = services.rule_create(user=world.admin, data=rule_doc())
    services.rule_update(user=world.admin, rule_id=rule.pk, data=rule_doc(priority=5))  # not content: no version
    assert RuleVersion.objects.filter(rule=rule).count() == 1
    changed = rule_doc(actions=[{"type": "set_urgency", "params": {"urgency": "low"}}])
    rule = services.rule_update(user=world.admin, rule_id=rule.pk, data=changed)
    assert rule.current_version is not None and rule.current_version.number == 2
    run(world, vip_ticket(world))
    assert RuleExecution.objects.get().version.number == 2


def test_bad_documents_are_refused_naming_the_path_and_nothing_is_saved(world: Any) -> None:
    cases = [
        (
            rule_doc(conditions={"all": [{}, {}, {"field": "ticket.urgency", "op": "like", "value": 1}]}),
            "conditions.all[0].field",
        ),
        (
            rule_doc(conditions={"any": [{"field": "message.body", "op": "regex", "value": "(x+x+)+y"}]}),
            "conditions.any[0].value",
        ),
        (rule_doc(actions=[{"type": "set_urgency", "params": {"urgency": "urgent"}}]), "actions[0].params.urgency"),
        (rule_doc(actions=[{"type": "launch_rocket", "params": {}}]), "actions[0].type"),
        (rule_doc(actions=[{"type": "assign_team", "params": {"team_id": 999999}}]), "actions[0].params.team_id"),
        (rule_doc(scope={"platforms": ["myspace"]}), "scope.platforms[0]"),
        (rule_doc(scope={"store_ids": [world.foreign_store.pk]}), "scope.store_ids[0]"),
        (
            rule_doc(
                schedule={"windows": [{"start": "2026-11-12T00:00:00+08:00", "end": "2026-11-10T00:00:00+08:00"}]}
            ),
            "schedule.windows[0].end",
        ),
        (rule_doc(approval_limit={"amount": "-1", "currency": "EUR"}), "approval_limit.amount"),
        (rule_doc(trigger="whenever"), "trigger"),
    ]
    for doc, path in cases:
        with pytest.raises(ValidationFailed) as info:
            services.rule_create(user=world.admin, data=doc)
        assert info.value.field == path, (path, info.value.message)
    assert not Rule.objects.exists() and not RuleVersion.objects.exists()


def test_only_admins_manage_rules(world: Any) -> None:
    for user in (world.agent, world.approver, world.viewer):
        with pytest.raises(PermissionDenied):
            services.rule_create(user=user, data=rule_doc())


def test_scope_schedule_priority_precedence_and_stop(world: Any) -> None:
    general = services.rule_create(
        user=world.admin,
        data=rule_doc(name="org: low", priority=10, actions=[{"type": "set_urgency", "params": {"urgency": "low"}}]),
    )
    store_rule = services.rule_create(
        user=world.admin,
        data=rule_doc(
            name="store: high",
            priority=10,
            scope={"store_ids": [world.store_us.pk]},
            actions=[{"type": "set_urgency", "params": {"urgency": "high"}}],
        ),
    )
    ticket = vip_ticket(world)
    result = run(world, ticket)
    ticket.refresh_from_db()
    assert ticket.urgency == "high"  # the more specific rule acted first and keeps the field
    skipped = RuleExecution.objects.get(rule=general).actions[0]
    assert skipped["status"] == "skipped" and "store: high" in skipped["reason"]
    assert len(result.applied) == 2
    # another store: only the organization's rule holds
    other = vip_ticket(world, store=world.store_de)
    run(world, other)
    other.refresh_from_db()
    assert other.urgency == "low"
    # stop further: the store rule stops the organization's
    services.rule_update(
        user=world.admin,
        rule_id=store_rule.pk,
        data=rule_doc(
            name="store: high",
            priority=10,
            scope={"store_ids": [world.store_us.pk]},
            stop_further=True,
            actions=[{"type": "set_urgency", "params": {"urgency": "high"}}],
        ),
    )
    third = vip_ticket(world)
    result = run(world, third)
    assert [RuleExecution.objects.get(pk=pk).rule_id for pk in result.applied] == [store_rule.pk]
    # a schedule window in the past: inactive
    services.rule_update(
        user=world.admin,
        rule_id=store_rule.pk,
        data=rule_doc(
            name="store: high",
            scope={"store_ids": [world.store_us.pk]},
            schedule={"windows": [{"start": "2020-11-10T00:00:00+08:00", "end": "2020-11-12T00:00:00+08:00"}]},
        ),
    )
    fourth = vip_ticket(world)
    result = run(world, fourth)
    assert [RuleExecution.objects.get(pk=pk).rule_id for pk in result.applied] == [general.pk]


def test_chain_depth_bounds_loops(world: Any) -> None:
    services.rule_create(user=world.admin, data=rule_doc(trigger="ticket_updated"))
    ticket = vip_ticket(world)
    result = run(world, ticket, trigger="ticket_updated", key="ticket_updated:x", chain_depth=engine.MAX_CHAIN_DEPTH)
    assert result.applied == [] and len(result.stopped_by_chain) == 1
    row = RuleExecution.objects.get()
    assert row.outcome == ExecutionOutcome.CHAIN_LIMIT and row.actions == [] and row.chain_depth == 3
    ticket.refresh_from_db()
    assert ticket.urgency != "high"
    # depth of an event: inside a rule's actions one more; a rule's event outside a run: near the bound
    assert engine.chain_depth_for(Actor.system("x")) == 0
    assert engine.chain_depth_for(Actor.rule(1, "r")) == engine.MAX_CHAIN_DEPTH - 1
    with engine._acting_at(2):
        assert engine.chain_depth_for(Actor.rule(1, "r")) == 2


@pytest.mark.django_db(transaction=True)
def test_a_rule_that_triggers_itself_stops_at_the_bound(world: Any) -> None:
    """Two rules on "ticket updated" toggling the urgency would loop forever; the chain depth stops
    them (events delivered after commit, the Huey task run inline as in tests)."""
    services.rule_create(
        user=world.admin,
        data=rule_doc(
            name="up",
            trigger="ticket_updated",
            conditions={"all": [{"field": "ticket.urgency", "op": "ne", "value": "high"}]},
        ),
    )
    services.rule_create(
        user=world.admin,
        data=rule_doc(
            name="down",
            trigger="ticket_updated",
            conditions={"all": [{"field": "ticket.urgency", "op": "eq", "value": "high"}]},
            actions=[{"type": "set_urgency", "params": {"urgency": "low"}}],
        ),
    )
    ticket = vip_ticket(world)
    from aftersales.inbox.services.tickets import ticket_update

    ticket_update(ticket=ticket, actor=world.admin, category="refund")
    depths = sorted(RuleExecution.objects.values_list("chain_depth", "outcome"))
    assert depths == [(0, "applied"), (1, "applied"), (2, "applied"), (engine.MAX_CHAIN_DEPTH, "chain_limit")]


def test_snapshot_queries_do_not_grow_with_tickets(world: Any) -> None:
    def tickets(n: int) -> list[int]:
        out = []
        for _ in range(n):
            product = ProductFactory(organization=world.org, category="phones")
            order = OrderFactory(
                organization=world.org, store=world.store_us, customer=CustomerFactory(organization=world.org)
            )
            OrderLineFactory(order=order, product=product, sku=product.sku)
            out.append(world.ticket(order=order, customer=order.customer).pk)
        return out

    few, many = tickets(2), tickets(12)
    with CaptureQueriesContext(connection) as small:
        ticket_snapshots(organization_id=world.org.pk, ticket_ids=few, now=now())
    with CaptureQueriesContext(connection) as large:
        snaps = ticket_snapshots(organization_id=world.org.pk, ticket_ids=many, now=now())
    assert len(small.captured_queries) == len(large.captured_queries) <= 9  # rules.snapshots
    snap = snaps[many[0]]
    assert snap["product"]["category"] == "phones" and snap["order"]["skus"] and snap["store"]["platform"] == "amazon"
    single = build_snapshot(organization_id=world.org.pk, trigger="ticket_created", now=now(), ticket_id=many[0])
    assert single is not None and single["event"] == {"trigger": "ticket_created"}
    assert (
        build_snapshot(organization_id=world.foreign_org.pk, trigger="ticket_created", now=now(), ticket_id=many[0])
        is None
    )


def test_compiled_rules_are_cached_until_a_rule_changes(world: Any) -> None:
    rule = services.rule_create(user=world.admin, data=rule_doc())
    first = engine.ruleset(world.org.pk, "ticket_created")
    assert engine.ruleset(world.org.pk, "ticket_created") is first
    services.rules_set_enabled(user=world.admin, rule_ids=[rule.pk], enabled=False)
    assert engine.ruleset(world.org.pk, "ticket_created") == []


def test_scheduled_rules_apply_once_per_ticket_and_slot(world: Any) -> None:
    services.rule_create(
        user=world.admin,
        data=rule_doc(
            name="stale",
            trigger="scheduled",
            conditions={"all": [{"field": "ticket.created_at", "op": "days_since", "value": {"gte": 2}}]},
            actions=[{"type": "add_tags", "params": {"tags": ["stale"]}}],
        ),
    )
    old = world.ticket()
    Ticket.objects.filter(pk=old.pk).update(created_at=now() - timedelta(days=3))
    world.ticket()  # fresh: no match
    at = now()
    assert engine.run_scheduled(now=at)["applied"] == 1
    assert engine.run_scheduled(now=at)["applied"] == 0  # same slot: idempotent
    assert list(old.tags.values_list("name", flat=True)) == ["stale"]
    assert engine.run_scheduled(now=at + timedelta(minutes=engine.SCHEDULE_MINUTES))["applied"] == 1
