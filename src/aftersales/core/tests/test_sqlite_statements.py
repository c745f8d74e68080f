"""core/sqlite/statements.py: SQLite's %s -> ? rewriting remembered per statement text, results unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.backends.sqlite3 import base

from aftersales.core.sqlite import statements

QUERIES = [
    "SELECT 1",
    "SELECT %s, %s",
    "SELECT '%%s', %s",  # a literal %s
    "SELECT '100%%' || %s",
    'INSERT INTO "t" ("a", "b") VALUES (%s, %s), (%s, %s) RETURNING "id"',
]


@pytest.fixture
def cursor_wrapper() -> Any:
    statements.install()
    return base.SQLiteCursorWrapper


def test_same_text_as_djangos_rewrite(cursor_wrapper: Any) -> None:
    original = cursor_wrapper.convert_query.__wrapped__  # type: ignore[attr-defined]
    for query in QUERIES:
        expected = original(None, query)
        assert cursor_wrapper.convert_query(None, query) == expected  # computed
        assert cursor_wrapper.convert_query(None, query) == expected  # remembered
        assert statements._converted[query] == expected
    named = "SELECT %(a)s, %(b)s"
    assert cursor_wrapper.convert_query(None, named, param_names=["a", "b"]) == "SELECT :a, :b"
    assert named not in statements._converted


def test_installed_once_and_bounded(cursor_wrapper: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = cursor_wrapper.convert_query
    statements.install()
    assert cursor_wrapper.convert_query is installed
    monkeypatch.setattr(statements, "MAX_STATEMENTS", 3)
    statements._converted.clear()
    for n in range(7):
        cursor_wrapper.convert_query(None, "SELECT " + ", ".join(["%s"] * (n + 1)))
    assert 1 <= len(statements._converted) <= 3


@pytest.mark.sqlite
@pytest.mark.django_db
def test_statements_run_with_their_parameters() -> None:
    assert connection.vendor == "sqlite"
    with connection.cursor() as cursor:
        for _ in range(2):
            cursor.execute("SELECT %s || '%%s', %s + 1", ["x", 41])
            assert cursor.fetchone() == ("x%s", 42)
