"""PostgreSQL bulk loading for large demo/benchmark data sets, the way the PostgreSQL manual
recommends ("Populating a Database"): drop the secondary indexes, unique and foreign-key
constraints of the tables being filled, COPY, then recreate them in one pass each (index builds
sort once instead of updating B-trees row by row; adding a foreign key checks all rows with one
join instead of one query per row at commit).

Only for loading into a database nobody else uses at the time (an empty install, a benchmark
database): while the load runs, the tables have no secondary indexes. Whatever happens, the
dropped definitions are recreated on exit, exactly as they were (pg_get_indexdef /
pg_get_constraintdef)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, models

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DroppedDefinitions:
    foreign_keys: list[tuple[str, str, str]]  # (table, name, definition)
    uniques: list[tuple[str, str, str]]
    indexes: list[tuple[str, str]]  # (name, CREATE INDEX statement)


def _definitions(tables: Sequence[str]) -> DroppedDefinitions:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.contype, t.relname, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relname = ANY(%s) AND c.contype IN ('f', 'u')
            ORDER BY t.relname, c.conname
            """,
            [list(tables)],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
              AND NOT EXISTS (
                SELECT 1 FROM pg_constraint c JOIN pg_class ic ON ic.oid = c.conindid
                WHERE ic.relname = i.indexname AND c.contype IN ('p', 'u', 'x')
              )
            ORDER BY i.tablename, i.indexname
            """,
            [list(tables)],
        )
        indexes = cursor.fetchall()
    return DroppedDefinitions(
        foreign_keys=[(t, n, d) for kind, t, n, d in constraints if kind == "f"],
        uniques=[(t, n, d) for kind, t, n, d in constraints if kind == "u"],
        indexes=list(indexes),
    )


def _run(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


@contextmanager
def without_indexes(model_list: Sequence[type[models.Model]]) -> Iterator[DroppedDefinitions]:
    """Drop secondary indexes and unique/foreign-key constraints of these tables; recreate on exit."""
    q = connection.ops.quote_name
    tables = [m._meta.db_table for m in model_list]
    found = _definitions(tables)
    for table, name, _ in found.foreign_keys + found.uniques:
        _run(f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(name)}")
    for name, _ in found.indexes:
        _run(f"DROP INDEX {q(name)}")
    try:
        yield found
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in found.indexes:
            logger.debug("recreating index %s", name)
            _run(definition)
        for table, name, definition in found.uniques + found.foreign_keys:
            logger.debug("recreating constraint %s", name)
            _run(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} {definition}")
