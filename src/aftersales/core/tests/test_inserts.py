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
