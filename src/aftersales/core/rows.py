"""Model instances from a hand-written SELECT, for hot read paths where Django's SQL compiler is the cost.

`QuerySet.select_related(...).filter(...).first()` compiles its query anew on every call: the joins, the
select list, the WHERE tree, 1-4 ms of CPU for a four-table join where the database itself takes 0.05 ms
(issue 13: the API token lookup of every request, bench/RESULTS.md). A `RowShape` is that select list made
once per (model, table alias, database vendor) from the model's `_meta` (so columns never drift from the
model); `RowShape.instance` turns its slice of a fetched row into the instance Django would have built:
every concrete field loaded, the backend's and the field's converters applied (datetimes, booleans,
decimals, JSON), as the compiler does, through `Model.from_db`. The caller writes the FROM / JOIN / WHERE
and sets the related instances it joined (`cache_related`), as `select_related` does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)

_Converter = Callable[[Any, Any, Any], Any]


class RowShape:
    """The columns of `model` under `alias` in a SELECT, and the instance from a row's slice. Fields named in
    `defer` are left out (deferred on the instance, as `QuerySet.defer` leaves them)."""

    def __init__(self, model: type[Model], alias: str, connection: Any, defer: tuple[str, ...] = ()) -> None:
        quote = connection.ops.quote_name
        fields: list[Field] = [f for f in model._meta.concrete_fields if f.name not in defer]
        self.model = model
        self.attnames = [f.attname for f in fields]
        self.width = len(fields)
        self.columns = ", ".join(f"{alias}.{quote(f.column)}" for f in fields)
        self.pk_index = fields.index(model._meta.pk)  # type: ignore[arg-type]
        self._converters: list[tuple[int, Any, list[_Converter]]] = []
        for i, f in enumerate(fields):
            col = f.get_col(alias)
            converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if converters:
                self._converters.append((i, col, converters))

    def instance(self, row: Sequence[Any], start: int, using: str = "default") -> Model | None:
        """The instance from `row[start:start + width]`; None when its primary key is NULL (an outer join
        that found nothing)."""
        values = list(row[start : start + self.width])
        if values[self.pk_index] is None:
            return None
        connection = connections[using]
        for i, col, converters in self._converters:
            value = values[i]
            for convert in converters:
                value = convert(value, col, connection)
            values[i] = value
        return self.model.from_db(using, self.attnames, values)


_shapes: dict[tuple[type[Model], str, str, tuple[str, ...]], RowShape] = {}


def row_shape(model: type[Model], alias: str, using: str = "default", defer: tuple[str, ...] = ()) -> RowShape:
    """The (cached) `RowShape` of `model` under `alias` for the database `using`."""
    connection = connections[using]
    key = (model, alias, connection.vendor, defer)
    shape = _shapes.get(key)
    if shape is None:
        shape = _shapes[key] = RowShape(model, alias, connection, defer)
    return shape


def cache_related(instance: Model, field_name: str, related: Model | None) -> None:
    """Attach a joined instance to `instance.<field_name>` (a forward foreign key), as select_related does."""
    instance._meta.get_field(field_name).set_cached_value(instance, related)  # type: ignore[union-attr]
