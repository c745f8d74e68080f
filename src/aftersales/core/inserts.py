"""INSERT statements prepared once per model, for write paths where Django's SQL compiler is the cost.

`Model.save(force_insert=True)` and `bulk_create` build their INSERT anew on every call: the field
list, the placeholders, the compiler and the query objects, 0.2-0.5 ms per statement, where SQLite
itself takes 0.02-0.05 ms (issue 13, bench/RESULTS.md). `insert_rows` writes the same rows: the
statement text is made once per (model, database vendor, row count) from the model's `_meta` (so
columns never drift from the model), and each value is what Django's compiler would send:
`field.get_db_prep_save(field.pre_save(obj, add=True), connection)` (defaults from the unsaved
instance, `auto_now` / `auto_now_add` stamped, JSON and dates adapted by the backend). The primary
key comes back with RETURNING (or the cursor's lastrowid), and the instances end up as saved ones
(`pk` set, `_state.adding` False), as after `save()`.

Not for every model: no multi-table inheritance, no `save()` override with effects (call what it does
yourself; e.g. `Customer.email_normalized`), no signals (the project uses none for writes: ADR 0001
conventions), no expression values (an instance carrying one is saved through the ORM instead).

On PostgreSQL several rows go as one `INSERT ... SELECT * FROM UNNEST(%s::type[], ...)` with one array
parameter per column (what Django's own bulk_create sends there): the statement text is short and the same
for every batch size, where a VALUES list of 200 rows x 20 columns made psycopg parse 4,000 placeholders
client-side on every call (`_split_query`, not cached above 50 parameters: ~3 ms a statement).

On PostgreSQL, several rows go as ONE JSON document (ADR 0040): `INSERT ... SELECT r.c0, ... FROM
json_to_recordset(%s::json) AS r(c0 type, ...)`, the rows serialised by the json module's C encoder. Text
arrays cost psycopg's client-side binding a Python loop per element (quoting and escaping): ~22% of the
sync engine's CPU. A value JSON cannot carry exactly (a float NaN, a duration, bytes, a type the encoder
does not know) sends the statement through the UNNEST arrays instead. A JSON column's value is nested in
the document as it is (through the field's own encoder first, when it has one)."""

from __future__ import annotations

import datetime
import decimal
import json
import sys
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connections, models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Field, Model

# ((field, plain types, any str, any aware datetime), statement, ids)
_Plan = tuple[list[tuple[Field, frozenset[type], bool, bool]], str, bool]

# Field classes whose get_db_prep_save hands back a value of these exact types unchanged (to_python of a
# str, an int, a bool or None), on every backend: such values skip the call. Other types and every other
# field (subclasses included) go through get_db_prep_save, as in Django's compiler (see _skips).
_TEXT: frozenset[type] = frozenset({str, type(None)})
_INTEGER: frozenset[type] = frozenset({int, type(None)})
_PLAIN: dict[type[Any], frozenset[type]] = {
    models.CharField: _TEXT,
    models.TextField: _TEXT,
    models.EmailField: _TEXT,
    models.BooleanField: frozenset[type]({bool, type(None)}),
    models.IntegerField: _INTEGER,
    models.BigIntegerField: _INTEGER,
    models.PositiveIntegerField: _INTEGER,
    models.PositiveSmallIntegerField: _INTEGER,
    models.DateTimeField: frozenset[type]({type(None)}),  # (None: get_prep_value and the adapters keep it)
}
# The text fields above return any str as it is (to_python: `isinstance(value, str)`), choices' members too.
_ANY_STR = frozenset({models.CharField, models.TextField, models.EmailField})
# Integer primary keys a foreign key points at: an int (or None, which ForeignKey answers itself) comes
# back unchanged where the backend does not check auto-increment values (MySQL refuses 0; not ours).
_INTEGER_KEYS = frozenset({models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField})
_NONE: frozenset[type] = frozenset()
_plans: dict[tuple[type[Model], str, int, bool], _Plan] = {}
_CACHED_ROWS = 16
_UNNEST = -1  # the plan key's row count of a PostgreSQL UNNEST statement (one text for every size)
_JSON = -2  # ... and of a PostgreSQL json_to_recordset statement (one text for every size)


def _skips(field: Field, connection: Any) -> tuple[frozenset[type], bool, bool]:
    """The value types for which `field.get_db_prep_save(value, connection)` is `value` itself (that call
    is skipped for them), whether any str instance is such a value, and whether any aware datetime is
    (PostgreSQL's DateTimeField: to_python and the backend's adapter keep it) (core/tests/test_inserts.py
    checks all three against Django for every field of every model)."""
    kind = type(field)
    if kind is models.ForeignKey:
        target = field.target_field  # type: ignore[attr-defined]
        autopk_checked = type(connection.ops).validate_autopk_value is not BaseDatabaseOperations.validate_autopk_value
        if type(target) in _INTEGER_KEYS and not autopk_checked:
            return _INTEGER, False, False
        return _NONE, False, False
    aware = kind is models.DateTimeField and connection.vendor == "postgresql"
    return _PLAIN.get(kind, _NONE), kind in _ANY_STR, aware


def _unnest_types(fields: list[Field], connection: Any) -> list[str] | None:
    """The array type of each column for an UNNEST insert (Django's bulk_create rules: standard
    internal types only, the type without its length), or None when one does not qualify."""
    types = []
    for f in fields:
        target = f.target_field if f.is_relation else f  # type: ignore[attr-defined]
        if target.get_internal_type() not in connection.data_types:
            return None
        db_type = f.db_type(connection)
        if db_type is None:
            return None
        types.append(db_type.split("(")[0])
    return types


def _plan(model: type[Model], connection: Any, rows: int, with_pk: bool) -> _Plan:
    key = (model, connection.vendor, rows, with_pk)
    plan = _plans.get(key)
    if plan is None:
        meta = model._meta
        if meta.parents:
            raise TypeError(f"{model.__name__}: multi-table inheritance is not supported")
        fields = list(meta.local_concrete_fields)
        if not with_pk:
            fields = [f for f in fields if f is not meta.auto_field]
        for f in fields:
            if hasattr(f, "get_placeholder"):
                raise TypeError(f"{model.__name__}.{f.name}: fields with a custom placeholder are not supported")
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        types = _unnest_types(fields, connection) if rows in (_UNNEST, _JSON) else None
        if types is not None and rows == _JSON:
            record = ", ".join(f"c{i} {t}" for i, t in enumerate(types))
            values = ", ".join(f"c{i}" for i in range(len(types)))
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
                f"SELECT {values} FROM json_to_recordset(%s::json) AS r({record})"
            )
        elif types is not None:
            arrays = ", ".join(f"(%s)::{t}[]" for t in types)
            sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT * FROM UNNEST({arrays})"  # noqa: S608
        else:
            row = "(" + ", ".join(["%s"] * len(fields)) + ")"
            sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES " + ", ".join([row] * max(1, rows))  # noqa: S608
        returns = not with_pk and meta.auto_field is not None
        features = connection.features
        many = features.can_return_rows_from_bulk_insert or rows == 1 or types is not None
        if returns and features.can_return_columns_from_insert and many:
            sql += f" RETURNING {quote(meta.auto_field.column)}"  # type: ignore[union-attr]
        plan = ([(f, *_skips(f, connection)) for f in fields], sql, returns)
        if rows in (_UNNEST, _JSON) and types is None:
            raise TypeError(f"{model.__name__}: a column cannot go through UNNEST")
        if rows <= _CACHED_ROWS:  # a page's batches come in every size: their long texts are not kept
            _plans[key] = plan
    return plan


def insert_rows(objs: Sequence[Model], *, using: str = "default") -> None:
    """INSERT the unsaved instances `objs` (one model) in one statement (or, where the database limits
    a statement's parameters, SQLite, as few as bulk_create would send), setting their primary keys.
    A foreign key set to an instance saved after it was assigned takes that instance's id, as in
    save() and bulk_create. Runs in the caller's transaction (no savepoint of its own)."""
    if not objs:
        return
    model = type(objs[0])
    connection = connections[using]
    meta = model._meta
    with_pk = meta.auto_field is None or objs[0].pk is not None
    if len(objs) > 1:  # (one row always fits a statement)
        columns = [entry[0] for entry in _plan(model, connection, 1, with_pk)[0]]
        size = max(1, connection.ops.bulk_batch_size(columns, objs))
        if len(objs) > size:
            for start in range(0, len(objs), size):
                insert_rows(objs[start : start + size], using=using)
            return
    unnest = len(objs) > 1 and connection.vendor == "postgresql" and _unnestable(model, connection, with_pk)
    fields, sql, returns = _plan(model, connection, _JSON if unnest else len(objs), with_pk)
    params: list[Any] = []
    relations = _relations(model)
    for obj in objs:
        if type(obj) is not model or (obj.pk is not None) != with_pk:
            raise TypeError("insert_rows takes instances of one model, all with or all without a primary key")
        if relations is None or not _related_ready(obj, relations):
            obj._prepare_related_fields_for_save(operation_name="insert_rows")  # type: ignore[attr-defined]
        for f, plain, any_str, aware in fields:
            value = f.pre_save(obj, True)
            kind = type(value)
            if (
                kind in plain
                or (any_str and isinstance(value, str))
                or (aware and kind is datetime.datetime and value.tzinfo is not None)
            ):
                params.append(value)
                continue
            if hasattr(value, "resolve_expression"):  # an expression (F(), db default...): the ORM's job
                _save_each(objs, using)
                return
            params.append(f.get_db_prep_save(value, connection))
    if unnest:  # one JSON document (rows as objects c0, c1...), or one array per column
        width = len(fields)
        keys = _keys(width)
        try:
            rows = [
                dict(zip(keys, params[start : start + width], strict=True)) for start in range(0, len(params), width)
            ]
            document = _dumps(rows)
        except (TypeError, ValueError):  # a value JSON does not carry exactly: the arrays
            fields, sql, returns = _plan(model, connection, _UNNEST, with_pk)
            params = [params[column::width] for column in range(width)]
        else:
            params = [document]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returns:
            if " RETURNING " in sql:
                ids = [row[0] for row in cursor.fetchall()]
            elif len(objs) == 1:
                ids = [connection.ops.last_insert_id(cursor, meta.db_table, str(meta.pk.column))]
            else:  # pragma: no cover - every supported backend returns rows of a multi-row INSERT
                raise NotImplementedError("this database cannot return the ids of a multi-row INSERT")
            for obj, pk in zip(objs, ids, strict=True):
                obj.pk = pk
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using


_key_lists: dict[int, list[str]] = {}


def _keys(width: int) -> list[str]:
    keys = _key_lists.get(width)
    if keys is None:
        keys = _key_lists[width] = [f"c{i}" for i in range(width)]
    return keys


def _json_default(value: Any) -> Any:
    """A prepared value the json module does not know, as the text PostgreSQL's input function reads as
    psycopg's adapter would have sent it; TypeError / ValueError for anything else (-> the arrays)."""
    if isinstance(value, datetime.date | datetime.time):  # (datetime too; its subclasses: freezegun's)
        return value.isoformat()
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    psycopg_json = sys.modules.get("psycopg.types.json")  # (not imported where no value can be one: SQLite)
    if psycopg_json is not None and isinstance(value, psycopg_json._JsonWrapper):  # a JSON column's value
        if value.dumps is None or value.dumps is json.dumps:
            return value.obj
        return json.loads(value.dumps(value.obj))  # (what the field's own encoder makes of it)
    raise TypeError(f"{type(value).__name__} is not sent as JSON")


_dumps = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, check_circular=False, separators=(",", ":"), default=_json_default
).encode


def json_rows(rows: Sequence[Sequence[Any]]) -> str:
    """Rows of prepared values as one JSON document for `json_to_recordset(%s::json) AS r(c0 type, c1 type, ...)`
    (ADR 0040): objects with the keys c0, c1... in column order, values as insert_rows sends them (a date or
    time as ISO text, a Decimal as its digits, a UUID as text). TypeError / ValueError for a value JSON cannot
    carry exactly (a float NaN, bytes...)."""
    if not rows:
        return "[]"
    keys = _keys(len(rows[0]))
    return _dumps([dict(zip(keys, row, strict=True)) for row in rows])


_relation_fields: dict[type[Model], list[Any] | None] = {}
_MISSING = object()


def _relations(model: type[Model]) -> list[Any] | None:
    """The model's concrete relation fields, for `_related_ready`; None when it has a private relation
    (a generic foreign key): Django's own check then runs for every row."""
    if model not in _relation_fields:
        meta = model._meta
        private = any(f.is_relation for f in meta.private_fields)
        _relation_fields[model] = None if private else [f for f in meta.concrete_fields if f.is_relation]
    return _relation_fields[model]


def _related_ready(obj: Model, relations: list[Any]) -> bool:
    """True when `Model._prepare_related_fields_for_save` would change nothing and raise nothing: every
    related instance cached on `obj` is saved and its id already in `obj`'s column (else that method runs,
    and sets the id, refuses an unsaved instance or drops a stale cache as it always does)."""
    cache = obj._state.fields_cache
    if not cache:
        return True
    for field in relations:
        related = cache.get(field.cache_name, _MISSING)
        if related is _MISSING or not related:  # (not cached, or None: nothing to check, as in Django's)
            continue
        value = getattr(obj, field.attname)
        if not related._is_pk_set() or value in field.empty_values:
            return False
        if getattr(related, field.target_field.attname) != value:
            return False
    return True


_unnest_ok: dict[tuple[type[Model], bool], bool] = {}


def _unnestable(model: type[Model], connection: Any, with_pk: bool) -> bool:
    key = (model, with_pk)
    ok = _unnest_ok.get(key)
    if ok is None:
        try:
            _plan(model, connection, _UNNEST, with_pk)
            ok = True
        except TypeError:
            ok = False
        _unnest_ok[key] = ok
    return ok


def _save_each(objs: Sequence[Model], using: str) -> None:
    for obj in objs:
        obj.save(force_insert=True, using=using)


def update_rows(
    model: type[Model], fields: Sequence[Field], rows: Sequence[Sequence[Any]], *, using: str = "default"
) -> None:
    """UPDATE `model`'s rows: each of `rows` is the prepared values of `fields` (what Django's compiler
    sends: `field.get_db_prep_save(...)`) followed by the row's primary key. The same writes as one
    `UPDATE ... WHERE id = %s` per row (executemany): on PostgreSQL one statement, `UPDATE ... FROM
    json_to_recordset(%s::json)` with the rows as one JSON document (ADR 0040, 0047: the backend plans and
    runs one statement instead of one per row, psycopg binds one text); the rows are written in primary
    key order (a lock order every caller shares) and a key given twice takes its last values, as the
    executemany would leave it. A value JSON cannot carry exactly, or a column type that cannot be named in
    the record (the UNNEST rules of insert_rows), sends the executemany instead. Runs in the caller's
    transaction."""
    if not rows:
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = model._meta.pk
    assert pk is not None
    key = quote(pk.column or pk.attname)
    columns = [quote(f.column or f.attname) for f in fields]
    if connection.vendor == "postgresql" and len(rows) > 1:
        types = _unnest_types([*fields, pk], connection)
        if types is not None:
            last = {row[-1]: row for row in rows}  # (a key given twice: its last values)
            try:
                document = json_rows([last[k] for k in sorted(last)])
            except (TypeError, ValueError):
                pass
            else:
                record = ", ".join(f"c{i} {t}" for i, t in enumerate(types))
                assignments = ", ".join(f"{column} = v.c{i}" for i, column in enumerate(columns))
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {table} AS t SET {assignments} FROM json_to_recordset(%s::json) "  # noqa: S608
                        f"AS v({record}) WHERE t.{key} = v.c{len(fields)}",
                        [document],
                    )
                return
    assignments = ", ".join(f"{column} = %s" for column in columns)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {key} = %s", rows)  # noqa: S608
