"""core.lookups: `__any_of` finds the rows `__in` finds (one array parameter on PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.catalog.models import Order
from aftersales.core import lookups  # noqa: F401
from aftersales.testing.factories import CustomerFactory, OrderFactory


@pytest.mark.django_db
def test_any_of_matches_in():
    customers = [CustomerFactory() for _ in range(3)]
    orders = [OrderFactory(customer=customers[i % 3]) for i in range(60)]
    ids = [o.pk for o in orders] + [10**12, orders[0].pk]
    assert list(Order.objects.filter(pk__any_of=ids).order_by("pk")) == list(
        Order.objects.filter(pk__in=ids).order_by("pk")
    )
    wanted = [customers[0].pk, customers[2].pk]
    assert list(Order.objects.filter(customer_id__any_of=wanted).order_by("pk")) == list(
        Order.objects.filter(customer_id__in=wanted).order_by("pk")
    )
    external = [o.external_id for o in orders[:5]] + ["none"]
    assert set(Order.objects.filter(external_id__any_of=external).values_list("pk", flat=True)) == {
        o.pk for o in orders[:5]
    }
    assert not Order.objects.filter(pk__any_of=[]).exists()
    with CaptureQueriesContext(connection) as ctx:
        list(Order.objects.filter(pk__any_of=ids))
    sql = ctx.captured_queries[0]["sql"]
    assert ("= ANY(" in sql) == (connection.vendor == "postgresql")


@pytest.mark.django_db
def test_an_empty_list_matches_nothing_without_a_statement_as_in():
    from django.db.models import Q

    orders = [OrderFactory() for _ in range(3)]
    for empty in ([], [None]):
        with CaptureQueriesContext(connection) as ctx:
            assert list(Order.objects.filter(pk__any_of=empty)) == list(Order.objects.filter(pk__in=empty)) == []
        assert ctx.captured_queries == []
        either = Q(pk__any_of=empty) | Q(pk=orders[0].pk)
        assert list(Order.objects.filter(either)) == [orders[0]]
        assert set(Order.objects.exclude(pk__any_of=empty)) == set(Order.objects.exclude(pk__in=empty)) == set(orders)
