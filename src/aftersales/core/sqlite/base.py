"""SQLite with a writer queue: write transactions take turns without polling (issue 13, ADR 0014).

SQLite admits one writer at a time. A transaction that finds the write lock taken (`BEGIN IMMEDIATE`
on a busy database) is retried by SQLite's busy handler, which sleeps between attempts, longer and
longer (1, 2, 5, 10 ... 100 ms): with 8 request threads creating tickets at once, an unlucky one
sleeps through many handovers, which is the long tail measured at 8 clients (p99 0.6-1.4 s for a
5 ms transaction). Here every outermost transaction first queues for the database in this process
(a lock: a waiting thread is woken as soon as the holder commits) and then for the other processes
(an exclusive `flock` on `<database>.writer-lock`, polled every 0.5-5 ms), and only then runs
`BEGIN IMMEDIATE`, which finds the lock free. The lock is released when the transaction commits,
rolls back or its connection closes.

Processes that do not use this backend (a `manage.py` command under other settings, the sqlite3
shell) still meet SQLite's own lock: nothing relies on the queue for correctness. If the queue
cannot be had within the connection's busy timeout, the transaction goes ahead and SQLite decides.

Opt-in: settings/production.py selects it for SQLite when SQLITE_WRITER_QUEUE=1. Measured against
Django's backend (bench/peer.py --only layout --layouts 2x4/queue, 8 clients creating tickets, two
runs on a shared 2-core machine): p99 x0.65-0.77 and max x0.60, but median x1.6 and throughput
x0.85; not the default on that evidence (docs/adr/0014-server-layout.md)."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from typing import Any

from django.db.backends.sqlite3 import base

_MIN_POLL = 0.0005
_MAX_POLL = 0.005


class WriterQueue:
    """One per database file and process: a thread lock, then an exclusive flock on a lock file."""

    def __init__(self, path: str) -> None:
        self.path = f"{path}.writer-lock"
        self.threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # (a forked child needs its own open file)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, timeout: float) -> bool:
        if not self.threads.acquire(timeout=timeout):
            return False
        deadline = time.monotonic() + timeout
        delay = _MIN_POLL
        try:
            fd = self._file()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(delay)
                    delay = min(delay * 2, _MAX_POLL)
        except BaseException:
            self.threads.release()
            raise
        self.threads.release()
        return False

    def release(self) -> None:
        try:
            if self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()


_QUEUES: dict[str, WriterQueue] = {}
_QUEUES_LOCK = threading.Lock()


def writer_queue(path: str) -> WriterQueue:
    with _QUEUES_LOCK:
        queue = _QUEUES.get(path)
        if queue is None:
            queue = _QUEUES[path] = WriterQueue(path)
        return queue


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queued: WriterQueue | None = None

    def _queue(self) -> WriterQueue | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None
        return writer_queue(os.path.abspath(name))

    def _start_transaction_under_autocommit(self) -> None:
        queue = self._queue()
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        if queue is not None and self._queued is None and queue.acquire(timeout):
            self._queued = queue
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # (private: not in the stubs)
        except BaseException:
            self._leave_queue()
            raise

    def _leave_queue(self) -> None:
        queue, self._queued = self._queued, None
        if queue is not None:
            queue.release()

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._leave_queue()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._leave_queue()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._leave_queue()
