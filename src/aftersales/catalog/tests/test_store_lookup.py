"""catalog.selectors.store_of_organization (the ingestion API's store lookup, a prepared SELECT: core/rows.py)
loads what the ORM loads, with the credentials deferred, and only within the organization."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.catalog.models import Store
from aftersales.catalog.selectors import store_of_organization


def test_the_store_lookup_loads_what_the_orm_loads_without_credentials(world):
    with CaptureQueriesContext(connection) as queries:
        store = store_of_organization(world.org.pk, world.store_us.pk)
    assert len(queries.captured_queries) == 1
    assert "credentials" not in queries.captured_queries[0]["sql"]
    assert store is not None and store.get_deferred_fields() == {"credentials"}
    reference = Store.objects.defer("credentials").get(pk=world.store_us.pk)
    for field in Store._meta.concrete_fields:
        if field.name != "credentials":
            assert getattr(store, field.attname) == getattr(reference, field.attname), field.name
    assert not store._state.adding


def test_another_organizations_store_or_no_store_is_none(world):
    assert store_of_organization(world.org.pk, world.foreign_store.pk) is None
    assert store_of_organization(world.org.pk, 987654) is None
    assert store_of_organization(world.foreign_org.pk, world.foreign_store.pk) is not None
