"""On SQLite a batch entry point registered without `own_transactions` gets a fan-out's items a few at a time
(core/tasks.py SQLITE_BATCH_ITEMS): each call is one write transaction that requests wait behind (ADR 0039); on
PostgreSQL it gets them all at once. (Entry points that chunk their own writes get all their items: ADR 0041,
tests/integration/test_fanout_batches.py.)"""

from __future__ import annotations

from typing import Any

from django.db import connection

from aftersales.core import tasks


def test_a_batch_entry_point_gets_its_items_a_few_at_a_time_on_sqlite(monkeypatch):  # type: ignore[no-untyped-def]
    batches: list[list[tuple[Any, ...]]] = []
    path = "aftersales.sla.tasks.recompute_ticket_sla"
    tasks._task(path)

    def runner(arguments: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        batches.append(arguments)
        return [args for args in arguments if args == (4,)]  # (one fails: enqueued alone)

    enqueued: list[tuple[Any, ...]] = []

    class Task:
        def __call__(self, *args: Any) -> None:
            enqueued.append(args)

    monkeypatch.setitem(tasks._batch_runners, path, runner)
    monkeypatch.setattr(tasks, "_unchunked", set())  # (an entry point that does not chunk its own writes)
    monkeypatch.setattr(tasks, "_task", lambda p: Task())
    monkeypatch.setattr(tasks, "SQLITE_BATCH_ITEMS", 2)
    assert tasks.run_jobs.call_local([(path, (n,)) for n in range(1, 6)]) == 4
    if connection.vendor == "sqlite":
        assert batches == [[(1,), (2,)], [(3,), (4,)], [(5,)]]
    else:
        assert batches == [[(1,), (2,), (3,), (4,), (5,)]]
    assert enqueued == [(4,)]
