"""A created ticket's follow-up work reaches the worker as one fan-out task (core/events.py subscribe_task,
core/tasks.run_jobs), the SLA recomputation once, and the worker still translates, triages, recomputes the
SLA clocks and runs the ticket-created rules (issue 13, item 2)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from huey.contrib.djhuey import HUEY

from aftersales.core import events
from aftersales.inbox.models import Message
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.rules import services as rules
from aftersales.sla.models import TicketSla
from aftersales.triage.models import TriageResult

pytestmark = pytest.mark.django_db

FOLLOW_UPS = [
    "aftersales.language.tasks.translate_inbound_message",
    "aftersales.triage.tasks.triage_message",
    "aftersales.followups.tasks.followups_csat_reply",
    "aftersales.sla.tasks.recompute_ticket_sla",
]


@pytest.fixture
def queued() -> Iterator[Any]:
    """The real queue (not immediate mode), emptied before and after."""
    HUEY.immediate = False
    HUEY.flush()
    try:
        yield HUEY
    finally:
        HUEY.flush()
        HUEY.immediate = True


def _ingest(world: Any, n: int) -> Any:
    return message_ingest(
        inbound=InboundMessage(
            store=world.store_us,
            external_id=f"fanout-{n}",
            body="My order arrived broken, please send a new one.",
            subject="Broken",
            customer_external_id=f"buyer-{n}",
            customer_name="Pat Buyer",
            customer_email=f"buyer-{n}@example.com",
        )
    )


def _rule_doc(tag: str, *, enabled: bool, trigger: str = "ticket_created") -> dict[str, Any]:
    return {
        "name": "tag new",
        "trigger": trigger,
        "enabled": enabled,
        "conditions": {"all": []},
        "actions": [{"type": "add_tags", "params": {"tags": [tag]}}],
    }


def _queued_by_ingest(world: Any, queued: Any, capture: Any, n: int) -> tuple[Any, list[Any]]:
    """Ingest message `n` with its on-commit work run: the result and the tasks the queue then holds."""
    with capture(execute=True):
        result = _ingest(world, n)
    return result, queued.pending()


def test_a_new_ticket_enqueues_one_task_with_each_job_once(world, queued, django_capture_on_commit_callbacks):
    result, pending = _queued_by_ingest(world, queued, django_capture_on_commit_callbacks, 1)
    assert result.ticket_created
    assert [t.name for t in pending] == ["run_jobs"]  # no rule on ticket_created: no rules task either
    (jobs,) = pending[0].args
    message_id, ticket_id = result.message.pk, result.ticket.pk
    assert sorted(jobs) == sorted(
        (name, (ticket_id,) if name.startswith("aftersales.sla") else (message_id,)) for name in FOLLOW_UPS
    )


def test_a_rule_adds_its_own_task_and_a_reply_to_the_ticket_one_fanout(
    world, queued, django_capture_on_commit_callbacks
):
    rules.rule_create(user=world.admin, data=_rule_doc("new", enabled=True))
    _result, pending = _queued_by_ingest(world, queued, django_capture_on_commit_callbacks, 2)
    assert sorted(t.name for t in pending) == ["evaluate_rules", "run_jobs"]


def test_the_worker_runs_every_follow_up(world, django_capture_on_commit_callbacks):
    rules.rule_create(user=world.admin, data=_rule_doc("new", enabled=True))
    with django_capture_on_commit_callbacks(execute=True):  # immediate mode: the tasks run at enqueue
        result = _ingest(world, 3)
    message = Message.objects.get(pk=result.message.pk)
    assert message.language == "en"  # translation (detection)
    assert TriageResult.objects.filter(message=message).exists()
    assert TicketSla.objects.filter(ticket_id=result.ticket.pk).exists()
    assert list(result.ticket.tags.values_list("name", flat=True)) == ["new"]


def test_a_failing_job_is_enqueued_on_its_own_and_the_others_still_run(monkeypatch, queued):
    from aftersales.core import tasks

    ran: list[Any] = []

    class Flaky:
        def call_local(self, *args: Any) -> None:
            raise RuntimeError("provider down")

        def __call__(self, *args: Any) -> None:
            ran.append(("enqueued", args))

    class Fine:
        def call_local(self, *args: Any) -> None:
            ran.append(("ran", args))

    monkeypatch.setattr(tasks, "_task", {"flaky": Flaky(), "fine": Fine()}.__getitem__)
    assert tasks.run_jobs.call_local([("flaky", (1,)), ("fine", (2,))]) == 1
    assert ran == [("enqueued", (1,)), ("ran", (2,))]


def test_a_batch_is_chunked_and_identical_jobs_are_sent_once():
    from aftersales.core.actors import Actor
    from aftersales.inbox.events import MessageReceived, TicketCreated

    actor = Actor.system("test")
    batch = [MessageReceived(message_id=10, ticket_id=5, organization_id=1, actor=actor)]
    batch += [TicketCreated(ticket_id=5, organization_id=1, actor=actor)] * 2
    jobs = events.jobs_for(batch)
    assert jobs.count(("aftersales.sla.tasks.recompute_ticket_sla", (5,))) == 1
    assert len(jobs) == len(FOLLOW_UPS)


def test_a_rule_change_applies_to_the_next_ticket(world, django_capture_on_commit_callbacks):
    def tags_of_new_ticket(n: int) -> list[str]:
        with django_capture_on_commit_callbacks(execute=True):
            result = _ingest(world, n)
        return list(result.ticket.tags.values_list("name", flat=True))

    assert tags_of_new_ticket(10) == []  # no rule yet
    rule = rules.rule_create(user=world.admin, data=_rule_doc("new", enabled=True))
    assert tags_of_new_ticket(11) == ["new"]
    rules.rule_update(user=world.admin, rule_id=rule.pk, data=_rule_doc("new", enabled=False))
    assert tags_of_new_ticket(12) == []
    rules.rule_update(user=world.admin, rule_id=rule.pk, data=_rule_doc("fresh", enabled=True))
    assert tags_of_new_ticket(13) == ["fresh"]
    rules.rule_update(
        user=world.admin, rule_id=rule.pk, data=_rule_doc("fresh", enabled=True, trigger="ticket_updated")
    )
    assert tags_of_new_ticket(14) == []
    rules.rule_update(user=world.admin, rule_id=rule.pk, data=_rule_doc("back", enabled=True))
    assert tags_of_new_ticket(15) == ["back"]
    rules.rule_delete(user=world.admin, rule_id=rule.pk)
    assert tags_of_new_ticket(16) == []
