"""apply_triage's batch entry point (triage.tasks.apply_triages, services.triage_results_apply_batch): a batch
of triaged messages leaves exactly what the jobs leave one at a time (ticket fields, audit rows in order, the
events published in order, notifications, the teams' round-robin turn), reads its facts in a fixed number of
queries, and a failing message goes back alone while the others are done (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from aftersales.accounts.models import RoutingStrategy
from aftersales.core import events, tasks
from aftersales.inbox.models import Ticket, TicketEvent
from aftersales.notifications.models import Notification
from aftersales.testing.factories import OrderFactory
from aftersales.triage import routing, services
from aftersales.triage.models import TriageSettings
from aftersales.triage.services import triage_settings_update
from aftersales.triage.tasks import apply_triage, apply_triages

from .test_apply import _inbound, _result

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(monkeypatch, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Each write of the job (the application, the routing) is its own transaction in the worker: its events
    are delivered when it returns (not at the end of the test's transaction). Records every delivery."""
    seen: list[object] = []
    deliver = events._Delivery.__call__

    def record(self: Any) -> None:
        seen.extend(self.events)
        deliver(self)

    monkeypatch.setattr(events._Delivery, "__call__", record)
    for module, name in ((services, "triage_result_apply"), (routing, "ticket_route_new")):
        function = getattr(module, name)

        def committed(*args: Any, _function: Any = function, **kwargs: Any) -> Any:
            with django_capture_on_commit_callbacks(execute=True):
                return _function(*args, **kwargs)

        monkeypatch.setattr(module, name, committed)
    return seen


def _scenario(world: Any) -> tuple[list[Ticket], list[int]]:
    """Tickets and the triaged messages of one batch: whatever applying or routing can do or refuse."""
    triage_settings_update(user=world.admin, auto_route=True)
    world.team_de.languages = ["de"]
    world.team_de.routing_strategy = RoutingStrategy.ROUND_ROBIN
    world.team_de.save()
    TriageSettings.objects.create(organization=world.foreign_org, apply_results=False, auto_route=True)
    order = OrderFactory(store=world.store_us)
    t_new = world.ticket(urgency="medium", category="other", status="new")  # applied, then routed
    t_person = world.ticket(urgency="high", category="other", status="new")  # a person set the urgency
    TicketEvent.objects.create(
        ticket=t_person, type="urgency_changed", actor=world.agent, actor_kind="user", at=t_person.created_at
    )
    t_closed = world.ticket(urgency="medium", category="other", status="closed")
    t_two = world.ticket(urgency="medium", category="other", status="new", store=world.store_de, language="de")
    t_team = world.ticket(urgency="medium", category="other", status="new", team=world.team_us)  # low confidence
    t_order = world.ticket(urgency="medium", category="other", status="new", team=world.team_us)  # order only
    t_none = world.ticket(status="new", store=world.store_de, language="de")  # no triage result: routed only
    t_same = world.ticket(urgency="high", category="refund", status="open", assignee=world.agent)  # nothing
    t_de = world.ticket(urgency="low", category="other", status="new", store=world.store_de, language="de")
    foreign = world.ticket(store=world.foreign_store, urgency="medium", category="other", status="new")
    messages = []
    for ticket in (t_new, t_person, t_closed, t_de):
        messages.append(_result(_inbound(ticket)).message_id)
    older, latest = _inbound(t_two), _inbound(t_two)
    messages += [_result(older).message_id, _result(latest, intent="damaged_item").message_id]
    messages.append(_result(_inbound(t_team), reasons=["low_confidence"], confidence=0.3).message_id)
    messages.append(_result(_inbound(t_order), reasons=["low_confidence"], confidence=0.4, order=order).message_id)
    messages.append(_inbound(t_none).pk)
    messages.append(_result(_inbound(t_same)).message_id)
    messages.append(_result(_inbound(foreign)).message_id)
    tickets = [t_new, t_person, t_closed, t_two, t_team, t_order, t_none, t_same, t_de, foreign]
    return tickets, messages


def _outcome(world: Any, tickets: list[Ticket], seen: list[object]) -> dict[str, Any]:
    """What the jobs left, ids of rows they wrote replaced by their rank, clock times left out (runs differ
    only in those)."""
    rows = list(TicketEvent.objects.filter(ticket__in=tickets).order_by("pk"))
    rank = {row.pk: i for i, row in enumerate(rows)}

    notifications = list(Notification.objects.filter(ticket__in=tickets).order_by("pk"))
    ranks = {"ticket_event_id": rank, "notification_id": {row.pk: i for i, row in enumerate(notifications)}}

    def plain(event: object) -> tuple[str, dict[str, Any]]:
        fields = dict(vars(event))
        for name, ranked in ranks.items():
            if name in fields:
                fields[name] = ranked.get(fields[name], "?")
        return type(event).__name__, fields

    return {
        "tickets": [
            Ticket.objects.filter(pk=t.pk)
            .values("urgency", "category", "order_id", "team_id", "assignee_id", "status")
            .get()
            for t in tickets
        ],
        "audit": [(row.ticket_id, row.type, row.actor_id, row.actor_kind, row.actor_ref, row.payload) for row in rows],
        "events": [plain(e) for e in seen],
        "notifications": [
            (user_id, kind, ticket_id, text, f"{key.partition(':')[0]}:{rank.get(int(key.partition(':')[2]), '?')}")
            for user_id, kind, ticket_id, text, key in (
                (n.user_id, n.kind, n.ticket_id, n.text, n.dedupe_key) for n in notifications
            )
        ],
        "turns": {t.pk: t.routing_last_user_id for t in type(world.team_de).objects.order_by("pk")},
    }


def _alone_and_together(
    world: Any, tickets: list[Ticket], messages: list[int], delivered: list[object]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The outcome of the jobs one by one (then rolled back), and of the batch entry point from the same state."""
    with transaction.atomic():
        delivered.clear()
        for message_id in messages:
            apply_triage.call_local(message_id)
        alone = _outcome(world, tickets, delivered)
        transaction.set_rollback(True)
    delivered.clear()
    assert apply_triages([(m,) for m in messages]) == []
    return alone, _outcome(world, tickets, delivered)


def test_a_batch_leaves_what_the_jobs_leave_one_by_one(world, delivered):  # type: ignore[no-untyped-def]
    tickets, messages = _scenario(world)
    alone, together = _alone_and_together(world, tickets, messages, delivered)
    assert together == alone
    # (the scenario does what it says: applied, routed, refused)
    applied = {row[0] for row in alone["audit"] if row[4] == "triage"}
    routed = {row[0] for row in alone["audit"] if row[4] == "routing"}
    t_new, t_person, _closed, t_two, _team, t_order, t_none, _same, t_de, foreign = (t.pk for t in tickets)
    assert applied == {t_new, t_person, t_two, t_order, t_de}
    assert routed == {t_new, t_person, t_two, t_none, t_de, foreign}
    assert alone["tickets"][1]["urgency"] == "high"  # a person set it: never lowered (and not raised here)


def test_a_batch_run_again_leaves_what_the_jobs_run_again_leave(world, delivered):  # type: ignore[no-untyped-def]
    """A redelivered fan-out task: nothing applied twice; the jobs alone would write what it writes (a ticket
    no team admits is routed again, and says so again)."""
    tickets, messages = _scenario(world)
    assert apply_triages([(m,) for m in messages]) == []
    alone, together = _alone_and_together(world, tickets, messages, delivered)
    assert together == alone
    assert [name for name, _fields in together["events"] if name == "TicketUpdated"] == []  # nothing applied twice


def test_nothing_to_do_costs_a_fixed_number_of_queries(world, django_assert_num_queries):  # type: ignore[no-untyped-def]
    triage_settings_update(user=world.admin, auto_route=True)
    messages = []
    for _ in range(6):
        ticket = world.ticket(urgency="high", category="refund", status="open", assignee=world.agent)
        messages.append(_result(_inbound(ticket)).message_id)
    # the results (with messages, tickets, orders), the switches, each ticket's first and latest inbound
    # message and whether a person set its fields (7 per message one by one)
    with django_assert_num_queries(3):
        assert services.triage_results_apply_batch(message_ids=messages) == []
    triage_settings_update(user=world.admin, auto_route=False, apply_results=False)
    with django_assert_num_queries(2):
        assert services.triage_results_apply_batch(message_ids=messages) == []


def test_a_failing_message_goes_back_alone_and_the_others_are_done(world, monkeypatch):  # type: ignore[no-untyped-def]
    tickets = [world.ticket(urgency="medium", category="other") for _ in range(3)]
    messages = [_result(_inbound(t)).message_id for t in tickets]
    real = services.triage_result_apply

    def crash_on_second(*, message_id: int) -> Any:
        if message_id == messages[1]:
            raise RuntimeError("boom")
        return real(message_id=message_id)

    monkeypatch.setattr(services, "triage_result_apply", crash_on_second)
    assert apply_triages([(m,) for m in messages]) == [(messages[1],)]
    urgencies = [Ticket.objects.get(pk=t.pk).urgency for t in tickets]
    assert urgencies == ["high", "medium", "high"]


def test_the_fan_out_runs_apply_triage_through_its_batch_entry_point(world, monkeypatch):  # type: ignore[no-untyped-def]
    path = "aftersales.triage.tasks.apply_triage"
    assert tasks._batch_runners[path] is apply_triages
    tickets = [world.ticket(urgency="medium", category="other") for _ in range(tasks.SQLITE_BATCH_ITEMS + 2)]
    messages = [_result(_inbound(t)).message_id for t in tickets]
    batches: list[list[int]] = []
    real = services.triage_results_apply_batch

    def spy(*, message_ids: list[int]) -> list[int]:
        batches.append(list(message_ids))
        return real(message_ids=message_ids)

    monkeypatch.setattr(services, "triage_results_apply_batch", spy)
    assert tasks.run_jobs.call_local([(path, (m,)) for m in messages]) == len(messages)
    assert batches == [messages]  # (all at once on SQLite too: each item writes in its own transactions)
    assert {Ticket.objects.get(pk=t.pk).urgency for t in tickets} == {"high"}
