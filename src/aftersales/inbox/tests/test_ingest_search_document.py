"""A new ticket's search document is built at ingest from tokens computed before the write
transaction, without reading the ticket back (services.search.new_ticket_search_create, issue 13):
it must be exactly the document a rebuild from the database gives."""

from __future__ import annotations

import pytest

from aftersales.catalog.models import Customer
from aftersales.inbox.models import TicketSearch
from aftersales.inbox.search import MAX_MESSAGE_TOKENS
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.inbox.services.search import ticket_search_refresh


def _stored(ticket_id: int) -> str:
    return str(TicketSearch.objects.filter(ticket_id=ticket_id).values_list("document", flat=True).get())


def _same_as_rebuild(ticket_id: int) -> None:
    at_ingest = _stored(ticket_id)
    assert ticket_search_refresh(ticket_ids=[ticket_id]) == 1
    assert _stored(ticket_id) == at_ingest


@pytest.mark.parametrize(
    ("subject", "body", "name", "email"),
    [
        ("Broken", "My order arrived broken.", "Bob Stone", "bob@example.net"),
        ("", "我要退款，订单还没到。 Müller São Paulo 205-1234567-7654321", "王芳", "wang@example.cn"),
        ("注文", "商品が届きません。返金をお願いします。", "", ""),
        ("", "word " * (MAX_MESSAGE_TOKENS + 50), "Long Writer", "long@example.org"),
        ("x" * 400, "subject cut at 300 characters", "Ö Ñ", "MIXED.Case@Example.COM"),
    ],
)
def test_new_ticket_document_equals_a_rebuild(world, subject, body, name, email):  # type: ignore[no-untyped-def]
    result = message_ingest(
        inbound=InboundMessage(
            store=world.store_us,
            external_id=f"doc-{len(body)}-{name}",
            subject=subject,
            body=body,
            customer_external_id=f"buyer-{len(body)}-{name}",
            customer_name=name,
            customer_email=email,
        )
    )
    assert result.ticket_created
    _same_as_rebuild(result.ticket.pk)


def test_known_customer_by_email_keeps_their_stored_name(world):  # type: ignore[no-untyped-def]
    """The document holds the customer's stored name and e-mail, not what this message claims."""
    customer = Customer.objects.create(
        organization=world.store_us.organization, name="Stored Name", email="same@example.net"
    )
    result = message_ingest(
        inbound=InboundMessage(
            store=world.store_us,
            external_id="doc-known",
            body="Where is my parcel?",
            customer_external_id="new-id-on-this-store",
            customer_name="Other Name",
            customer_email="SAME@example.net",
        )
    )
    assert result.ticket_created and result.ticket.customer_id == customer.pk
    _same_as_rebuild(result.ticket.pk)
    assert "stored" in _stored(result.ticket.pk)


def test_replayed_message_answers_the_first_result(world):  # type: ignore[no-untyped-def]
    inbound = InboundMessage(
        store=world.store_us, external_id="doc-replay", body="Hello", customer_external_id="buyer-replay"
    )
    first = message_ingest(inbound=inbound)
    again = message_ingest(inbound=inbound)
    assert not again.created and again.message.pk == first.message.pk and again.ticket.pk == first.ticket.pk
    assert again.ticket.subject == first.ticket.subject
