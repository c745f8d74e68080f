"""message_ingest writes its rows with INSERTs prepared once per model (core/inserts.py): the rows
must be exactly those the ORM's save() writes. The same scenario runs twice on one database, once
with the prepared INSERTs and once with insert_rows replaced by `save(force_insert=True)` per
object, time frozen; every row written is compared column by column (ids as their rank among the
rows the run created, foreign keys, payload ids and the customer actor's id mapped the same way)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db.models import ForeignKey

from aftersales.catalog.models import Customer, CustomerIdentity, Order
from aftersales.inbox.models import Message, Ticket, TicketEvent, TicketSearch
from aftersales.inbox.services import InboundMessage, ingest, message_ingest
from aftersales.testing.factories import OrderFactory

MODELS: list[Any] = [Customer, CustomerIdentity, Ticket, Message, TicketEvent, TicketSearch]
FROZEN = datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)


def _scenario(world, order_number: str) -> list[InboundMessage]:  # type: ignore[no-untyped-def]
    us, de = world.store_us, world.store_de
    base: dict[str, Any] = {"body": "Mein Paket ist kaputt angekommen.", "customer_language": "de"}
    return [
        # a new buyer with a name, an e-mail, HTML and a category
        InboundMessage(
            store=us,
            external_id="r-1",
            customer_external_id="B-1",
            customer_name="Jürgen Groß",
            customer_email="Juergen.Gross@Example.NET",
            customer_country="DE",
            body_html="<p>Hallo <b>da</b><script>x()</script></p>",
            subject="Kaputt",
            category="quality_issue",
            via="api",
            **base,
        ),
        # the same buyer again: threads into the ticket (UPDATE + one audit row)
        InboundMessage(store=us, external_id="r-2", customer_external_id="B-1", body="Noch da?", via="api"),
        # the same e-mail on another store: the same customer, a new identity and ticket
        InboundMessage(
            store=de,
            external_id="r-3",
            customer_external_id="B-1-de",
            customer_email="juergen.gross@example.net",
            sent_at=datetime(2026, 5, 1, 8, 0, tzinfo=UTC),
            **base,
        ),
        # a new buyer without an e-mail, about an order, in a conversation
        InboundMessage(
            store=us,
            external_id="r-4",
            customer_external_id="B-2",
            order_external_id=order_number,
            conversation_id="conv-7",
            body="Where is it? 包裹在哪里？",
        ),
        # a replay writes nothing
        InboundMessage(store=us, external_id="r-1", customer_external_id="B-1", body="again"),
    ]


def _orm_insert(objs, *, using="default"):  # type: ignore[no-untyped-def]
    for obj in objs:
        obj.save(force_insert=True, using=using)


def _run(world, monkeypatch, *, orm, order):  # type: ignore[no-untyped-def]
    marks = {m: max(m.objects.values_list("pk", flat=True), default=0) for m in MODELS}
    with monkeypatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: FROZEN)
        if orm:
            patch.setattr(ingest, "insert_rows", _orm_insert)
        for inbound in _scenario(world, order.external_id):
            message_ingest(inbound=inbound)
    created = {m: list(m.objects.filter(pk__gt=marks[m]).order_by("pk").values()) for m in MODELS}
    rank = {m: {row[m._meta.pk.attname]: i for i, row in enumerate(rows)} for m, rows in created.items()}
    out: dict[str, list[dict[str, Any]]] = {}
    for model, rows in created.items():
        normalised = []
        for row in rows:
            row = dict(row)
            for f in model._meta.concrete_fields:
                target = f.related_model if isinstance(f, ForeignKey) else (model if f.primary_key else None)
                if target in rank and row[f.attname] is not None:
                    row[f.attname] = ("#", rank[target].get(row[f.attname], row[f.attname]))
            if model is TicketEvent:  # ids in the payload and the customer actor's id
                payload = row["payload"]
                if "message_id" in payload:
                    row["payload"] = {**payload, "message_id": ("#", rank[Message][payload["message_id"]])}
                if row["actor_kind"] == "customer":
                    row["actor_ref"] = ("#", rank[Customer][int(row["actor_ref"])])
            normalised.append(row)
        out[model.__name__] = normalised
    return out


def _undo(order, marks):  # type: ignore[no-untyped-def]
    Ticket.objects.filter(pk__gt=marks[Ticket]).delete()  # messages, audit rows, search documents with them
    Customer.objects.filter(pk__gt=marks[Customer]).delete()  # identities too
    Order.objects.filter(pk=order.pk).update(customer=None)


def test_prepared_inserts_write_the_rows_the_orm_writes(world, monkeypatch):
    order = OrderFactory(store=world.store_us, customer=None)
    marks = {m: max(m.objects.values_list("pk", flat=True), default=0) for m in (Ticket, Customer)}
    by_orm = _run(world, monkeypatch, orm=True, order=order)
    _undo(order, marks)
    prepared = _run(world, monkeypatch, orm=False, order=order)
    assert {name: len(rows) for name, rows in prepared.items()} == {
        "Customer": 2,
        "CustomerIdentity": 3,
        "Ticket": 3,
        "Message": 4,
        "TicketEvent": 7,
        "TicketSearch": 3,
    }
    for name in by_orm:
        assert prepared[name] == by_orm[name], name


@pytest.mark.parametrize("orm", [False, True])
def test_the_scenario_reads_back_as_the_services_see_it(world, monkeypatch, orm):
    """What a caller gets back (the result's instances) equals what a fresh read returns."""
    if orm:
        monkeypatch.setattr(ingest, "insert_rows", _orm_insert)
    result = message_ingest(inbound=_scenario(world, "none")[0])
    ticket = Ticket.objects.get(pk=result.ticket.pk)
    message = Message.objects.get(pk=result.message.pk)
    for fresh, returned in ((ticket, result.ticket), (message, result.message)):
        for f in type(fresh)._meta.concrete_fields:
            assert getattr(fresh, f.attname) == getattr(returned, f.attname), f.name
    assert not result.ticket._state.adding and not result.message._state.adding
    assert result.ticket.customer.email_normalized == "juergen.gross@example.net"
