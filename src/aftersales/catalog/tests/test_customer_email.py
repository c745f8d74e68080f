"""The buyer lookup at ingest: one customer per e-mail address in an organization, matched
case-insensitively (Unicode-aware, on SQLite as on PostgreSQL) through an index, and the migration
that fills the key for existing customers."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from aftersales.catalog.models import Customer, normalise_email
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.inbox.services.ingest import customers_by_email
from aftersales.testing.factories import CustomerFactory
from aftersales.testing.migrations import applied_apps, scratch_database


def test_normalise_email_lowercases_unicode_and_keeps_eszett():
    assert normalise_email("  MÜLLER@Example.COM ") == "müller@example.com"
    assert normalise_email("Mu\u0308ller@example.com") == "müller@example.com"  # NFD -> NFC
    assert normalise_email("STRASSE@x.de") != normalise_email("straße@x.de")  # two mailboxes


def test_save_keeps_the_normalised_email(world):
    customer = CustomerFactory(organization=world.org, email="Ana.Lopez@Example.COM")
    assert customer.email_normalized == "ana.lopez@example.com"
    customer.email = "ANA@EXAMPLE.ES"
    customer.save(update_fields=["email"])
    assert Customer.objects.values_list("email_normalized", flat=True).get(pk=customer.pk) == "ana@example.es"


def test_ingest_finds_the_buyer_by_email_case_insensitively(world):
    known = CustomerFactory(organization=world.org, email="müller@example.com", name="Jonas Müller")
    result = message_ingest(
        inbound=InboundMessage(
            store=world.store_us,
            external_id="m-1",
            body="Wo ist meine Bestellung?",
            customer_external_id="NEW-BUYER-ID",
            customer_email="MÜLLER@Example.COM",
        )
    )
    assert result.ticket.customer_id == known.pk
    assert known.identities.filter(store=world.store_us, external_id="NEW-BUYER-ID").exists()
    assert Customer.objects.filter(organization=world.org, email_normalized="müller@example.com").count() == 1


def test_lookup_stays_inside_the_organization(world):
    CustomerFactory(organization=world.foreign_org, email="same@example.com")
    assert not customers_by_email(world.org.pk, "SAME@example.com").exists()


def _plan(queryset) -> str:  # type: ignore[no-untyped-def]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # a tiny test table: make the planner show its index choice
            cursor.execute("SET LOCAL enable_seqscan = off")
    return str(queryset.explain())


def test_buyer_lookups_use_their_indexes(world):
    CustomerFactory.create_batch(5, organization=world.org)
    if connection.vendor == "postgresql":
        # With a handful of rows the planner may as well filter the organization's index; give it an
        # organization of real size and statistics, as in production (it failed once in CI without).
        Customer.objects.bulk_create(
            Customer(organization=world.org, email=f"buyer{i}@example.com", email_normalized=f"buyer{i}@example.com")
            for i in range(3000)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE catalog_customer")
    by_email = _plan(customers_by_email(world.org.pk, "Müller@Example.COM"))
    assert "customer_org_email_norm" in by_email, by_email
    from aftersales.catalog.models import CustomerIdentity

    by_id = _plan(CustomerIdentity.objects.filter(store=world.store_us, external_id="A1"))
    assert "customer_identity_unique" in by_id or "sqlite_autoindex_catalog_customeridentity_1" in by_id, by_id


BEFORE = [("catalog", "0004_store_country")]
AFTER = [("catalog", "0005_customer_email_normalized")]


@pytest.mark.django_db
def test_migration_0005_fills_the_key_of_existing_customers():
    with scratch_database():
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        old = applied_apps()
        org = old.get_model("accounts", "Organization").objects.create(name="Org", slug="org")
        old_customer = old.get_model("catalog", "Customer")
        upper = old_customer.objects.create(organization=org, email=" ÉLODIE@Example.FR")
        blank = old_customer.objects.create(organization=org, email="")

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = applied_apps().get_model("catalog", "Customer")
        assert new.objects.get(pk=upper.pk).email_normalized == "élodie@example.fr"
        assert new.objects.get(pk=blank.pk).email_normalized == ""
