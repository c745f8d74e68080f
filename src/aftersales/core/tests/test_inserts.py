"""core.inserts.insert_rows: the rows save() would write, ids returned in order (rows compared with the
ORM's in inbox/tests/test_ingest_rows.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

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

    aware_fields = 0
    from aftersales.inbox.models import TicketStatus

    samples: dict[type, list[Any]] = {
        int: [0, 1, 2**62],
        bool: [True, False],
        str: ["", "x", "二"],
        type(None): [None],
    }
    strings = ["", "x", SafeString("<b>x</b>"), TicketStatus.NEW]
    aware_datetimes = [
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 1, 2, tzinfo=ZoneInfo("Asia/Tokyo")),
    ]
    checked = 0
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            plain, any_str, aware = _skips(field, connection)
            values = [v for kind in plain for v in samples.get(kind, [])] + (strings if any_str else [])
            values += aware_datetimes if aware else []
            for value in values:
                prepared = field.get_db_prep_save(value, connection)
                # (PostgreSQL's adapter marks an int with its column's size: psycopg's Int2/Int4/Int8, int
                # subclasses sent as the same number; the compiler sends those, insert_rows the int.)
                assert isinstance(prepared, type(value)) and prepared == value, (model, field.name, value, prepared)
                assert type(prepared) is type(value) or connection.vendor == "postgresql"
                assert type(prepared).__module__ in ("builtins", "psycopg.types.numeric") or prepared is value
                checked += 1
            aware_fields += aware
    assert checked > 1000
    assert (aware_fields > 0) == (connection.vendor == "postgresql")


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


def _stored(model: Any, pks: list[int], skip: set[str]) -> list[dict[str, Any]]:
    rows = {row["id"]: row for row in model.objects.filter(pk__in=pks).values()}
    return [{k: v for k, v in rows[pk].items() if k not in skip} for pk in pks]


def test_several_rows_store_what_save_stores_json_document_and_its_fallback(world, monkeypatch):
    """On PostgreSQL several rows go as one JSON document (ADR 0040), or as arrays when a value cannot:
    decimals, dates, JSON values of every shape, a field's own JSON encoder, unicode and quotes, stored
    as save() stores them (on SQLite, the VALUES path)."""
    from decimal import Decimal

    from aftersales.catalog.models import Order
    from aftersales.core import inserts
    from aftersales.notifications.models import OutboxMessage

    at = now()
    text = 'Bonjour "l\'équipe" \\ 您好 \n\t ¿?'

    def orders(tag: str) -> list[Order]:
        return [
            Order(
                organization=world.org,
                store=world.store_us,
                external_id=f"{tag}-{i}",
                placed_at=at,
                total_amount=Decimal(amount),
                status=text,
                currency="EUR",
            )
            for i, amount in enumerate(["49.90", "0.01", "1234567.89"])
        ]

    def outbox(tag: str) -> list[OutboxMessage]:
        payloads: list[Any] = [
            {"when": at, "amount": Decimal("1.10"), "text": text, "list": [1, None, 2.5, True]},
            "just a string",
            [text, {"nested": {"x": None}}],
        ]
        return [
            OutboxMessage(
                organization=world.org, kind="email", dedupe_key=f"{tag}-{i}", source="t", recipient="a@b", payload=p
            )
            for i, p in enumerate(payloads)
        ]

    saved_pks: dict[Any, list[int]] = {}
    for make, model, skip in [
        (orders, Order, {"id", "external_id", "created_at", "updated_at"}),
        (outbox, OutboxMessage, {"id", "dedupe_key", "created_at"}),
    ]:
        saved = make("saved")
        for obj in saved:
            obj.save(force_insert=True)
        saved_pks[model] = [o.pk for o in saved]
        inserted = make("inserted")
        with CaptureQueriesContext(connection) as ctx:
            insert_rows(inserted)
        assert len(ctx.captured_queries) == 1
        assert [o.pk for o in inserted] == sorted(o.pk for o in inserted)
        expected = _stored(model, [o.pk for o in saved], skip)
        assert _stored(model, [o.pk for o in inserted], skip) == expected, model
        if connection.vendor == "postgresql":
            assert "json_to_recordset" in ctx.captured_queries[0]["sql"], model

    # A value JSON cannot carry exactly (e.g. bytes, a timedelta: none in these models) sends the arrays.
    def refuse(document: Any) -> str:
        raise TypeError("not JSON")

    monkeypatch.setattr(inserts, "_dumps", refuse)
    by_arrays = orders("arrays")
    with CaptureQueriesContext(connection) as ctx:
        insert_rows(by_arrays)
    if connection.vendor == "postgresql":
        assert "UNNEST" in ctx.captured_queries[0]["sql"]
    skip = {"id", "external_id", "created_at", "updated_at"}
    assert _stored(Order, [o.pk for o in by_arrays], skip) == _stored(Order, saved_pks[Order], skip)


def test_related_instances_are_checked_as_save_checks_them(world):
    """An unsaved related instance is refused (save()'s ValueError); one saved after it was assigned gives
    its id; a related instance whose id is already in the row needs nothing (the common case)."""
    ticket: Any = TicketFactory(store=world.store_us)
    customer = Customer(organization=world.org, name="Later")
    rows = [
        TicketEvent(ticket=ticket, type=TicketEventType.CREATED, payload={}, at=now()),
        TicketEvent(ticket=ticket, type=TicketEventType.CREATED, payload={}, at=now()),
    ]
    insert_rows(rows)
    assert [TicketEvent.objects.get(pk=r.pk).ticket_id for r in rows] == [ticket.pk, ticket.pk]
    from aftersales.catalog.models import CustomerIdentity

    identities = [CustomerIdentity(customer=customer, store=world.store_us, external_id=f"x{i}") for i in range(2)]
    with pytest.raises(ValueError, match="unsaved related object 'customer'"):
        insert_rows(identities)
    insert_rows([customer])  # saved after it was assigned: the rows take its id
    insert_rows(identities)
    assert [CustomerIdentity.objects.get(pk=i.pk).customer_id for i in identities] == [customer.pk, customer.pk]


def test_update_rows_writes_what_save_writes_one_statement_and_its_fallback(world, monkeypatch):
    """update_rows leaves each row as `save(update_fields=...)` leaves it: decimals, aware datetimes, None,
    text with quotes and unicode, a JSON value; on PostgreSQL in one UPDATE ... FROM json_to_recordset, a
    key given twice taking its last values; the executemany when a value cannot go as JSON (and on SQLite)."""
    from datetime import timedelta
    from decimal import Decimal

    from aftersales.catalog.models import Order
    from aftersales.core import inserts
    from aftersales.notifications.models import OutboxMessage

    at = now()
    text = 'Bonjour "l\'équipe" \\ 您好 \n\t ¿?'

    def orders(tag: str) -> list[Order]:
        made = [
            Order(organization=world.org, store=world.store_us, external_id=f"{tag}-{i}", placed_at=at, currency="EUR")
            for i in range(3)
        ]
        insert_rows(made)
        return made

    def change(rows: list[Order]) -> None:
        for i, order in enumerate(rows):
            order.total_amount = Decimal(["49.90", "0.01", "1234567.89"][i])
            order.status = text if i else ""
            order.platform_updated_at = None if i == 1 else at + timedelta(seconds=i, microseconds=7)

    names = ["total_amount", "status", "platform_updated_at", "updated_at"]
    saved = orders("saved")
    change(saved)
    for order in saved:
        order.save(update_fields=names)
    skip = {"id", "external_id", "created_at", "updated_at"}

    def prepared(rows: list[Order]) -> list[list[Any]]:
        fields = [Order._meta.get_field(name) for name in names]
        return [[*(f.get_db_prep_save(f.pre_save(o, False), connection) for f in fields), o.pk] for o in rows]

    fields: Any = [Order._meta.get_field(name) for name in names]
    updated = orders("updated")
    change(updated)
    stale = prepared(updated[:1])[0]
    stale[1] = "stale"  # the same key given first with other values: its last values win
    with CaptureQueriesContext(connection) as ctx:
        inserts.update_rows(Order, fields, [stale, *reversed(prepared(updated))])
    assert _stored(Order, [o.pk for o in updated], skip) == _stored(Order, [o.pk for o in saved], skip)
    if connection.vendor == "postgresql":
        assert len(ctx.captured_queries) == 1
        assert "json_to_recordset" in ctx.captured_queries[0]["sql"]

    def refuse(document: Any) -> str:
        raise TypeError("not JSON")

    monkeypatch.setattr(inserts, "_dumps", refuse)
    by_rows = orders("rows")
    change(by_rows)
    inserts.update_rows(Order, fields, prepared(by_rows))
    assert _stored(Order, [o.pk for o in by_rows], skip) == _stored(Order, [o.pk for o in saved], skip)

    outbox = OutboxMessage(
        organization=world.org, kind="email", dedupe_key="u", source="t", recipient="a@b", payload={}
    )
    other = OutboxMessage(organization=world.org, kind="email", dedupe_key="v", source="t", recipient="a@b", payload={})
    insert_rows([outbox, other])
    monkeypatch.undo()
    payload = OutboxMessage._meta.get_field("payload")
    value = {"when": at.isoformat(), "text": text, "list": [1, None, 2.5, True]}
    inserts.update_rows(
        OutboxMessage,
        [payload],
        [[payload.get_db_prep_save(v, connection), o.pk] for v, o in [(value, outbox), ([text], other)]],
    )
    assert OutboxMessage.objects.get(pk=outbox.pk).payload == value
    assert OutboxMessage.objects.get(pk=other.pk).payload == [text]
