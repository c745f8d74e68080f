"""Domain events published after commit.

Services build a frozen dataclass event (one class per event type, typed fields, the `actor` who
caused it: core.actors) and call `publish(event)`. Subscribers are registered in code
(`subscribe(EventType, handler)`) from an app's `ready()`; they run only once the surrounding
transaction has committed, so a rolled-back write never notifies anyone. Handlers enqueue background
tasks rather than do slow work inline, so services never import tasks. No Django signals carry
business logic. docs/events.md lists every event: the contract its consumers rely on."""

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


def subscribe(event_type: type, handler: Handler) -> None:
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


def subscribe_batch(event_type: type, handler: BatchHandler) -> None:
    """`handler` receives a list of `event_type` events: the ones of one `publish_many` call (a
    single-item list for `publish`)."""
    if handler not in _batch_subscribers[event_type]:
        _batch_subscribers[event_type].append(handler)


def publish(event: object) -> None:
    """Deliver `event` to its subscribers after the current transaction commits."""
    publish_many([event])


def publish_many(batch: Sequence[object]) -> None:
    """Deliver each event of `batch` to its subscribers after the current transaction commits (in
    order); batch subscribers get the events of each type as one list."""
    by_type: dict[type, list[object]] = defaultdict(list)
    for event in batch:
        by_type[type(event)].append(event)
        for handler in list(_subscribers.get(type(event), ())):
            transaction.on_commit(_safe(handler, event), robust=True)
    for event_type, same in by_type.items():
        for batch_handler in list(_batch_subscribers.get(event_type, ())):
            transaction.on_commit(_safe(batch_handler, same), robust=True)


def _safe(handler: Handler, event: object) -> Callable[[], None]:
    def run() -> None:
        try:
            handler(event)
        except Exception:  # a failing subscriber must not break the others
            logger.exception("event handler failed", extra={"event": type(event).__name__})
            raise

    return run
