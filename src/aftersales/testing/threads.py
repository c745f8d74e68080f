"""Running work at the same moment in threads, each with its own database connection (concurrency
tests on PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_together(*work: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Start every callable at once (a barrier), wait for all; each result, or the exception it raised."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def run(i: int) -> None:
        from django.db import connections

        try:
            barrier.wait()
            results[i] = work[i]()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results
