"""The worker's side of the event bus's task subscriptions (core/events.py `subscribe_task`): one fan-out
task per published batch runs the subscribed jobs in turn."""

from __future__ import annotations

import logging
from functools import cache
from importlib import import_module
from typing import Any

from huey.contrib.djhuey import db_task

logger = logging.getLogger(__name__)


@cache
def _task(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


@db_task(retries=0)
def run_jobs(jobs: list[tuple[str, tuple[Any, ...]]]) -> int:
    """Run each (task, arguments) job here, in order (each job is idempotent: it is a task of its own
    too). A job that raises is enqueued as its own task, so its retries and retry delay still apply and
    the jobs after it still run now. Returns how many jobs ran without error."""
    done = 0
    for path, args in jobs:
        task = _task(path)
        try:
            task.call_local(*args)
        except Exception:
            logger.warning(
                "fan-out job failed, enqueued on its own for its retries", exc_info=True, extra={"task": path}
            )
            task(*args)
        else:
            done += 1
    return done
