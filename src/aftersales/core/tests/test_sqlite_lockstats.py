"""Opt-in measurement of SQLite's write lock (core/sqlite/lockstats.py, SQLITE_LOCK_STATS): one line per write
transaction with its wait, its hold and the call site, for our backend, Django's and Huey's SQLite storage;
nothing patched without the variable; `uninstall` restores what it patched."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.db.backends.sqlite3 import base as sqlite_base
from django.db.utils import ConnectionHandler

from aftersales.core.sqlite import lockstats


@pytest.fixture(autouse=True)
def _own_connections(django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def stats(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    folder = tmp_path / "stats"
    monkeypatch.setenv(lockstats.ENV, str(folder))
    lockstats.install()
    yield folder
    lockstats.uninstall()


def _rows(folder: Path) -> list[list[str]]:
    return [line.split("\t") for path in folder.glob("*.tsv") for line in path.read_text().splitlines()]


def _write_in_a_transaction(connection: Any) -> None:
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    connection.commit()
    connection.set_autocommit(True)


@pytest.mark.parametrize("engine", ["aftersales.core.sqlite", "django.db.backends.sqlite3"])
def test_a_write_transaction_is_recorded_once_with_its_site(tmp_path, stats, engine):  # type: ignore[no-untyped-def]
    settings: dict[str, Any] = {"ENGINE": engine, "NAME": str(tmp_path / "db.sqlite3")}
    settings["OPTIONS"] = {"timeout": 5, "transaction_mode": "IMMEDIATE"}
    connection = ConnectionHandler({"default": settings})["default"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE t (x integer)")  # (a write outside any transaction: "auto")
        cursor.execute("SELECT count(*) FROM t")  # (a read: not recorded)
    _write_in_a_transaction(connection)
    connection.close()
    rows = _rows(stats)
    assert [(row[0], row[1]) for row in rows] == [("app", "auto"), ("app", "tx")]
    _db, _kind, asked, wait, hold, site, _thread, cpu = rows[1]
    assert float(asked) > 0 and float(wait) >= 0 and float(hold) >= 0 and float(cpu) >= 0
    assert site.startswith(f"{__name__}:_write_in_a_transaction:")


def test_huey_storage_transactions_are_recorded(tmp_path, stats):  # type: ignore[no-untyped-def]
    from huey.storage import SqliteStorage

    storage = SqliteStorage(name="t", filename=str(tmp_path / "huey.sqlite3"))
    storage.enqueue(b"job")
    assert storage.dequeue() == b"job"
    assert [(row[0], row[1]) for row in _rows(stats)][-2:] == [("huey", "huey"), ("huey", "huey")]


def test_nothing_is_patched_without_the_variable_and_uninstall_restores(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    original = sqlite_base.DatabaseWrapper._start_transaction_under_autocommit
    monkeypatch.delenv(lockstats.ENV, raising=False)
    lockstats.install()
    assert sqlite_base.DatabaseWrapper._start_transaction_under_autocommit is original
    monkeypatch.setenv(lockstats.ENV, str(tmp_path))
    lockstats.install()
    assert sqlite_base.DatabaseWrapper._start_transaction_under_autocommit is not original
    lockstats.uninstall()
    assert sqlite_base.DatabaseWrapper._start_transaction_under_autocommit is original
    assert "_commit" not in vars(sqlite_base.DatabaseWrapper)


def test_the_report_reads_the_files(tmp_path, stats):  # type: ignore[no-untyped-def]
    lockstats.record("app", "tx", 100.0, 0.002, 0.010, "aftersales.x:f:1")
    text = lockstats.report(stats)
    assert "1 write transactions" in text and "aftersales.x:f" in text
    assert os.path.exists(stats)
