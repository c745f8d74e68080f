"""Statements per inbound message: a regression guard on the write path (issue 13), not a benchmark.
Counted inside the test's transaction, so the transaction's SAVEPOINT and RELEASE count too (BEGIN and
COMMIT in production)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.inbox.models import TicketEvent
from aftersales.inbox.services import InboundMessage, message_ingest


def _inbound(world, external_id: str, buyer: str, **kw):  # type: ignore[no-untyped-def]
    return InboundMessage(
        store=world.store_us,
        external_id=external_id,
        body="Hello, where is my order? It has not arrived.",
        body_html="<p>Hello, where is <b>my order</b>?</p>",
        customer_external_id=buyer,
        customer_email=f"{buyer.lower()}@example.net",
        customer_name="Bob Stone",
        customer_language="en",
        **kw,
    )


def test_new_buyer_first_message_statements(world):
    message_ingest(inbound=_inbound(world, "warm-up", "B0"))
    with CaptureQueriesContext(connection) as ctx:
        result = message_ingest(inbound=_inbound(world, "m-1", "B1"))
    assert result.ticket_created
    sql = [q["sql"] for q in ctx.captured_queries]
    # Was 17: the thread lookup for a customer created just now, the ticket UPDATE after its INSERT and
    # the second audit-row INSERT are gone; then 14 -> 10: one SELECT before the transaction answers the
    # replay, store and buyer probes (a new buyer's identity is not looked up again inside), and the
    # search document is one INSERT. Left: that SELECT, SAVEPOINT, the e-mail probe, six INSERTs
    # (customer, identity, ticket, message, both audit rows, search document), RELEASE.
    assert len(sql) <= 10, "\n".join(sql)
    assert not any(s.startswith("UPDATE") for s in sql), "\n".join(sql)
    ticket = result.ticket
    ticket.refresh_from_db()
    assert ticket.last_message_at == ticket.last_customer_message_at == result.message.sent_at
    assert ticket.is_unreplied
    assert list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("type", flat=True)) == [
        "created",
        "message_received",
    ]
    assert result.message.body_html and "<b>my order</b>" in result.message.body_html


def test_known_buyer_follow_up_statements(world):
    first = message_ingest(inbound=_inbound(world, "m-1", "B1"))
    with CaptureQueriesContext(connection) as ctx:
        second = message_ingest(inbound=_inbound(world, "m-2", "B1"))
    assert second.ticket.pk == first.ticket.pk and not second.ticket_created
    assert len(ctx.captured_queries) <= 12, "\n".join(q["sql"] for q in ctx.captured_queries)


def test_new_buyer_with_a_conversation_still_threads(world):
    """The thread query is skipped only when nothing could match: a conversation id is looked up
    even for a new customer (another buyer id of the same conversation, e.g. a platform re-keying)."""
    first = message_ingest(inbound=_inbound(world, "m-1", "B1", conversation_id="conv-9"))
    second = message_ingest(
        inbound=InboundMessage(
            store=world.store_us,
            external_id="m-2",
            body="Any news?",
            customer_external_id="OTHER-ID",
            conversation_id="conv-9",
        )
    )
    assert second.ticket.pk == first.ticket.pk


@pytest.mark.sqlite  # SQLite's planner (no statistics); PostgreSQL plans from statistics
def test_thread_lookup_by_customer_uses_the_customer_index(world):
    """Every message of a known buyer looks for their open ticket: through ticket_customer, not by
    walking the unmerged tickets (what SQLite did with `merged_into IS NULL`)."""
    from aftersales.inbox.services.ingest import live_tickets
    from aftersales.inbox.workflow import StatusCategory

    query = live_tickets().filter(
        store=world.store_us, customer_id=1, status_category__in=[StatusCategory.OPEN, StatusCategory.WAITING]
    )
    plan = query.order_by("-id")[:1].explain()
    assert "ticket_customer" in plan, plan


def test_two_first_messages_of_one_new_buyer_at_once(world, monkeypatch):
    """Two messages of a new buyer id ingested at the same moment: both miss the identity, one
    creates it, the other's INSERT hits the unique (store, external id). That one runs again and
    joins the same customer, instead of failing (a 500 at the API)."""
    from aftersales.catalog.models import Customer, CustomerIdentity
    from aftersales.inbox.services import ingest

    first = message_ingest(inbound=_inbound(world, "m-1", "B7"))
    real = ingest._identity
    missed: list[str] = []

    def racing(inbound):  # type: ignore[no-untyped-def]
        if not missed:  # the first attempt does not see the other transaction's identity yet
            missed.append(inbound.external_id)
            return None
        return real(inbound)

    monkeypatch.setattr(ingest, "_identity", racing)
    second = message_ingest(inbound=_inbound(world, "m-2", "B7"))
    assert missed == ["m-2"]
    assert second.created and second.ticket.customer_id == first.ticket.customer_id
    assert CustomerIdentity.objects.filter(store=world.store_us, external_id="B7").count() == 1
    assert Customer.objects.filter(email_normalized="b7@example.net").count() == 1
