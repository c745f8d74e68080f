"""GET /health: is the database reachable, is the task queue reachable? 200 or 503, JSON."""

from __future__ import annotations

import time

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_queue() -> str:
    from huey.contrib.djhuey import HUEY

    # A round trip to the queue's storage (SQLite file or Redis) that reads at most one task: Huey's
    # pending_count() counts the SQLite queue's table row by row, which under a backlog of thousands of
    # tasks read the whole table into the web process's page cache on every monitor poll (seen in
    # bench runs: an idle web worker answering /health grew from 87.6 to 94.0 MiB as the backlog grew).
    HUEY.storage.enqueued_items(limit=1)
    return "ok"


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict[str, object]] = {}
    healthy = True
    for name, check in (("database", _check_database), ("queue", _check_queue)):
        started = time.perf_counter()
        try:
            status = check()
        except Exception as exc:  # report, never raise: this endpoint is for monitors
            status = f"error: {type(exc).__name__}: {exc}"
            healthy = False
        checks[name] = {"status": status, "ms": round((time.perf_counter() - started) * 1000, 1)}
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
