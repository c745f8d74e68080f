"""The worker's side of the event bus's task subscriptions (core/events.py `subscribe_task`): one fan-out
task per published batch runs the subscribed jobs.

Batches (docs/adr/0038-worker-runs-waiting-fanouts-together.md): a fan-out task also takes the fan-out
tasks waiting right behind it at the head of the queue (SQLite's queue, the embedded default), up to
`COALESCE_TASKS`, so that under load the jobs of many tickets run together; and a task that has a batch
entry point (`runs_batches_of`) gets all its jobs in one call (one model call, a fixed number of queries)
instead of one call per job. Each job's outcome is the one it would have alone. On SQLite an entry point
gets 4 jobs per call (one short write transaction each, ADR 0039), unless it keeps its writes short itself
(`own_transactions`: reads and computes once for all its jobs, then writes `write_items()` per transaction,
ADR 0041)."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from importlib import import_module
from typing import Any, TypeVar

from huey.contrib.djhuey import HUEY, db_task

logger = logging.getLogger(__name__)

Args = tuple[Any, ...]
BatchRunner = Callable[[list[Args]], list[Args]]
_batch_runners: dict[str, BatchRunner] = {}
_unchunked: set[str] = set()  # batch entry points whose items write in their own transactions
COALESCE_TASKS = 24  # waiting fan-out tasks one run takes with it at most
COALESCE_JOBS = 192  # and jobs at most (a sync page's fan-out tasks hold 32 each)
CLAIM_SECONDS = 600  # a claimed fan-out task goes back to the queue after this if its worker died meanwhile
# On SQLite a batch entry point gets its items this many at a time: each call is one write transaction, and
# a request's write waits for the whole of one (ADR 0039); PostgreSQL has no database-wide write lock.
SQLITE_BATCH_ITEMS = 4
F = TypeVar("F", bound=BatchRunner)


_heap = {"started": False, "frozen": False}
_heap_lock = threading.Lock()


@HUEY.on_startup()
def writes_in_background() -> None:
    """The worker's SQLite write transactions give way to waiting requests' (core/sqlite/base.py, ADR 0039)."""
    from aftersales.core.sqlite import base

    base.writes_in_background()


@HUEY.on_startup()
def freeze_heap_before_first_task() -> None:
    """A consumer's start-up hooks run (this one first of them): `freeze_startup_heap` may freeze."""
    _heap["started"] = True


@HUEY.pre_execute()
def freeze_startup_heap(task: Any) -> None:
    """Before the worker's first task, once its start-up hooks ran (Django, the task modules, the language
    and triage models: ~170,000 objects the collector would otherwise walk at every full collection for the
    process's lifetime), move what is alive to the collector's permanent generation (`gc.freeze`). Only in
    a consumer (the start-up hooks ran): immediate mode and tests run tasks in their own process and keep
    their collector as it is. Outcomes are unchanged; docs/adr/0046-worker-cpu-per-creation.md."""
    if _heap["frozen"] or not _heap["started"] or HUEY.immediate:
        return
    with _heap_lock:
        if not _heap["frozen"]:
            gc.collect()
            gc.freeze()
            _heap["frozen"] = True


def task_path(task: Any) -> str:
    """A Huey task's dotted path, as task subscriptions name it ("aftersales.sla.tasks.recompute_ticket_sla")."""
    return f"{task.func.__module__}.{task.func.__name__}"


def runs_batches_of(task: Any, *, own_transactions: bool = False) -> Callable[[F], F]:
    """Register the decorated function as `task`'s batch entry point: `run_jobs` calls it once with the
    argument tuples of all the jobs of `task` it holds, instead of the task once per job. It must do for
    each item exactly what the task does (same outcome, each item idempotent) and return the argument
    tuples of the items that failed: each is then enqueued as its own task (with the task's retries). If
    it raises, its items run one by one through the task, as without it. On SQLite it gets them
    `SQLITE_BATCH_ITEMS` at a time (one write transaction each), unless `own_transactions`: it keeps its
    write transactions short itself (each item's writes their own transactions as alone, or `write_items()`
    items per transaction after reading and computing for all), and gets all its items at once."""

    def register(runner: F) -> F:
        _batch_runners[task_path(task)] = runner
        if own_transactions:
            _unchunked.add(task_path(task))
        return runner

    return register


@cache
def _task(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


@db_task(retries=0)
def run_jobs(jobs: list[tuple[str, Args]]) -> int:
    """Run the (task, arguments) jobs of this fan-out task and of those waiting right behind it in the
    queue (`waiting_fanouts`), each (task, arguments) once. Jobs are grouped by task in the order of
    each task's first job (a ticket's translation, then its triage, ...: the order the tasks have within
    every published batch); a task with a batch entry point gets its group in one call. A job that raises
    is enqueued as its own task, so its retries and retry delay still apply and the other jobs still run
    now. Returns how many jobs ran without error."""
    merged = dict.fromkeys((path, tuple(args)) for path, args in jobs)
    taken, claims = waiting_fanouts(jobs=COALESCE_JOBS - len(merged))
    for more in taken:
        merged.update(dict.fromkeys((path, tuple(args)) for path, args in more))
    groups: dict[str, list[Args]] = {}
    for path, args in merged:
        groups.setdefault(path, []).append(args)
    done = 0
    for path, arguments in groups.items():
        task = _task(path)  # (imports the task's module: its batch entry point registers itself)
        runner = _batch_runners.get(path)
        if runner is not None and len(arguments) > 1:
            for chunk in [arguments] if path in _unchunked else _chunks(arguments):
                done += _run_batch(task, path, runner, chunk)
        else:
            done += sum(_run_one(task, path, args) for args in arguments)
    release(claims)
    return done


def write_items() -> int | None:
    """Items per write transaction for a batch entry point that chunks its own writes (`own_transactions`):
    `SQLITE_BATCH_ITEMS` on SQLite (ADR 0039), None (all in one) on PostgreSQL."""
    from django.db import connection

    return SQLITE_BATCH_ITEMS if connection.vendor == "sqlite" else None


def _chunks(arguments: list[Args]) -> list[list[Args]]:
    size = write_items() or len(arguments)
    return [arguments[start : start + size] for start in range(0, len(arguments), size)]


def _run_one(task: Any, path: str, args: Args) -> bool:
    try:
        task.call_local(*args)
    except Exception:
        logger.warning("fan-out job failed, enqueued on its own for its retries", exc_info=True, extra={"task": path})
        task(*args)
        return False
    return True


def _run_batch(task: Any, path: str, runner: BatchRunner, arguments: list[Args]) -> int:
    try:
        failed = runner(arguments)
    except Exception:
        logger.warning("batch of fan-out jobs failed, running them one by one", exc_info=True, extra={"task": path})
        return sum(_run_one(task, path, args) for args in arguments)
    for args in failed:
        logger.warning("fan-out job failed in a batch, enqueued on its own for its retries", extra={"task": path})
        task(*args)
    return len(arguments) - len(failed)


def waiting_fanouts(
    limit: int = COALESCE_TASKS, *, jobs: int = COALESCE_JOBS
) -> tuple[list[list[tuple[str, Args]]], list[int]]:
    """Claim the fan-out tasks waiting at the head of the queue (those before any other task, in queue
    order, at most `limit` tasks holding at most `jobs` jobs) for the running fan-out task to run with its
    own: returns their jobs and the claims to `release` once they ran. In one exclusive transaction each is
    moved from the queue to Huey's schedule, due in `CLAIM_SECONDS`: no other worker thread or process gets
    it now, and should this worker die before releasing it, the scheduler puts it back in the queue then
    (its jobs are idempotent). Only with Huey's SQLite storage (the embedded default); with another
    storage, or in immediate mode, nothing is taken."""
    from huey.storage import SqliteStorage
    from huey.utils import to_timestamp, utcnow

    storage = HUEY.storage
    if HUEY.immediate or not isinstance(storage, SqliteStorage) or limit <= 0:
        return [], []
    taken: list[list[tuple[str, Args]]] = []
    ids: list[int] = []
    claims: list[int] = []
    due = to_timestamp((utcnow() if HUEY.utc else datetime.now()) + timedelta(seconds=CLAIM_SECONDS))  # noqa: DTZ005
    with storage.db(commit=True) as cursor:
        cursor.execute(
            "SELECT id, data FROM task WHERE queue = ? ORDER BY priority DESC, id LIMIT ?", (storage.name, limit)
        )
        for task_id, data in cursor.fetchall():
            try:
                task = HUEY.deserialize_task(bytes(data))
            except Exception:  # (not ours to judge: the consumer reports it when it dequeues it)
                break
            if not isinstance(task, run_jobs.task_class) or task.eta is not None or task.expires is not None:
                break
            jobs -= len(task.args[0])
            if jobs < 0:
                break
            ids.append(task_id)
            taken.append(task.args[0])
            cursor.execute("INSERT INTO schedule (queue, data, timestamp) VALUES (?, ?, ?)", (storage.name, data, due))
            claims.append(int(cursor.lastrowid or 0))
        if ids:
            cursor.execute(f"DELETE FROM task WHERE id IN ({', '.join('?' * len(ids))})", ids)  # noqa: S608
    return taken, claims


def release(claims: list[int]) -> None:
    """The claimed fan-out tasks ran (their failed jobs are queued on their own): drop their claims."""
    if not claims:
        return
    with HUEY.storage.db(commit=True) as cursor:
        cursor.execute(f"DELETE FROM schedule WHERE id IN ({', '.join('?' * len(claims))})", claims)  # noqa: S608
