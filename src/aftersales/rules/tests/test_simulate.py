"""The dry run (rules/simulate.py): history of the organization replayed through a draft or a saved
version, matches and would-be changes described, nothing written, bounds and refusals naming fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from aftersales.core.errors import NotFound, PermissionDenied, ValidationFailed
from aftersales.inbox.models import Message, Ticket, TicketEvent
from aftersales.rules.models import Rule, RuleExecution, RuleVersion
from aftersales.rules.simulate import rule_simulate

AMAZON_HIGH = {
    "trigger": "ticket_created",
    "conditions": {"all": [{"field": "ticket.platform", "op": "eq", "value": "amazon"}]},
    "actions": [
        {"type": "set_urgency", "params": {"urgency": "high"}},
        {"type": "add_note", "params": {"body": "VIP"}},
    ],
}


def _aged(ticket: Ticket, days: float) -> Ticket:
    Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(days=days))
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def history(world: Any) -> dict[str, Any]:
    recent = _aged(world.ticket(subject="Screen broken"), 2)
    already_high = _aged(world.ticket(subject="Already urgent", urgency="high"), 3)
    old = _aged(world.ticket(subject="Too old"), 40)
    ebay = _aged(world.ticket(store=world.store_de, subject="eBay one"), 1)
    foreign = _aged(world.foreign_ticket(subject="Foreign"), 1)
    return {"recent": recent, "already_high": already_high, "old": old, "ebay": ebay, "foreign": foreign}


@pytest.mark.django_db
def test_draft_replay_describes_changes_and_writes_nothing(world: Any, history: dict[str, Any]) -> None:
    events_before = TicketEvent.objects.count()
    result = rule_simulate(world.admin, document=AMAZON_HIGH, days=30)
    assert (result.trigger, result.days, result.events_examined, result.matched, result.truncated) == (
        "ticket_created",
        30,
        3,  # recent, already high, eBay: not the 40-day-old one nor another organization's
        2,
        False,
    )
    by_ticket = {m.ticket_id: m for m in result.matches}
    assert set(by_ticket) == {history["recent"].pk, history["already_high"].pk}
    urgency, note = by_ticket[history["recent"].pk].changes
    assert (urgency.action, urgency.field, urgency.current, urgency.value, urgency.changes) == (
        "set_urgency",
        "urgency",
        "medium",
        "high",
        True,
    )
    assert (note.action, note.field, note.changes) == ("add_note", "", True)
    assert by_ticket[history["already_high"].pk].changes[0].changes is False
    assert by_ticket[history["recent"].pk].ticket_subject == "Screen broken"
    assert dict(result.change_counts) == {"set_urgency": 1, "add_note": 2}
    assert Ticket.objects.get(pk=history["recent"].pk).urgency == "medium"
    assert TicketEvent.objects.count() == events_before and not RuleExecution.objects.exists()
    assert rule_simulate(world.admin, document=AMAZON_HIGH, days=90).events_examined == 4


@pytest.mark.django_db
def test_row_cap_truncates(world: Any, history: dict[str, Any]) -> None:
    result = rule_simulate(world.admin, document=AMAZON_HIGH, days=30, row_cap=2)
    assert (result.events_examined, result.truncated) == (2, True)


@pytest.mark.django_db
def test_saved_version_and_message_replay(world: Any, history: dict[str, Any]) -> None:
    rule = Rule.objects.create(organization=world.org, name="Refund words", trigger="message_received")
    v1 = RuleVersion.objects.create(
        rule=rule,
        number=1,
        conditions={"all": [{"field": "message.body", "op": "contains", "value": "refund"}]},
        actions=[{"type": "add_tags", "params": {"tags": ["refund"]}}],
    )
    v2 = RuleVersion.objects.create(
        rule=rule,
        number=2,
        conditions={"all": [{"field": "message.body", "op": "contains", "value": "nothing like this"}]},
        actions=[{"type": "add_tags", "params": {"tags": ["refund"]}}],
    )
    rule.current_version = v2
    rule.save(update_fields=["current_version"])
    ticket = history["recent"]
    for body in ("I want a refund", "hello"):
        Message.objects.create(ticket=ticket, store=ticket.store, direction="inbound", channel="amazon", body=body)
    assert rule_simulate(world.admin, rule_id=rule.pk).matched == 0
    result = rule_simulate(world.admin, rule_id=rule.pk, version=v1.number)
    assert (result.version_number, result.events_examined, result.matched) == (1, 2, 1)
    assert result.matches[0].event_key.startswith("message_received:")
    with pytest.raises(NotFound):
        rule_simulate(world.admin, rule_id=rule.pk, version=7)
    with pytest.raises(NotFound):
        rule_simulate(world.foreign_user, rule_id=rule.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"document": {**AMAZON_HIGH, "trigger": "whenever"}}, "trigger"),
        ({"document": {**AMAZON_HIGH, "colour": "red"}}, "colour"),
        (
            {"document": {**AMAZON_HIGH, "conditions": {"all": [{"field": "x.y", "op": "eq", "value": 1}]}}},
            "conditions.all[0].field",
        ),
        ({"document": {**AMAZON_HIGH, "actions": [{"type": "explode"}]}}, "actions[0].type"),
        ({"document": {**AMAZON_HIGH, "scope": {"store_ids": [999999]}}}, "scope.store_ids[0]"),
        ({"document": AMAZON_HIGH, "days": 91}, "days"),
        ({"document": AMAZON_HIGH, "days": 0}, "days"),
        ({"document": AMAZON_HIGH, "row_cap": 20_001}, "row_cap"),
        ({}, "document"),
    ],
)
def test_refusals_name_the_field(world: Any, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        rule_simulate(world.admin, **kwargs)
    assert err.value.field == field


@pytest.mark.django_db
def test_admins_only(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        rule_simulate(world.agent, document=AMAZON_HIGH)


def _saved(world: Any, trigger: str, conditions: dict[str, Any]) -> Rule:
    name = f"{trigger} rule {Rule.objects.count()}"
    rule = Rule.objects.create(organization=world.org, name=name, trigger=trigger)
    version = RuleVersion.objects.create(
        rule=rule, number=1, conditions=conditions, actions=[{"type": "set_urgency", "params": {"urgency": "high"}}]
    )
    rule.current_version = version
    rule.save(update_fields=["current_version"])
    return rule


@pytest.mark.django_db
def test_other_triggers_replay_their_history(world: Any, history: dict[str, Any]) -> None:
    from aftersales.returns.models import Rma, RmaEvent
    from aftersales.sla.models import TicketSla
    from aftersales.testing.factories import OrderFactory

    ticket = history["recent"]
    at = timezone.now() - timedelta(days=1)
    TicketEvent.objects.create(ticket=ticket, type="urgency_changed", payload={"old": "medium", "new": "low"}, at=at)
    TicketEvent.objects.create(ticket=ticket, type="status_changed", payload={"old": "open", "new": "solved"}, at=at)
    TicketEvent.objects.create(ticket=ticket, type="note_added", payload={}, at=at)  # not an update
    changed = _saved(
        world, "ticket_updated", {"all": [{"field": "event.changed", "op": "contains", "value": "status"}]}
    )
    result = rule_simulate(world.admin, rule_id=changed.pk, days=7)
    assert (result.events_examined, result.matched) == (2, 1)
    new_status = _saved(
        world, "ticket_updated", {"all": [{"field": "event.new_status", "op": "eq", "value": "solved"}]}
    )
    assert rule_simulate(world.admin, rule_id=new_status.pk, days=7).matched == 1

    TicketSla.objects.create(
        ticket=ticket,
        organization=world.org,
        started_at=at,
        first_response_due=at,
        first_response_breached_at=at,
        computed_at=at,
    )
    breached = _saved(world, "sla_breached", {"all": [{"field": "event.clock", "op": "eq", "value": "first_response"}]})
    result = rule_simulate(world.admin, rule_id=breached.pk, days=7)
    assert (result.events_examined, result.matched) == (1, 1)
    assert rule_simulate(world.admin, rule_id=_saved(world, "sla_warning", {"all": []}).pk).events_examined == 0

    order = OrderFactory(store=world.store_us)
    rma = Rma.objects.create(
        organization=world.org,
        store=world.store_us,
        number="RMA-S1",
        order=order,
        ticket=ticket,
        reason="damaged",
        requested_at=at,
    )
    RmaEvent.objects.create(
        rma=rma, type="status_changed", payload={"old": "requested", "new": "approved"}, actor_kind="system", at=at
    )
    requested = _saved(world, "rma_requested", {"all": [{"field": "rma.reason", "op": "eq", "value": "damaged"}]})
    result = rule_simulate(world.admin, rule_id=requested.pk)
    assert (result.matched, result.matches[0].rma_id, result.matches[0].ticket_id) == (1, rma.pk, ticket.pk)
    approved = _saved(
        world, "rma_status_changed", {"all": [{"field": "event.new_status", "op": "eq", "value": "approved"}]}
    )
    assert rule_simulate(world.admin, rule_id=approved.pk).matched == 1

    # scheduled: the unresolved tickets as of now (the foreign one and resolved ones left out)
    Ticket.objects.filter(pk=history["old"].pk).update(status="solved", status_category="resolved")
    result = rule_simulate(world.admin, rule_id=_saved(world, "scheduled", {"all": []}).pk)
    assert result.events_examined == 3


@pytest.mark.django_db
def test_batched_snapshots_are_the_engines(world: Any, history: dict[str, Any]) -> None:
    """The dry run builds ticket and message snapshots in batches: the same dicts as build_snapshot."""
    from aftersales.rules.simulate import HistoryEvent, _snapshots
    from aftersales.rules.snapshots import build_snapshot

    ticket = history["recent"]
    message = Message.objects.create(
        ticket=ticket, store=ticket.store, direction="inbound", channel="amazon", body="hi"
    )
    at = timezone.now()
    events = [
        HistoryEvent("a", at, ticket_id=ticket.pk),
        HistoryEvent("b", at, ticket_id=ticket.pk, message_id=message.pk, event={"actor_kind": "customer"}),
    ]
    for event, snap in _snapshots(world.org.pk, "message_received", events):
        assert snap == build_snapshot(
            organization_id=world.org.pk,
            trigger="message_received",
            now=at,
            ticket_id=event.ticket_id,
            message_id=event.message_id,
            event=event.event,
        )


@pytest.mark.django_db
def test_rma_events_are_snapshotted_in_constant_queries_per_chunk(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    """RMA events (with and without a ticket) cost the same number of queries for 2 or 8 of them,
    and each snapshot is the engine's single-event one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from aftersales.returns.tests.test_exchange_services import make_rma
    from aftersales.rules.simulate import HistoryEvent, _snapshots
    from aftersales.rules.snapshots import build_snapshot

    rmas = [make_rma(world, number=f"RMA-Q{i}")[0] for i in range(8)]
    for rma in rmas[::2]:
        rma.ticket = world.ticket(order=rma.order, customer=rma.customer)
        rma.save(update_fields=["ticket"])
    at = timezone.now()

    def events(n: int) -> list[Any]:
        return [
            HistoryEvent(f"e{r.pk}", at, rma_id=r.pk, event={"old_status": "requested", "new_status": "approved"})
            for r in rmas[:n]
        ]

    with CaptureQueriesContext(connection) as few:
        _snapshots(world.org.pk, "rma_status_changed", events(2))
    with django_assert_max_num_queries(len(few.captured_queries)):
        pairs = _snapshots(world.org.pk, "rma_status_changed", events(8))
    for event, snap in pairs:
        assert snap is not None and snap["rma"]["id"] == event.rma_id
        assert snap == build_snapshot(
            organization_id=world.org.pk, trigger="rma_status_changed", now=at, rma_id=event.rma_id, event=event.event
        )
