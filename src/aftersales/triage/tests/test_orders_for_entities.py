"""orders_for_entities: the orders a batch's order numbers name, in one query, each the one order_for_entities
names alone (the first order number that names one; the oldest order of a number; "#1043" as "1043"; never
another organization's)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.testing.factories import OrderFactory, StoreFactory
from aftersales.triage.services import order_for_entities, orders_for_entities

pytestmark = pytest.mark.django_db


def _numbers(*values: str) -> list[dict]:
    return [{"type": "order_number", "value": v, "start": 0, "end": len(v)} for v in values]


def test_a_batch_names_the_orders_each_item_names_alone_in_one_query(world):  # type: ignore[no-untyped-def]
    other_store = StoreFactory(organization=world.org, name="Second store")
    first = OrderFactory(store=world.store_us, external_id="302-1111111-2222222")
    OrderFactory(store=other_store, external_id="302-1111111-2222222")  # (younger: the first one is named)
    shopify = OrderFactory(store=world.store_us, external_id="1043")
    foreign = OrderFactory(store=world.foreign_store, external_id="302-9999999-0000000")
    email = [{"type": "email", "value": "a@example.com", "start": 0, "end": 13}]
    items = [
        (world.org.pk, _numbers("302-1111111-2222222")),
        (world.org.pk, _numbers("#1043")),
        (world.org.pk, _numbers("404-0000000-0000000", "1043")),  # the first that names one
        (world.org.pk, _numbers("302-9999999-0000000")),  # another organization's
        (world.foreign_org.pk, _numbers("302-9999999-0000000")),
        (world.org.pk, email),
        (world.org.pk, []),
    ]
    alone = [order_for_entities(organization_id=org, entities=entities) for org, entities in items]
    with CaptureQueriesContext(connection) as queries:
        together = orders_for_entities(items=items)
    assert together == alone == [first, shopify, shopify, None, foreign, None, None]
    assert len(queries.captured_queries) == 1
    with CaptureQueriesContext(connection) as none:
        assert orders_for_entities(items=[(world.org.pk, email)]) == [None]
    assert len(none.captured_queries) == 0
