"""The SQLite backend with a writer queue (core/sqlite, selected by production settings): an outermost
transaction holds the process's queue lock and the lock file's flock from BEGIN to its end, whichever
way it ends; two threads' write transactions take turns and both commit."""

from __future__ import annotations

import fcntl
import itertools
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db.utils import ConnectionHandler

from aftersales.core.sqlite import base
from aftersales.core.sqlite.base import WriterQueue, writer_queue


@pytest.fixture(autouse=True)
def _own_connections(django_db_blocker):  # type: ignore[no-untyped-def]
    """These tests open their own connections to their own files, not the test database."""
    with django_db_blocker.unblock():
        yield


def _handler(path: Path) -> ConnectionHandler:
    settings: dict[str, Any] = {"ENGINE": "aftersales.core.sqlite", "NAME": str(path)}
    settings["OPTIONS"] = {"timeout": 5, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    return ConnectionHandler({"default": settings})


def _flock_free(path: Path) -> bool:
    fd = os.open(f"{path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # (closing drops a lock taken here)
    return True


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_the_queue_is_held_from_begin_to_the_end(tmp_path, end):  # type: ignore[no-untyped-def]
    path = tmp_path / "q.sqlite3"
    conn = _handler(path)["default"]
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE t (x integer)")
    queue = writer_queue(os.path.abspath(path))
    assert not queue.threads.locked() and _flock_free(path)

    conn.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    assert queue.threads.locked() and not _flock_free(path)
    if end == "close":
        conn.close()
    else:
        getattr(conn, end)()
        conn.set_autocommit(True)
    assert not queue.threads.locked() and _flock_free(path)
    conn.close()


def test_two_threads_take_turns_and_both_commit(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "q.sqlite3"
    handler = _handler(path)
    with handler["default"].cursor() as cursor:
        cursor.execute("CREATE TABLE t (who text, at real)")
    handler["default"].close()
    spans: list[tuple[str, float, float]] = []
    errors: list[BaseException] = []

    def write(who: str) -> None:
        conn = handler["default"]
        try:
            for _ in range(5):
                conn.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
                started = time.monotonic()
                with conn.cursor() as cursor:
                    cursor.execute("INSERT INTO t VALUES (%s, %s)", [who, started])
                time.sleep(0.005)
                ended = time.monotonic()
                conn.commit()
                conn.set_autocommit(True)
                spans.append((who, started, ended))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=write, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors
    spans.sort(key=lambda span: span[1])
    assert len(spans) == 10
    assert all(prev[2] <= nxt[1] for prev, nxt in itertools.pairwise(spans))  # never overlapping
    with handler["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone()[0] == 10
    handler["default"].close()


# --- a background writer (the Huey worker) gives way to waiting requests (ADR 0039) -----------------------
# Separate WriterQueue objects stand for separate processes: each opens its own files, and flock treats
# each open file on its own.


def test_a_waiting_request_writes_before_a_background_writer(tmp_path):  # type: ignore[no-untyped-def]
    path = os.path.abspath(tmp_path / "q.sqlite3")
    holder = WriterQueue(path)
    assert holder.acquire(5)
    order: list[str] = []

    def write(who: str, background: bool) -> None:
        queue = WriterQueue(path)
        assert queue.acquire(5, background=background)
        order.append(who)
        time.sleep(0.03)
        queue.release()

    request = threading.Thread(target=write, args=("request", False))
    request.start()
    probe = os.open(f"{path}.writer-wait", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # until the request says it waits (its shared flock)
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(probe, fcntl.LOCK_UN)
                time.sleep(0.001)
            except BlockingIOError:
                break
        else:
            pytest.fail("the waiting request did not say so")
    finally:
        os.close(probe)
    background = threading.Thread(target=write, args=("background", True))
    background.start()
    time.sleep(0.02)  # (the background writer polls meanwhile)
    holder.release()
    request.join(5)
    background.join(5)
    assert order == ["request", "background"]


def test_a_background_writer_takes_a_free_lock_at_once(tmp_path):  # type: ignore[no-untyped-def]
    queue = WriterQueue(os.path.abspath(tmp_path / "q.sqlite3"))
    started = time.monotonic()
    assert queue.acquire(5, background=True)
    assert time.monotonic() - started < 0.05
    queue.release()


def test_a_background_writer_gives_way_for_a_bounded_time(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(base, "BACKGROUND_DEFER", 0.1)
    path = os.path.abspath(tmp_path / "q.sqlite3")
    waiting = os.open(f"{path}.writer-wait", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(waiting, fcntl.LOCK_SH)  # (a request that waits forever, the lock itself free)
    try:
        queue = WriterQueue(path)
        started = time.monotonic()
        assert queue.acquire(5, background=True)
        took = time.monotonic() - started
        queue.release()
    finally:
        os.close(waiting)
    assert 0.1 <= took < 1.0


def test_not_had_within_the_timeout_either_way(tmp_path):  # type: ignore[no-untyped-def]
    path = os.path.abspath(tmp_path / "q.sqlite3")
    holder = WriterQueue(path)
    assert holder.acquire(5)
    try:
        for background in (False, True):
            queue = WriterQueue(path)
            assert not queue.acquire(0.05, background=background)
            assert not queue.threads.locked()
    finally:
        holder.release()


def test_the_worker_process_writes_in_background(monkeypatch):  # type: ignore[no-untyped-def]
    from aftersales.core import tasks

    monkeypatch.setattr(base, "_background", False)
    tasks.writes_in_background()  # (a Huey startup hook: the consumer calls it in each worker)
    assert base._background
