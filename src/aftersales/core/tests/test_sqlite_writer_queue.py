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

from aftersales.core.sqlite.base import writer_queue


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
