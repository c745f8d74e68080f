"""`field__any_of=values`: `field IN (values)` written for PostgreSQL as `field = ANY(%s::type[])`.

Django sends `__in` as one placeholder per value, `IN (%s, %s, ...)`. With psycopg's client-side
binding (Django's default) every statement of more than 50 parameters is parsed again in Python on
each call (psycopg caches only shorter ones), and PostgreSQL parses one constant per value. The sync
engine's page reads name 100-200 ids or keys each (issue 9, bench/RESULTS.md, ingest eleventh
session): as one array parameter the statement text is the same for every page (cached by psycopg)
and the list one literal. Same rows as `__in` (NULLs never match either way); on other databases it
is `__in` itself. An empty list (or one of NULLs only) matches nothing without a statement, as `__in`
(EmptyResultSet: Django answers an AND of it with no rows, drops it from an OR). Registered on every
field (relations included) when this module is imported (the modules that use it import it)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup
from django.db.models.lookups import In


class AnyOf(Lookup):  # type: ignore[type-arg]
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return list(self.rhs)

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        if connection.vendor != "postgresql":
            return In(self.lhs, self.rhs).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        db_type = (field.db_type(connection) or "").split("(")[0]
        target = field.target_field if field.is_relation else field
        values = [
            target.get_db_prep_value(value, connection, prepared=False)
            for value in dict.fromkeys(self.rhs)
            if value is not None
        ]
        if not values:  # (as In.process_rhs: no statement for an empty list)
            raise EmptyResultSet
        return f"{lhs} = ANY(%s::{db_type}[])", [*lhs_params, values]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # (relations take only their own class's lookups: `customer_id__any_of`)
