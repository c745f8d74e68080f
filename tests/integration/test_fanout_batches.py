"""The worker runs waiting fan-out tasks together and a task's jobs through its batch entry point
(core/tasks.py, docs/adr/0038-worker-runs-waiting-fanouts-together.md): the outcome of every job is the one
it has alone (translation, triage with its application to the ticket, CSAT reply check, SLA clocks), a failing
item leaves the others' work done and goes back to the queue on its own, and running the jobs again changes
nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from aftersales.core import events, tasks
from aftersales.inbox.models import Message, Ticket
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.language.models import MessageTranslationState
from aftersales.sla.models import TicketSla
from aftersales.triage.models import TriageResult

from . import test_ingest_fanout

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("triage_model")]
queued = test_ingest_fanout.queued  # (the real queue, emptied before and after)

BODIES = [
    "Hello, my order arrived broken. Can you send a new one?",
    "I want to cancel my order please, order 112-3344556-7788990",
    "Hallo, das Display meines Handys ist kaputt angekommen, der Bildschirm ist gesprungen.",
    "Hola, el paquete no ha llegado todavía, ¿dónde está mi pedido?",
    "我的订单还没有到，请帮我查一下物流",
    "5",
    "If this is not refunded today I will open a chargeback with my bank!",
]


@pytest.fixture
def triage_model():  # type: ignore[no-untyped-def]
    from aftersales.triage.artifacts import get_bundle

    return get_bundle()


def _ingest(world: Any, tag: str, bodies: list[str]) -> list[Any]:
    return [
        message_ingest(
            inbound=InboundMessage(
                store=world.store_us,
                external_id=f"batch-{tag}-{i}",
                body=body,
                subject="Order",
                customer_external_id=f"buyer-{tag}-{i}",
                customer_name="Pat Buyer",
                customer_email=f"buyer-{tag}-{i}@example.com",
            )
        )
        for i, body in enumerate(bodies)
    ]


def _jobs(results: list[Any]) -> list[tuple[str, tuple[Any, ...]]]:
    """The fan-out jobs the ingestions published (what their run_jobs tasks carry)."""
    from aftersales.core.actors import Actor
    from aftersales.inbox.events import MessageReceived, TicketCreated

    actor = Actor.system("test")
    batch: list[object] = []
    for r in results:
        batch.append(
            MessageReceived(
                message_id=r.message.pk, ticket_id=r.ticket.pk, organization_id=r.ticket.organization_id, actor=actor
            )
        )
        batch.append(TicketCreated(ticket_id=r.ticket.pk, organization_id=r.ticket.organization_id, actor=actor))
    return events.jobs_for(batch)


def _outcome(results: list[Any], *, rerun: bool = False) -> list[dict[str, Any]]:
    """Everything the jobs write, per message, without ids and clock-read times. `rerun`: without what every
    run of the translation job records anew, batch or not (its attempt count; and the detection's source,
    which the first run's language, now the message's and the customer's, turns into "customer")."""
    out = []
    for r in results:
        message = Message.objects.get(pk=r.message.pk)
        ticket = Ticket.objects.get(pk=r.ticket.pk)
        triage: dict[str, Any] = dict(TriageResult.objects.filter(message=message).values().first() or {})
        state: dict[str, Any] = dict(MessageTranslationState.objects.filter(message=message).values().first() or {})
        sla: dict[str, Any] = dict(TicketSla.objects.filter(ticket=ticket).values().first() or {})
        for row in (triage, state, sla):
            for name in ("id", "created_at", "updated_at", "computed_at", "message_id", "ticket_id", "next_attempt_at"):
                row.pop(name, None)
        if rerun:
            state = {"status": state.get("status"), "detected_language": state.get("detected_language")}
        translations = {k: {f: v for f, v in t.items() if f != "at"} for k, t in (message.translations or {}).items()}
        out.append(
            {
                "language": message.language,
                "translations": translations,
                "triage": triage,
                "translation_state": state,
                "sla": sla,
                "ticket": (ticket.urgency, ticket.category, ticket.order_id, ticket.team_id, ticket.assignee_id),
            }
        )
    return out


def _one_by_one(jobs: list[tuple[str, tuple[Any, ...]]]) -> None:
    for path, args in jobs:
        tasks._task(path).call_local(*args)


def test_a_batch_gives_what_each_job_gives_alone(world, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        results = _ingest(world, "parity", BODIES)
    jobs = _jobs(results)
    with transaction.atomic():
        with django_capture_on_commit_callbacks(execute=True):  # (immediate mode: apply_triage runs at once)
            _one_by_one(jobs)
        alone = _outcome(results)
        transaction.set_rollback(True)
    assert not TriageResult.objects.filter(message_id__in=[r.message.pk for r in results]).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.run_jobs.call_local(jobs) == len(jobs)
    together = _outcome(results)
    assert together == alone
    assert all(o["triage"] and o["sla"] and o["translation_state"] for o in together)


def test_running_the_batch_again_changes_nothing(world, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    from aftersales.triage.events import MessageTriaged

    with django_capture_on_commit_callbacks(execute=False):
        results = _ingest(world, "again", BODIES[:4])
    jobs = _jobs(results)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.run_jobs.call_local(jobs)
    first = _outcome(results, rerun=True)
    seen: list[Any] = []
    events.subscribe(MessageTriaged, seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.run_jobs.call_local(jobs)  # (a redelivered fan-out task)
    finally:
        events._subscribers[MessageTriaged].remove(seen.append)
    again = _outcome(results, rerun=True)
    for before, after in zip(first, again, strict=True):
        assert {k: v for k, v in after.items() if v != before[k]} == {}
    assert seen == []  # the same model version already classified them: nothing published again
    assert TriageResult.objects.filter(message_id__in=[r.message.pk for r in results]).count() == 4


def test_a_failing_item_goes_back_alone_and_the_others_are_done(
    world,
    queued,
    monkeypatch,
    django_capture_on_commit_callbacks,
):  # type: ignore[no-untyped-def]
    from aftersales.triage import classify

    with django_capture_on_commit_callbacks(execute=False):
        results = _ingest(world, "fail", BODIES[:3])
    bad = results[1].message.pk
    real = classify.classify_texts

    def crash_on_cancel(texts: Any, **kwargs: Any) -> Any:
        if any("cancel" in t for t in texts):
            raise RuntimeError("model crashed")
        return real(texts, **kwargs)

    monkeypatch.setattr(classify, "classify_texts", crash_on_cancel)
    triage_jobs = [("aftersales.triage.tasks.triage_message", (r.message.pk,)) for r in results]
    with django_capture_on_commit_callbacks(execute=False):
        assert tasks.run_jobs.call_local(triage_jobs) == 2
    done = set(
        TriageResult.objects.filter(message_id__in=[r.message.pk for r in results]).values_list("message_id", flat=True)
    )
    assert done == {results[0].message.pk, results[2].message.pk}
    pending = queued.pending()
    assert [(t.name, t.args) for t in pending] == [("triage_message", (bad,))]
    assert pending[0].retries == 2  # the task's own retries apply


def test_waiting_fanouts_at_the_head_of_the_queue_run_together(world, queued, monkeypatch):  # type: ignore[no-untyped-def]
    batches: list[list[tuple[Any, ...]]] = []
    path = "aftersales.sla.tasks.recompute_ticket_sla"
    tasks._task(path)

    def runner(arguments: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        batches.append(arguments)
        return []

    monkeypatch.setitem(tasks._batch_runners, path, runner)
    tickets = [world.ticket() for _ in range(4)]
    for t in tickets[:3]:
        tasks.run_jobs([(path, (t.pk,))])
    from aftersales.sla.tasks import notify_sla

    notify_sla(tickets[0].pk, "first_response", None, False)  # another task: the fan-outs behind it wait for their turn
    tasks.run_jobs([(path, (tickets[3].pk,))])
    first = queued.dequeue()
    queued.execute(first)
    assert batches == [[(t.pk,) for t in tickets[:3]]]  # the 3 fan-outs before the other task
    assert [t.name for t in queued.pending()] == ["notify_sla", "run_jobs"]
    assert queued.scheduled() == []  # their claims released


def test_claimed_fanouts_come_back_if_the_worker_dies(world, queued):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from huey.utils import utcnow

    path = "aftersales.sla.tasks.recompute_ticket_sla"
    tickets = [world.ticket() for _ in range(2)]
    for t in tickets:
        tasks.run_jobs([(path, (t.pk,))])
    taken, claims = tasks.waiting_fanouts()  # (a worker that claimed them, then died before releasing them)
    assert taken == [[(path, (t.pk,))] for t in tickets] and len(claims) == 2
    assert queued.pending() == []
    assert queued.read_schedule(utcnow()) == []  # not before the claim's time
    back = queued.read_schedule(utcnow() + timedelta(seconds=tasks.CLAIM_SECONDS + 1))
    assert [(t.name, t.args) for t in back] == [("run_jobs", ([(path, (t.pk,))],)) for t in tickets]


def test_a_batch_entry_point_that_raises_runs_its_jobs_one_by_one(world, queued, monkeypatch):  # type: ignore[no-untyped-def]
    ran: list[Any] = []
    path = "aftersales.sla.tasks.recompute_ticket_sla"
    tasks._task(path)

    def broken(arguments: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        raise RuntimeError("batch failed")

    class Task:
        def call_local(self, *args: Any) -> None:
            if args == (2,):
                raise RuntimeError("this one fails alone too")
            ran.append(args)

        def __call__(self, *args: Any) -> None:
            ran.append(("enqueued", args))

    monkeypatch.setitem(tasks._batch_runners, path, broken)
    monkeypatch.setattr(tasks, "_task", lambda p: Task())
    assert tasks.run_jobs.call_local([(path, (1,)), (path, (2,)), (path, (3,))]) == 2
    assert ran == [(1,), ("enqueued", (2,)), (3,)]


def test_a_batch_reads_the_attachments_of_the_messages_that_have_some(
    world, monkeypatch, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    from aftersales.inbox.models import Attachment
    from aftersales.language import attachments

    with django_capture_on_commit_callbacks(execute=False):
        results = _ingest(world, "files", BODIES[:3])
    Attachment.objects.create(
        message=results[1].message,
        file="attachments/x.txt",
        filename="x.txt",
        content_type="text/plain",
        size=1,
        sha256="0" * 64,
    )
    read: list[int] = []

    def extract(*, message_id: int) -> list[Any]:
        read.append(message_id)
        return []

    monkeypatch.setattr(attachments, "message_extract_attachments", extract)
    jobs = [("aftersales.language.tasks.translate_inbound_message", (r.message.pk,)) for r in results]
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.run_jobs.call_local(jobs) == 3
    assert read == [results[1].message.pk]
    assert MessageTranslationState.objects.filter(message_id__in=[r.message.pk for r in results]).count() == 3


def test_short_write_transactions_give_what_one_transaction_gives(
    world, monkeypatch, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    """The batch entry points that read and compute for their whole batch, then write `write_items` items
    per transaction (SQLite, ADR 0039 and 0041): the same rows as one transaction for all (PostgreSQL), in
    as many transactions as chunks."""
    from aftersales.language import inbound
    from aftersales.sla import services as sla
    from aftersales.triage import services as triage

    with django_capture_on_commit_callbacks(execute=False):
        results = _ingest(world, "chunks", BODIES)
    message_ids = [r.message.pk for r in results]
    ticket_ids = [r.ticket.pk for r in results]
    writes: list[str] = []
    for module, name in ((inbound, "_write"), (triage, "_triage_results_write"), (sla, "_ticket_slas_write")):
        real = getattr(module, name)

        def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            writes.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)

    def run(write_items: int | None) -> list[dict[str, Any]]:
        with django_capture_on_commit_callbacks(execute=True):  # (immediate mode: apply_triage runs at once)
            inbound.messages_translate(message_ids=message_ids, skip_translated=True, write_items=write_items)
            triage.messages_triage(message_ids=message_ids, write_items=write_items)
            sla.tickets_sla_recompute(ticket_ids=ticket_ids, write_items=write_items)
        return _outcome(results)

    with transaction.atomic():
        whole = run(None)
        transaction.set_rollback(True)
    assert writes == ["_write", "_triage_results_write", "_ticket_slas_write"]
    writes.clear()
    assert run(2) == whole
    assert [writes.count(n) for n in ("_write", "_triage_results_write", "_ticket_slas_write")] == [4, 4, 4]
    assert all(o["triage"] and o["sla"] and o["translation_state"] for o in whole)


def test_entry_points_that_write_in_their_own_transactions_get_all_their_jobs(world, monkeypatch):  # type: ignore[no-untyped-def]
    """On SQLite too, where another entry point gets SQLITE_BATCH_ITEMS jobs per call: they chunk their writes."""
    seen: dict[str, list[int]] = {}
    paths = [
        "aftersales.language.tasks.translate_inbound_message",
        "aftersales.triage.tasks.triage_message",
        "aftersales.triage.tasks.apply_triage",
        "aftersales.sla.tasks.recompute_ticket_sla",
        "aftersales.followups.tasks.followups_csat_reply",
    ]
    other = "aftersales.sla.tasks.notify_sla"  # (any task: given an entry point of the ordinary kind here)
    for path in [*paths, other]:
        tasks._task(path)

        def runner(arguments: list[tuple[Any, ...]], _path: str = path) -> list[tuple[Any, ...]]:
            seen.setdefault(_path, []).append(len(arguments))
            return []

        monkeypatch.setitem(tasks._batch_runners, path, runner)
    assert set(paths) <= tasks._unchunked and other not in tasks._unchunked
    n = tasks.SQLITE_BATCH_ITEMS + 2
    jobs = [(path, (i,)) for path in [*paths, other] for i in range(n)]
    assert tasks.run_jobs.call_local(jobs) == len(jobs)
    chunked = [tasks.SQLITE_BATCH_ITEMS, 2] if tasks.write_items() else [n]
    assert seen == {**{path: [n] for path in paths}, other: chunked}
