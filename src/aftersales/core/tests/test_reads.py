"""core.reads.select_rows: the ORM's rows (instances with their loaded fields and select_related objects, or
the values_list tuples), from SQL built once per shape; the shapes the sync engine's page reads use."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Model, Q, QuerySet
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from aftersales.catalog.models import Customer, CustomerIdentity, Order, OrderLine, Product
from aftersales.core import lookups as _lookups  # noqa: F401
from aftersales.core.reads import select_rows
from aftersales.inbox.models import Message, Ticket
from aftersales.testing.factories import OrderFactory, OrderLineFactory, ShipmentFactory, TicketFactory


def _state(obj: Any) -> Any:
    """What an instance holds: its loaded field values, its cached related objects (recursively), its state."""
    if not isinstance(obj, Model):
        return obj
    fields = {f.attname: obj.__dict__.get(f.attname, "<deferred>") for f in obj._meta.concrete_fields}
    related = {name: _state(value) for name, value in obj._state.fields_cache.items()}
    return (type(obj), fields, related, obj._state.adding, obj._state.db)


def _same(shape: str, build: Any, *args: Any) -> list[Any]:
    """select_rows twice (planned, then from the kept plan) against the ORM's list(build(*args))."""
    expected = [_state(row) for row in build(*args)]
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            got = select_rows(shape, build, *args)
        assert [_state(row) for row in got] == expected
        assert len(ctx.captured_queries) == (1 if expected or all(a or not isinstance(a, list) for a in args) else 0)
    return got


@pytest.fixture
def rows(world):
    store = world.store_us
    customers = [
        Customer.objects.create(organization=world.org, name=f"C{i}", email=f"c{i}@example.com") for i in range(3)
    ]
    for i, customer in enumerate(customers):
        CustomerIdentity.objects.create(customer=customer, store=store, external_id=f"buyer-{i}")
    product = Product.objects.create(
        organization=world.org, sku="SKU-1", title="Phone", category="phones", price_amount=Decimal("10")
    )
    orders = []
    for i in range(4):
        order = OrderFactory(
            organization=world.org, store=store, external_id=f"O-{i}", customer=customers[i % 3], total_amount="12.50"
        )
        OrderLineFactory(order=order, product=product if i % 2 else None, sku="SKU-1")
        ShipmentFactory(order=order, tracking_number=f"T{i}")
        orders.append(order)
    tickets = [TicketFactory(store=store, customer=customers[i % 3], conversation_id=f"conv-{i}") for i in range(3)]
    return store, customers, orders, tickets


def _orders(store_id: int, external_ids: list[str]) -> QuerySet[Order]:
    return Order.objects.select_for_update().filter(store_id=store_id, external_id__any_of=external_ids).order_by("pk")


def _lines(order_ids: list[int]) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(order_id__any_of=order_ids).order_by("pk")


def _identities(store_id: int, ids: list[str]) -> QuerySet[CustomerIdentity]:
    return CustomerIdentity.objects.filter(store_id=store_id, external_id__any_of=ids).select_related("customer")


def _products(org_id: int, skus: list[str]) -> QuerySet[Any]:
    return Product.objects.filter(organization_id=org_id, sku__any_of=skus).values_list("sku", "pk")


def _ticket_ids(customer_ids: list[int]) -> QuerySet[Any]:
    return Ticket.objects.filter(customer_id__any_of=customer_ids).values_list("pk", flat=True)


def _threads(store_id: int, conversations: list[str], customer_ids: list[int]) -> QuerySet[Ticket]:
    condition = Q(store_id=store_id, conversation_id__any_of=conversations) | Q(
        store_id=store_id, customer_id__any_of=customer_ids, status_category__in=["open", "waiting"]
    )
    return Ticket.objects.select_for_update().filter(condition).order_by("id")


@pytest.mark.django_db(transaction=False)
def test_rows_as_the_orm_gives_them(rows):
    store, customers, orders, tickets = rows
    with transaction.atomic():
        got = _same("t.orders", _orders, store.pk, ["O-2", "O-0", "O-0", "missing"])
        assert [o.external_id for o in got] == ["O-0", "O-2"]
        assert got[0].total_amount == Decimal("12.50") and not got[0]._state.adding
        _same("t.orders", _orders, store.pk, ["O-3"])  # another length, the same shape
        _same("t.lines", _lines, [o.pk for o in orders])
        got = _same("t.identities", _identities, store.pk, ["buyer-0", "buyer-2", "nobody"])
        assert {i.customer.name for i in got} == {"C0", "C2"}  # select_related objects built
        assert dict(_same("t.products", _products, store.organization_id, ["SKU-1", "SKU-9"])) == {
            "SKU-1": Product.objects.get().pk
        }
        assert sorted(_same("t.ticket_ids", _ticket_ids, [customers[0].pk, customers[1].pk])) == sorted(
            t.pk for t in tickets[:2]
        )
        got = _same("t.threads", _threads, store.pk, ["conv-0", "conv-9"], [customers[1].pk])
        assert [t.pk for t in got] == [tickets[0].pk, tickets[1].pk]


@pytest.mark.django_db
def test_an_empty_list_answers_nothing_without_a_statement(rows):
    store = rows[0]
    with CaptureQueriesContext(connection) as ctx:
        assert select_rows("t.products", _products, store.organization_id, []) == []
        assert select_rows("t.products", _products, store.organization_id, [None]) == []
    assert ctx.captured_queries == []


@pytest.mark.django_db
def test_json_values_are_converted_as_the_orm_does(rows):
    store, tickets = rows[0], rows[3]
    Message.objects.create(
        ticket=tickets[0], store=store, direction="inbound", external_id="m-1", body="hi", translations={"fr": "salut"}
    )

    def build(store_id: int, ids: list[str]) -> QuerySet[Message]:
        return Message.objects.filter(store_id=store_id, external_id__any_of=ids).select_related("ticket")

    got = _same("t.messages", build, store.pk, ["m-1"])
    assert got[0].translations == {"fr": "salut"} and got[0].ticket.pk == tickets[0].pk


@pytest.mark.django_db(transaction=True)
def test_select_for_update_outside_a_transaction_as_the_orm(rows):
    """Refused where the database locks rows (PostgreSQL), as by the ORM; where it does not (SQLite), read."""
    store = rows[0]

    def outcome(read: Any) -> Any:
        try:
            return [o.pk for o in read()]
        except TransactionManagementError:
            return "refused"

    orm = outcome(lambda: _orders(store.pk, ["O-1"]))
    assert orm == ("refused" if connection.features.has_select_for_update else [rows[2][1].pk])
    assert outcome(lambda: select_rows("t.orders.autocommit", _orders, store.pk, ["O-1"])) == orm


@pytest.mark.django_db
def test_a_build_that_changes_its_arguments_is_refused(rows):
    with pytest.raises(TypeError):
        select_rows(
            "t.bad", lambda org_id, sku: Product.objects.filter(organization_id=org_id, sku=sku.upper()), 1, "A"
        )
    with pytest.raises(TypeError):
        select_rows("t.none", _products, None, ["A"])
