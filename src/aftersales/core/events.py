"""Domain events published after commit.

Services build a frozen dataclass event (one class per event type, typed fields, the `actor` who
caused it: core.actors) and call `publish(event)`. Subscribers are registered in code
(`subscribe(EventType, handler)`) from an app's `ready()`; they run only once the surrounding
transaction has committed, so a rolled-back write never notifies anyone. Handlers enqueue background
tasks rather than do slow work inline, so services never import tasks. No Django signals carry
business logic. docs/events.md lists every event: the contract its consumers rely on.

A subscriber whose whole work is one Huey task registers the task instead (`subscribe_task(EventType,
"app.tasks.name", args)`): after commit, the task subscriptions of one `publish`/`publish_many` call go to
the worker as ONE fan-out task (`core.tasks.run_jobs`, chunks of `FANOUT_JOBS`), the same (task,
arguments) once, instead of one queue insert per subscriber (issue 13: a new ticket made five). The worker
runs each job in turn; a job that fails there is enqueued as its own task, with that task's retries.

Batches published one after the other in the same transaction (the sync engine's page: one
`publish_many` per segment and per order pass) are delivered as ONE batch after commit when nothing
else was registered on commit in between and no savepoint separates them: batch subscribers then see
the page at once (one lookup per page instead of one per segment) and its jobs fill fewer fan-out
tasks. Each event still reaches each per-event handler, in publication order; a rolled-back
savepoint still drops exactly the events published inside it."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

Handler = Callable[[Any], None]
BatchHandler = Callable[[list[Any]], None]
_subscribers: dict[type, list[Handler]] = defaultdict(list)
_batch_subscribers: dict[type, list[BatchHandler]] = defaultdict(list)
JobArgs = Callable[[Any], "tuple[Any, ...] | None"]
_task_subscribers: dict[type, list[tuple[str, JobArgs]]] = defaultdict(list)
Job = tuple[str, tuple[Any, ...]]  # (the task's dotted path, its arguments)
FANOUT_JOBS = 32  # jobs per fan-out task at most (a batch of many events still spreads over the workers)


def subscribe(event_type: type, handler: Handler) -> None:
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


def subscribe_batch(event_type: type, handler: BatchHandler) -> None:
    """`handler` receives a list of `event_type` events: the ones of one `publish_many` call (a
    single-item list for `publish`)."""
    if handler not in _batch_subscribers[event_type]:
        _batch_subscribers[event_type].append(handler)


def subscribe_task(event_type: type, task: str, args: JobArgs) -> None:
    """Run the Huey task `task` (dotted path, e.g. "aftersales.sla.tasks.recompute_ticket_sla") in the
    worker with `args(event)` for each `event_type` event (`args` returning None: nothing for this event).
    The task module is imported by the worker only (not by the web process that publishes)."""
    entry = (task, args)
    if entry not in _task_subscribers[event_type]:
        _task_subscribers[event_type].append(entry)


def jobs_for(batch: Sequence[object]) -> list[Job]:
    """The task subscriptions' jobs for `batch`, in order, each (task, arguments) once."""
    jobs: dict[Job, None] = {}
    for event in batch:
        for task, args in _task_subscribers.get(type(event), ()):
            arguments = args(event)
            if arguments is not None:
                jobs.setdefault((task, tuple(arguments)), None)
    return list(jobs)


def publish(event: object) -> None:
    """Deliver `event` to its subscribers after the current transaction commits."""
    publish_many([event])


def publish_many(batch: Sequence[object]) -> None:
    """Deliver each event of `batch` to its subscribers after the current transaction commits (in
    order); batch subscribers get the events of each type as one list (of this batch and of the
    batches published just before it in the same transaction: see the module docstring)."""
    if not batch:
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block and connection.run_on_commit:
        sids, last, _robust = connection.run_on_commit[-1]
        if (
            isinstance(last, _Delivery)
            and not last.delivered
            and sids - {None} == set(connection.savepoint_ids) - {None}
        ):
            last.events.extend(batch)  # the same on-commit delivery as the batch before it
            return
    transaction.on_commit(_Delivery(list(batch)), robust=True)


class _Delivery:
    """One on-commit delivery of the events published in a row (module docstring): per-event handlers
    in event order, then the batch handlers per type (types in order of first appearance), then the
    task subscriptions' jobs as fan-out tasks. A failing handler is logged and the others still run.
    (An atomic block without a savepoint, `None` in savepoint_ids, is rolled back only with its whole
    transaction: for dropping callbacks it is the same level as the block around it.)"""

    def __init__(self, events: list[object]) -> None:
        self.events = events
        self.delivered = False
        self.__qualname__ = "events.publish_many"  # (what Django's on_commit names in its error log)

    def __call__(self) -> None:
        self.delivered = True  # (a test's captured callbacks stay listed after they ran)
        batch = self.events
        by_type: dict[type, list[object]] = defaultdict(list)
        for event in batch:
            by_type[type(event)].append(event)
            for handler in list(_subscribers.get(type(event), ())):
                _run(handler, event)
        for event_type, same in by_type.items():
            for batch_handler in list(_batch_subscribers.get(event_type, ())):
                _run(batch_handler, same)
        jobs = jobs_for(batch)
        if jobs:
            _run(_enqueue_jobs, jobs)


def _run(handler: Callable[[Any], None], argument: object) -> None:
    try:
        handler(argument)
    except Exception:  # a failing subscriber must not break the others
        logger.exception("event handler failed", extra={"event": _name(argument)})


def _name(argument: object) -> str:
    if isinstance(argument, list):
        return type(argument[0]).__name__ if argument else "list"
    return type(argument).__name__


def _enqueue_jobs(jobs: list[Job]) -> None:
    from .tasks import run_jobs

    for start in range(0, len(jobs), FANOUT_JOBS):
        run_jobs(jobs[start : start + FANOUT_JOBS])
