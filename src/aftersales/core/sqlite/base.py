"""SQLite with a writer queue: write transactions take turns without polling (issue 13, ADR 0014).

SQLite admits one writer at a time. A transaction that finds the write lock taken (`BEGIN IMMEDIATE`
on a busy database) is retried by SQLite's busy handler, which sleeps between attempts, longer and
longer (1, 2, 5, 10 ... 100 ms): with 8 request threads creating tickets at once, an unlucky one
sleeps through many handovers, which is the long tail measured at 8 clients (p99 0.6-1.4 s for a
5 ms transaction). Here every outermost transaction first queues for the database in this process
(a lock: a waiting thread is woken as soon as the holder commits) and then for the other processes
(an exclusive `flock` on `<database>.writer-lock`, polled every 0.5-2 ms), and only then runs
`BEGIN IMMEDIATE`, which finds the lock free. The lock is released when the transaction commits,
rolls back or its connection closes.

Requests first (ADR 0039): a writer that has to wait says so with a shared flock on
`<database>.writer-wait` while it waits; a background process (the Huey worker, `writes_in_background`)
takes the lock only when no one says so, for at most BACKGROUND_DEFER per transaction, so a request
waits for at most one of the worker's transactions, which run_jobs keeps short on SQLite
(core/tasks.py SQLITE_BATCH_ITEMS).

Processes that do not use this backend (a `manage.py` command under other settings, the sqlite3
shell) still meet SQLite's own lock: nothing relies on the queue for correctness. If the queue
cannot be had within the connection's busy timeout, the transaction goes ahead and SQLite decides.

Production settings select it for SQLite unless SQLITE_WRITER_QUEUE=0 (since ADR 0039; before, opt-in:
docs/adr/0014-server-layout.md). Measured with core/sqlite/lockstats.py (SQLITE_LOCK_STATS)."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from typing import Any

from django.db.backends.sqlite3 import base

_MIN_POLL = 0.0005
_MAX_POLL = 0.002
BACKGROUND_DEFER = 0.25  # seconds a background writer gives way to waiting requests at most, per transaction

_background = False


def writes_in_background() -> None:
    """This process's write transactions give way to the waiting ones of other processes (the Huey worker:
    core/tasks.py calls it when the consumer starts). See WriterQueue.acquire."""
    global _background
    _background = True


def _try(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class WriterQueue:
    """One per database file and process: a thread lock, then an exclusive flock on `<database>.writer-lock`.
    A writer of a request that has to wait holds a shared flock on `<database>.writer-wait` meanwhile; a
    background writer does not take the lock while anyone holds that one (ADR 0039)."""

    def __init__(self, path: str) -> None:
        self.path = f"{path}.writer-lock"
        self.waiting_path = f"{path}.writer-wait"
        self.threads = threading.Lock()
        self._fd: int | None = None
        self._waiting_fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # (a forked child needs its own open files)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._waiting_fd = os.open(self.waiting_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, timeout: float, *, background: bool | None = None) -> bool:
        """Take the database's writer lock within `timeout` seconds (False: not had). A request's writer that
        finds it taken says so (shared flock on the waiting file) until it has it; a `background` writer
        (default: this process's, see `writes_in_background`) polls only while no one says so, for at most
        BACKGROUND_DEFER seconds, then polls as a request's writer would."""
        if not self.threads.acquire(timeout=timeout):
            return False
        try:
            fd = self._file()
            if _background if background is None else background:
                if self._poll(fd, min(timeout, BACKGROUND_DEFER), defer=True):
                    return True
                timeout = max(0.0, timeout - BACKGROUND_DEFER)
            elif _try(fd, fcntl.LOCK_EX):
                return True
            if self._poll(fd, timeout, defer=False):
                return True
        except BaseException:
            self.threads.release()
            raise
        self.threads.release()
        return False

    def _poll(self, fd: int, timeout: float, *, defer: bool) -> bool:
        waiting = self._waiting_fd
        assert waiting is not None
        deadline = time.monotonic() + timeout
        delay = _MIN_POLL
        said = False
        try:
            while True:
                if defer:
                    # (nobody waits if an exclusive flock of the waiting file can be had; given back at once)
                    free = _try(waiting, fcntl.LOCK_EX)
                    if free:
                        fcntl.flock(waiting, fcntl.LOCK_UN)
                    if free and _try(fd, fcntl.LOCK_EX):
                        return True
                else:
                    said = said or _try(waiting, fcntl.LOCK_SH)
                    if _try(fd, fcntl.LOCK_EX):
                        return True
                if time.monotonic() >= deadline:
                    return False
                time.sleep(delay)
                delay = min(delay * 2, _MAX_POLL)
        finally:
            if said:
                fcntl.flock(waiting, fcntl.LOCK_UN)

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
