"""WAL checkpoints off the request path (core/sqlite/checkpoint.py): a web worker's connections open with
the wal_autocheckpoint SQLITE_WAL_AUTOCHECKPOINT names, so their commits leave the log alone, and the
worker's checkpointer thread copies the log into the database file on its own connection."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from django.db.utils import ConnectionHandler

from aftersales.core.sqlite.checkpoint import WalCheckpointer, checkpoint, init_command, start_web_checkpointer


@pytest.fixture(autouse=True)
def _own_connections(django_db_blocker):  # type: ignore[no-untyped-def]
    """These tests open their own connections to their own files, not the test database."""
    with django_db_blocker.unblock():
        yield


def _write(path: Path, autocheckpoint: str, rows: int) -> Any:
    """`rows` commits through Django's SQLite backend, opened with our init command; the connection
    stays open (closing a database's last connection checkpoints it): the caller closes it."""
    settings: dict[str, Any] = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}
    settings["OPTIONS"] = {"timeout": 5, "transaction_mode": "IMMEDIATE", "init_command": init_command(autocheckpoint)}
    connection = ConnectionHandler({"default": settings})["default"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)")
        for _ in range(rows):
            cursor.execute("INSERT INTO t (body) VALUES (%s)", ["x" * 3000])  # (autocommit: one commit each)
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == (int(autocheckpoint) if autocheckpoint else 1000)
    return connection


def test_init_command():
    assert init_command("") == "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    assert init_command("10000").endswith(" PRAGMA wal_autocheckpoint=10000;")
    assert "wal_autocheckpoint" not in init_command("ten")


def test_commits_leave_the_log_to_the_checkpointer(tmp_path):
    path = tmp_path / "web.sqlite3"
    writer = _write(path, "100000", rows=1200)  # > 1,000 pages of log: SQLite's default would have checkpointed
    wal = path.with_name(path.name + "-wal")
    try:
        assert wal.stat().st_size > 1000 * 4096  # no checkpoint ran inside a commit: the log only grew
        assert path.stat().st_size < 100 * 4096  # and the rows are not in the database file yet
        checkpointer = WalCheckpointer(str(path), interval=0.05)
        checkpointer.start()
        deadline = time.monotonic() + 10
        while path.stat().st_size < 1000 * 4096 and time.monotonic() < deadline:
            time.sleep(0.05)
        checkpointer.stop()
        checkpointer.join(5)
        assert not checkpointer.is_alive()
        assert path.stat().st_size > 1000 * 4096  # copied into the database file by the thread
        with writer.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM t")
            assert cursor.fetchone()[0] == 1200
    finally:
        writer.close()
    plain = sqlite3.connect(path)
    try:
        busy, log, copied = checkpoint(plain)
        assert busy == 0 and copied == log
    finally:
        plain.close()


def test_default_connections_keep_sqlite_checkpoints(tmp_path):
    """Without SQLITE_WAL_AUTOCHECKPOINT (the Huey worker, management commands) commits checkpoint as
    SQLite does by default: the log never grows far past 1,000 pages."""
    path = tmp_path / "worker.sqlite3"
    writer = _write(path, "", rows=1200)
    try:
        assert path.with_name(path.name + "-wal").stat().st_size < 1100 * 4096
    finally:
        writer.close()


def test_web_checkpointer_only_for_an_sqlite_file(tmp_path):
    assert start_web_checkpointer(database={"ENGINE": "django.db.backends.postgresql", "NAME": "aftersales"}) is None
    assert start_web_checkpointer(database={"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}) is None
    writer_queue = {"ENGINE": "aftersales.core.sqlite", "NAME": str(tmp_path / "a.sqlite3")}
    checkpointer = start_web_checkpointer(interval=0.05, database=writer_queue)
    assert checkpointer is not None and checkpointer.is_alive() and checkpointer.daemon
    checkpointer.stop()
    checkpointer.join(5)
