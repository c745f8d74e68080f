"""Django's SQLite statement rewriting, remembered per statement text (issue 13).

Python's sqlite3 takes `?` placeholders; Django writes `%s`, so its SQLite cursor rewrites every statement
with a regular expression before running it (`SQLiteCursorWrapper.convert_query`): 10-30 us for a
ticket's INSERT, on each of the ~11 statements of a new ticket, for texts that repeat. The rewrite is
a pure function of the text, so its result is kept in a bounded table: the same `?` statement, found
by a dict lookup. Statements with named parameters (a mapping) are rewritten as before. Installed once
per process by core.apps.CoreConfig.ready(); applies to every SQLite connection, with or without the
writer queue (core/sqlite/base.py)."""

from __future__ import annotations

from typing import Any

from django.db.backends.sqlite3 import base

MAX_STATEMENTS = 4096  # distinct texts kept; past it the table starts afresh (IN lists of many lengths)

_converted: dict[str, str] = {}


def install() -> None:
    """Make SQLite cursors look their converted statements up (idempotent)."""
    wrapper = base.SQLiteCursorWrapper
    if getattr(wrapper.convert_query, "remembers", False):
        return
    convert = wrapper.convert_query

    def convert_query(self: Any, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is not None:
            return convert(self, query, param_names=param_names)  # type: ignore[no-any-return]
        converted = _converted.get(query)
        if converted is None:
            converted = convert(self, query)
            if len(_converted) >= MAX_STATEMENTS:
                _converted.clear()
            _converted[query] = converted
        return converted

    convert_query.remembers = True  # type: ignore[attr-defined]
    convert_query.__wrapped__ = convert  # type: ignore[attr-defined]
    wrapper.convert_query = convert_query  # type: ignore[method-assign]
