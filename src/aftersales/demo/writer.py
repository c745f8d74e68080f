"""Fast bulk inserts for generated rows: COPY on PostgreSQL, executemany elsewhere.

Rows are tuples in the model's concrete column order, primary keys included: the generator
allocates ids itself (`IdAllocator`) so that children can point at parents without a round trip,
and sequences are moved past the new ids at the end (`reset_sequences`). No model instances, no
signals, no per-row queries: this is for demo and benchmark data only."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max

from aftersales.inbox.search import SearchDocumentField, to_postgres_tsvector, to_sqlite_document


class BulkTable:
    """Buffered rows for one table."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.table: str = str(model._meta.db_table)
        self.fields = list(model._meta.concrete_fields)
        self.columns: list[str] = [str(f.column) for f in self.fields]
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)

    def add_named(self, values: dict[str, Any]) -> None:
        """Add a row given by column name; a column left out gets NULL when nullable, else the
        field's default (JSON as text), so a column added to the model later does not shift the
        generated values. An unknown column, or a required one without a default, raises."""
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"{self.table} has no column {sorted(unknown)[0]!r}")
        row = []
        for field, column in zip(self.fields, self.columns, strict=True):
            if column in values:
                row.append(values[column])
            elif field.null:
                row.append(None)
            elif field.has_default():
                default = field.get_default()
                row.append(json.dumps(default) if isinstance(field, models.JSONField) else default)
            else:
                raise KeyError(f"a demo row of {self.table} needs a value for {column!r}")
        self.rows.append(tuple(row))


class IdAllocator:
    """Hands out primary keys after the current maximum of each table."""

    def __init__(self, model_list: Sequence[type[models.Model]]) -> None:
        self.next: dict[type[models.Model], int] = {}
        for model in model_list:
            current = model._default_manager.aggregate(m=Max("pk"))["m"] or 0
            self.next[model] = current + 1

    def take(self, model: type[models.Model]) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


def _sqlite_converter(field: models.Field) -> Any:
    if isinstance(field, SearchDocumentField):
        return to_sqlite_document
    if isinstance(field, models.DateTimeField):
        # Django's SQLite format: naive UTC "YYYY-MM-DD HH:MM:SS[.ffffff]". Generated datetimes are UTC.
        return lambda v: None if v is None else str(v)[:-6]
    if isinstance(field, models.DecimalField):
        return lambda v: None if v is None else str(v)
    if isinstance(field, models.JSONField):
        return lambda v: json.dumps(v) if not isinstance(v, str) else v
    return None


def _pg_converter(field: models.Field) -> Any:
    if isinstance(field, SearchDocumentField):
        return to_postgres_tsvector  # tokens -> tsvector input text
    return None  # psycopg adapts everything else; JSON columns are given as JSON text already


Batch = list[tuple[BulkTable, list[tuple[Any, ...]]]]


class Writer:
    """Writes buffered tables in the order given (parents before children), one transaction per
    flush. With background=True (PostgreSQL only) the COPY runs in a thread with its own
    connection while the caller generates the next batch: generation is Python-bound, COPY mostly
    waits on the server, so the two overlap on a multi-core machine."""

    def __init__(self, tables: Sequence[BulkTable], *, background: bool = False) -> None:
        self.tables = list(tables)
        self.postgres = connection.vendor == "postgresql"
        make = _pg_converter if self.postgres else _sqlite_converter
        self._converters = {
            t.table: [(i, c) for i, c in ((i, make(f)) for i, f in enumerate(t.fields)) if c is not None]
            for t in self.tables
        }
        self.background = background and self.postgres
        self._error: BaseException | None = None
        if self.background:
            self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=2)
            self._thread = threading.Thread(target=self._work, name="demo-copy", daemon=True)
            self._thread.start()

    def flush(self) -> int:
        batch: Batch = []
        for table in self.tables:
            if table.rows:
                batch.append((table, self._convert(table)))
                table.written += len(table.rows)
                table.rows = []
        if self.background:
            self._raise()
            self._queue.put(batch)
        else:
            self._write(batch)
        return sum(len(rows) for _, rows in batch)

    def close(self) -> None:
        """Wait for queued batches (background mode) and re-raise a failure of the writer thread."""
        if self.background and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError("writing demo rows failed") from error

    def _work(self) -> None:
        try:
            while (batch := self._queue.get()) is not None:
                if self._error is None:
                    try:
                        self._write(batch)
                    except BaseException as exc:  # handed to the main thread by close()/flush()
                        self._error = exc
        finally:
            connection.close()

    def _write(self, batch: Batch) -> None:
        if not batch:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for table, rows in batch:
                if self.postgres:
                    self._copy(cursor, table, rows)
                else:
                    self._insert(cursor, table, rows)

    def _convert(self, table: BulkTable) -> list[tuple[Any, ...]]:
        converters = self._converters[table.table]
        if not converters:
            return table.rows
        out = []
        for row in table.rows:
            values = list(row)
            for i, conv in converters:
                values[i] = conv(values[i])
            out.append(tuple(values))
        return out

    def _copy(self, cursor: Any, table: BulkTable, rows: list[tuple[Any, ...]]) -> None:
        cols = ", ".join(connection.ops.quote_name(c) for c in table.columns)
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {connection.ops.quote_name(table.table)} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _insert(self, cursor: Any, table: BulkTable, rows: list[tuple[Any, ...]]) -> None:
        cols = ", ".join(connection.ops.quote_name(c) for c in table.columns)
        marks = ", ".join(["%s"] * len(table.columns))
        sql = f"INSERT INTO {connection.ops.quote_name(table.table)} ({cols}) VALUES ({marks})"  # noqa: S608
        cursor.executemany(sql, rows)


def reset_sequences(model_list: Sequence[type[models.Model]]) -> None:
    """Move id sequences past explicitly inserted ids (PostgreSQL; SQLite does it by itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)
