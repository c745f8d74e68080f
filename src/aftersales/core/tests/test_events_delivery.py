"""core.events: batches published one after the other in a transaction are delivered once, together
(the sync engine's page: one delivery instead of one per segment), and a rolled-back savepoint still
drops exactly its own events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction

from aftersales.core import events


@dataclass(frozen=True)
class Ping:
    n: int


@pytest.fixture
def seen() -> Iterator[dict[str, list[Any]]]:
    got: dict[str, list[Any]] = {"one": [], "batches": []}

    def one(event: Ping) -> None:
        got["one"].append(event.n)

    def batch(batch: list[Ping]) -> None:
        got["batches"].append([e.n for e in batch])

    events.subscribe(Ping, one)
    events.subscribe_batch(Ping, batch)
    try:
        yield got
    finally:
        events._subscribers.pop(Ping, None)
        events._batch_subscribers.pop(Ping, None)


@pytest.mark.django_db
def test_batches_published_in_a_row_are_delivered_once(seen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        events.publish_many([Ping(1), Ping(2)])
        events.publish(Ping(3))
        events.publish_many([])
        events.publish_many([Ping(4)])
    assert len(callbacks) == 1
    assert seen == {"one": [1, 2, 3, 4], "batches": [[1, 2, 3, 4]]}


@pytest.mark.django_db
def test_a_rolled_back_savepoint_drops_only_its_events(seen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.publish(Ping(1))
        try:
            with transaction.atomic():
                events.publish(Ping(2))
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        events.publish(Ping(3))
    assert seen["one"] == [1, 3]
    assert sorted(n for batch in seen["batches"] for n in batch) == [1, 3]


@pytest.mark.django_db
def test_another_callback_in_between_keeps_the_order(seen, django_capture_on_commit_callbacks):
    order: list[Any] = []
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        events.publish(Ping(1))
        transaction.on_commit(lambda: order.append(list(seen["one"])))
        events.publish(Ping(2))
    assert len(callbacks) == 3
    assert order == [[1]]  # the callback ran between the two deliveries
    assert seen["batches"] == [[1], [2]]


@pytest.mark.django_db
def test_a_delivered_batch_takes_no_more_events(seen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(Ping(1))
    assert seen["one"] == [1]
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(Ping(2))  # (the first delivery is still listed in the test's transaction)
    assert seen["one"] == [1, 2]
    assert connection.in_atomic_block


@pytest.mark.django_db
def test_a_failing_handler_does_not_stop_the_others(seen, django_capture_on_commit_callbacks):
    def broken(event: Ping) -> None:
        raise RuntimeError("boom")

    events._subscribers[Ping].insert(0, broken)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.publish_many([Ping(1), Ping(2)])
    assert seen == {"one": [1, 2], "batches": [[1, 2]]}
