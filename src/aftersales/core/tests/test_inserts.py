"""core.inserts.insert_rows: the rows save() would write, ids returned in order (rows compared with the
ORM's in inbox/tests/test_ingest_rows.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Upper
from django.test.utils import CaptureQueriesContext

from aftersales.catalog.models import Customer
from aftersales.core.clock import now
from aftersales.core.inserts import insert_rows
from aftersales.inbox.models import TicketEvent, TicketEventType
from aftersales.testing.factories import TicketFactory


def test_several_rows_one_statement_ids_in_order(world):
    customers = [Customer(organization=world.org, name=f"Buyer {i}", email=f"b{i}@example.com") for i in range(3)]
    with CaptureQueriesContext(connection) as ctx:
        insert_rows(customers)
    assert len(ctx.captured_queries) == 1
    assert all(c.pk is not None and not c._state.adding for c in customers)
    assert [Customer.objects.get(pk=c.pk).name for c in customers] == ["Buyer 0", "Buyer 1", "Buyer 2"]
    assert customers[0].created_at is not None and customers[0].updated_at is not None  # auto_now(_add) stamped


def test_json_and_choices_values_are_adapted(world):
    ticket: Any = TicketFactory(store=world.store_us)
    row = TicketEvent(ticket=ticket, type=TicketEventType.CREATED, payload={"a": [1, "二"], "b": None}, at=now())
    insert_rows([row])
    stored = TicketEvent.objects.get(pk=row.pk)
    assert stored.payload == {"a": [1, "二"], "b": None}
    assert stored.type == "created" and stored.at == row.at


def test_an_expression_value_goes_through_the_orm(world):
    customer = Customer(organization=world.org, name=Upper(Value("shouted")))
    insert_rows([customer])
    assert Customer.objects.get(pk=customer.pk).name == "SHOUTED"


def test_mixed_models_are_refused(world):
    with pytest.raises(TypeError):
        insert_rows([Customer(organization=world.org), TicketEvent()])


@pytest.mark.django_db
def test_skipped_conversions_are_the_identity_for_every_field_of_every_model():
    """insert_rows skips get_db_prep_save for the value types _skips names: for every concrete field of every
    model, on this database, Django's call hands back such a value unchanged (equal, of its type)."""
    from django.apps import apps
    from django.utils.safestring import SafeString

    from aftersales.core.inserts import _skips
    from aftersales.inbox.models import TicketStatus

    samples: dict[type, list[Any]] = {
        int: [0, 1, 2**62],
        bool: [True, False],
        str: ["", "x", "二"],
        type(None): [None],
    }
    strings = ["", "x", SafeString("<b>x</b>"), TicketStatus.NEW]
    checked = 0
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            plain, any_str = _skips(field, connection)
            values = [v for kind in plain for v in samples.get(kind, [])] + (strings if any_str else [])
            for value in values:
                prepared = field.get_db_prep_save(value, connection)
                # (PostgreSQL's adapter marks an int with its column's size: psycopg's Int2/Int4/Int8, int
                # subclasses sent as the same number; the compiler sends those, insert_rows the int.)
                assert isinstance(prepared, type(value)) and prepared == value, (model, field.name, value, prepared)
                assert type(prepared) is type(value) or connection.vendor == "postgresql"
                assert type(prepared).__module__ in ("builtins", "psycopg.types.numeric") or prepared is value
                checked += 1
    assert checked > 1000


def test_one_row_and_several_rows_of_every_kind_of_value(world):
    """Foreign keys by id and by instance, None in nullable foreign keys and dates, choices members: stored
    as save() stores them."""
    ticket: Any = TicketFactory(store=world.store_us)
    rows = [
        TicketEvent(ticket=ticket, type=TicketEventType.CREATED, actor=None, payload={}, at=now()),
        TicketEvent(ticket_id=ticket.pk, type="note_added", actor_id=None, payload={"n": 1}, at=now()),
    ]
    insert_rows(rows[:1])
    insert_rows([*rows[1:], TicketEvent(ticket=ticket, type=TicketEventType.CREATED, payload={}, at=now())])
    stored = list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("type", "actor_id", "payload"))
    assert stored[-3:] == [("created", None, {}), ("note_added", None, {"n": 1}), ("created", None, {})]
