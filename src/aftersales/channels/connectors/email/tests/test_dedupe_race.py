"""One mail Cc'd to two mailboxes, ingested by two workers at the same moment: stored once (on
PostgreSQL the advisory lock per organization and Message-ID serialises the second behind the
first's commit; SQLite's IMMEDIATE transactions are serialised anyway)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from aftersales.catalog.models import Platform
from aftersales.inbox.models import Message, Ticket
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.testing.factories import OrganizationFactory, StoreFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_mailboxes_ingesting_one_mail_at_once_store_it_once():
    org = OrganizationFactory()
    support = StoreFactory(organization=org, name="Support", platform=Platform.EMAIL, site="")
    sales = StoreFactory(organization=org, name="Sales", platform=Platform.EMAIL, site="")
    results = []
    errors: list[BaseException] = []
    for round_ in range(5):
        message_id = f"<cc-{round_}@customer.example>"
        barrier = threading.Barrier(2)

        def ingest(store, message_id=message_id, barrier=barrier, buyer=f"ken{round_}@example.jp"):  # type: ignore[no-untyped-def]
            try:
                barrier.wait()
                results.append(
                    message_ingest(
                        inbound=InboundMessage(
                            store=store,
                            external_id=message_id,
                            message_id_header=message_id,
                            body="Both of you got this.",
                            customer_external_id=buyer,
                            customer_email=buyer,
                        )
                    )
                )
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=ingest, args=(s,)) for s in (support, sales)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors, errors
        assert Message.objects.filter(external_id=message_id).count() == 1
    assert Ticket.objects.filter(organization=org).count() == 5
    assert sorted(r.created for r in results) == [False] * 5 + [True] * 5
