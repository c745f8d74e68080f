"""WAL checkpoints of a web process off its requests (issue 13: p99 of ticket creation on SQLite).

In WAL mode SQLite copies the log back into the database file ("checkpoint") on the commit that
finds the log longer than `wal_autocheckpoint` pages (1,000 by default): that commit then writes
the pages and fsyncs the database file before it returns. A ticket creation appends ~55 pages to
the log, so about one request in 18 paid a checkpoint: commit p50 0.5 ms, p95 26 ms, p99 51 ms,
max 124 ms (bench/RESULTS.md, "Issue 13, seventh pass").

gunicorn's web workers (scripts/gunicorn.conf.py) therefore open their connections with a high
`wal_autocheckpoint` (SQLITE_WAL_AUTOCHECKPOINT, read by settings/base.py: a bound on the log if
nothing else checkpoints, not the usual path), and each worker runs `WalCheckpointer`, a thread
that asks for a PASSIVE checkpoint every second on a connection of its own. A PASSIVE checkpoint
takes no write lock (writers go on meanwhile) and copies only what no reader still needs; while one
runs, another connection's checkpoint answers "busy" at once, so the workers' threads take turns.
sqlite3 releases the GIL while SQLite works, so the worker's request thread is not held either.
The Huey worker and management commands keep SQLite's default (their commits serve no request)."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from typing import Any

logger = logging.getLogger(__name__)

INTERVAL = 1.0  # seconds between a web process's checkpoints


def init_command(autocheckpoint: str = "") -> str:
    """The PRAGMAs every connection of ours runs when it opens (settings/base.py): WAL, NORMAL
    sync, and `wal_autocheckpoint` when `autocheckpoint` (SQLITE_WAL_AUTOCHECKPOINT) is a number
    of pages."""
    command = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    if autocheckpoint.strip().isdigit():
        command += f" PRAGMA wal_autocheckpoint={int(autocheckpoint)};"
    return command


def checkpoint(connection: sqlite3.Connection) -> tuple[int, int, int]:
    """One PASSIVE checkpoint: (busy, frames in the log, frames copied into the database)."""
    row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(row[0]), int(row[1]), int(row[2])


class WalCheckpointer(threading.Thread):
    """A daemon thread that checkpoints the database at `path` every `interval` seconds."""

    def __init__(self, path: str, interval: float = INTERVAL) -> None:
        super().__init__(name="sqlite-wal-checkpoint", daemon=True)
        self.path = path
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=1, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA wal_autocheckpoint=0")
            failed = False
            while not self.stopped.wait(self.interval):
                try:
                    checkpoint(connection)
                    failed = False
                except sqlite3.Error as error:  # (e.g. the file replaced under us): try again next time
                    if not failed:
                        logger.warning("WAL checkpoint of %s failed: %s", self.path, error)
                    failed = True
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()


def start_web_checkpointer(
    interval: float = INTERVAL, database: dict[str, Any] | None = None
) -> WalCheckpointer | None:
    """Start this process's checkpointer if the database (default: settings' default database) is an
    SQLite file (gunicorn's post_worker_init hook); None otherwise."""
    if database is None:
        from django.conf import settings

        database = dict(settings.DATABASES["default"])
    name = str(database.get("NAME") or "")
    if "sqlite" not in str(database.get("ENGINE", "")) or not name or name == ":memory:" or name.startswith("file:"):
        return None
    checkpointer = WalCheckpointer(os.path.abspath(name), interval)
    checkpointer.start()
    return checkpointer
