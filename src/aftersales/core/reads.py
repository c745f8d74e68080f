"""SELECTs of a fixed shape built by the ORM once and run again with new values (issue 9, ADR 0042).

A QuerySet costs its query building and compiling on every evaluation: cloning, resolving each
lookup, compiling the WHERE, the SELECT list and the ORDER BY, 0.3-0.6 ms of CPU for a page read of
the sync engine, where the database answers such a read in less (bench/RESULTS.md, fourteenth
session). The engine's pages read the same shapes again and again (the page's orders by store and
external ids, their lines, the tickets a page may thread into...), with other values each time.

`select_rows(shape, build, *args)` evaluates `build(*args)` (a function returning a QuerySet) as the
ORM would, and returns its rows as a list: model instances (with their select_related objects), or
the tuples / values of a values_list. The first call of a shape on a connection calls `build` with
*marker* values instead of `args` (unlikely ints and strings of the same types), compiles the
QuerySet with Django's own compiler, and keeps its SQL text, where each marker landed among the
parameters, the compiler's converters and the model's field list; later calls send that SQL with
their values in the markers' places and turn the rows into what the ORM's iterable would have made
of them (`Model.from_db`, the related populators, the converters). The SQL and the rows are the
ORM's: core/tests/test_reads.py compares both on every shape the project uses.

What `args` may be: ints, strings (not None: `= NULL` is another shape, `IS NULL`), and lists of ints
or strings for the `__any_of` lookup (core/lookups.py: one array parameter on PostgreSQL, whatever
its length; on other databases `IN (%s, ...)` with one placeholder per value, so there the list's
length is part of the shape). A list is taken as `__any_of` / `__in` take it: repeated values once,
None dropped, and **an empty list answers no rows without a statement**, as an AND of the ORM's
empty `__in` does. A shape whose WHERE has an OR with a list in it must not be given an empty list:
give it another shape (the caller's `shape` key says which groups are present). `build` must use
its arguments only as lookup values (not in expressions, slices or annotations), and build the same
QuerySet shape for every value: each marker must reach the parameters unchanged (checked: a TypeError
names the shape otherwise; an argument used in several places fills each)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models import query as _query
from django.db.models.query import FlatValuesListIterable, ModelIterable, ValuesListIterable
from django.db.transaction import TransactionManagementError

_related_populators: Any = _query.get_related_populators
_INT_MARK = -2_013_265_000  # markers fit a 32-bit integer column (Django refuses out-of-range lookups)
_STR_MARK = "\x00aftersales-read-marker-"
_CACHED_LENGTHS = 16  # other databases: list lengths of a shape whose SQL is kept
_MAX_PLANS = 400  # ... and at most this many (shapes x lengths) per connection
_ROWS, _TUPLES, _FLAT = "models", "tuples", "flat"
_WHOLE = -2  # a slot taking a list argument whole (an array parameter)


@dataclass
class _Plan:
    sql: str
    params: list[Any]  # the compiled parameters, markers included
    slots: list[tuple[int, int, int]]  # (parameter position, argument, element of a list argument or -1)
    kind: str
    compiler: Any
    converters: dict[Any, Any]
    for_update: bool
    model: type[Model] | None = None
    init_list: list[str] | None = None
    model_slice: tuple[int, int] = (0, 0)
    populators: list[Any] | None = None


def _markers(args: tuple[Any, ...], lengths: tuple[int, ...] | None) -> tuple[list[Any], dict[Any, tuple[int, int]]]:
    """Marker values of the arguments' types, and where each one stands (argument, element)."""
    values: list[Any] = []
    where: dict[Any, tuple[int, int]] = {}
    counter = 0

    def mark(sample: Any, arg: int, element: int) -> Any:
        nonlocal counter
        counter += 1
        if isinstance(sample, bool) or not isinstance(sample, int | str):
            raise TypeError(f"select_rows takes ints, strings and lists of them, not {type(sample).__name__}")
        value: Any = _INT_MARK - counter if isinstance(sample, int) else f"{_STR_MARK}{counter}"
        where[value] = (arg, element)
        return value

    for index, arg in enumerate(args):
        if isinstance(arg, list):
            sample = next(v for v in arg if v is not None)
            count = 1 if lengths is None else lengths[index]
            values.append([mark(sample, index, element) for element in range(count)])
        else:
            values.append(mark(arg, index, -1))
    return values, where


def _is_marker(value: Any, where: dict[Any, tuple[int, int]]) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool) and value in where


def _plan(
    shape: Hashable,
    build: Callable[..., QuerySet[Any]],
    args: tuple[Any, ...],
    lengths: tuple[int, ...] | None,
    using: str,
) -> _Plan:
    marked, where = _markers(args, lengths)
    queryset: Any = build(*marked)
    query = queryset.query
    iterable = queryset._iterable_class
    if (
        queryset._prefetch_related_lookups
        or queryset._known_related_objects
        or (query.annotation_select and iterable is ModelIterable)
        or query.extra_select
        or query.combinator
    ):
        raise TypeError(
            "select_rows: no prefetches, known related objects, extras or combinations (annotations: values_list only)"
        )
    connection = connections[using]
    compiler = query.get_compiler(using=using)
    sql, params = compiler.as_sql()
    params = list(params)
    slots: list[tuple[int, int, int]] = []
    used: list[Any] = []
    for position, param in enumerate(params):
        if isinstance(param, list) and len(param) == 1 and _is_marker(param[0], where):
            # an `__any_of` array on PostgreSQL: the list argument whole
            used.append(param[0])
            slots.append((position, where[param[0]][0], _WHOLE))
        elif _is_marker(param, where):
            used.append(param)
            slots.append((position, *where[param]))
    if set(used) != set(where) or compiler.has_extra_select:
        raise TypeError(f"select_rows: the arguments of {shape!r} do not all reach the SQL parameters unchanged")
    fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
    converters = compiler.get_converters(fields)
    for_update = bool(query.select_for_update and connection.features.has_select_for_update)
    if iterable is ModelIterable:
        klass_info = compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        return _Plan(
            sql,
            params,
            slots,
            _ROWS,
            compiler,
            converters,
            for_update,
            model=klass_info["model"],
            init_list=[f[0].target.attname for f in compiler.select[start:end]],
            model_slice=(start, end),
            populators=_related_populators(klass_info, compiler.select, using),  # (Django 5.2's signature)
        )
    if iterable is ValuesListIterable:
        return _Plan(sql, params, slots, _TUPLES, compiler, converters, for_update)
    if iterable is FlatValuesListIterable:
        return _Plan(sql, params, slots, _FLAT, compiler, converters, for_update)
    raise TypeError(f"select_rows: {iterable.__name__} is not supported")


def select_rows(shape: Hashable, build: Callable[..., QuerySet[Any]], *args: Any, using: str = "default") -> list[Any]:
    """`list(build(*args))`, with the SQL of `shape` built once per connection (see the module
    docstring). `shape` names the QuerySet `build` makes (e.g. a module-level string, with whatever
    varies in its shape)."""
    values: list[Any] = []
    lengths: list[int] = []
    for arg in args:
        if isinstance(arg, list | tuple | set | frozenset):
            distinct = list(dict.fromkeys(v for v in arg if v is not None))
            if not distinct:
                return []  # (as the ORM's EmptyResultSet: no statement)
            values.append(distinct)
            lengths.append(len(distinct))
        elif arg is None:
            raise TypeError(f"select_rows: None for {shape!r} (`IS NULL` is another shape)")
        else:
            values.append(arg)
            lengths.append(0)
    connection = connections[using]
    array_lists = connection.vendor == "postgresql"
    key = (shape, using) if array_lists else (shape, using, tuple(lengths))
    plans: dict[Any, _Plan] = connection.__dict__.setdefault("_aftersales_select_plans", {})
    plan = plans.get(key)
    if plan is None:
        plan = _plan(shape, build, tuple(values), None if array_lists else tuple(lengths), using)
        if array_lists or (max(lengths, default=0) <= _CACHED_LENGTHS and len(plans) < _MAX_PLANS):
            plans[key] = plan
    if plan.for_update and connection.get_autocommit():
        raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
    params = list(plan.params)
    for position, arg, element in plan.slots:
        value = values[arg]
        params[position] = value if element < 0 else value[element]  # (-1: a scalar, _WHOLE: an array)
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, params)
        rows: list[Any] = cursor.fetchall()
    if plan.converters:
        rows = list(plan.compiler.apply_converters(rows, plan.converters))
    if plan.kind == _TUPLES:
        return [tuple(row) for row in rows] if plan.converters else rows
    if plan.kind == _FLAT:
        return [row[0] for row in rows]
    model, init_list, (start, end), populators = plan.model, plan.init_list, plan.model_slice, plan.populators
    assert model is not None and init_list is not None and populators is not None
    objs = []
    from_db = model.from_db
    whole = bool(rows) and start == 0 and end == len(rows[0])
    for row in rows:
        obj = from_db(using, init_list, row if whole else row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        objs.append(obj)
    return objs
