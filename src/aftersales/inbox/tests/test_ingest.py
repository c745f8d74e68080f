from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from django.core import mail

from aftersales.catalog.models import Customer
from aftersales.core.errors import ValidationFailed
from aftersales.inbox.models import Message, Ticket, TicketEvent
from aftersales.inbox.services import AttachmentInput, InboundMessage, message_ingest
from aftersales.inbox.workflow import TicketStatus
from aftersales.testing.factories import OrderFactory, OrderLineFactory, ProductFactory

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def inbound(world, **kw):  # type: ignore[no-untyped-def]
    defaults = {
        "store": world.store_us,
        "external_id": "msg-1",
        "body": "Hello, my order has not arrived.",
        "customer_external_id": "BUYER-1",
        "customer_name": "John Smith",
        "customer_email": "john@example.net",
        "customer_language": "en",
    }
    defaults.update(kw)
    return InboundMessage(**defaults)


def test_same_external_id_twice_is_one_message(world):
    first = message_ingest(inbound=inbound(world))
    second = message_ingest(inbound=inbound(world))
    assert first.created and first.ticket_created
    assert not second.created and second.message.pk == first.message.pk
    assert Message.objects.count() == 1
    assert Ticket.objects.count() == 1
    assert Customer.objects.filter(organization=world.org).count() == 1


def test_same_external_id_on_another_store_is_another_message(world):
    message_ingest(inbound=inbound(world))
    other = message_ingest(inbound=inbound(world, store=world.store_de))
    assert other.created
    assert Message.objects.count() == 2


def test_threads_by_conversation_then_order_then_customer(world):
    order = OrderFactory(store=world.store_us)
    a = message_ingest(inbound=inbound(world, external_id="m1", conversation_id="c-1"))
    b = message_ingest(inbound=inbound(world, external_id="m2", conversation_id="c-1"))
    assert b.ticket.pk == a.ticket.pk and not b.ticket_created
    # same customer, same store, ticket still open -> same ticket
    c = message_ingest(inbound=inbound(world, external_id="m3"))
    assert c.ticket.pk == a.ticket.pk
    # another customer about an order: new ticket; a second message about the order threads there
    d = message_ingest(
        inbound=inbound(
            world,
            external_id="m4",
            customer_external_id="B2",
            customer_email="x@y.z",
            order_external_id=order.external_id,
        )
    )
    e = message_ingest(
        inbound=inbound(
            world,
            external_id="m5",
            customer_external_id="B3",
            customer_email="w@y.z",
            order_external_id=order.external_id,
        )
    )
    assert d.ticket_created and e.ticket.pk == d.ticket.pk
    assert d.ticket.order_id == order.pk


def test_closed_ticket_is_not_reopened_new_ticket_instead(world):
    a = message_ingest(inbound=inbound(world, external_id="m1", conversation_id="c-1"))
    Ticket.objects.filter(pk=a.ticket.pk).update(status=TicketStatus.CLOSED, status_category="resolved")
    b = message_ingest(inbound=inbound(world, external_id="m2", conversation_id="c-1"))
    assert b.ticket_created and b.ticket.pk != a.ticket.pk


def test_customer_message_reopens_pending_ticket(world):
    a = message_ingest(inbound=inbound(world, external_id="m1"))
    Ticket.objects.filter(pk=a.ticket.pk).update(
        status=TicketStatus.PENDING_CUSTOMER, status_category="waiting", is_unreplied=False
    )
    message_ingest(inbound=inbound(world, external_id="m2"))
    t = Ticket.objects.get(pk=a.ticket.pk)
    assert t.status == TicketStatus.OPEN and t.is_unreplied
    assert TicketEvent.objects.filter(ticket=t, type="status_changed").exists()


def test_ticket_denormalises_scope_fields_and_priority(world):
    product = ProductFactory(organization=world.org, category="phones")
    order = OrderFactory(store=world.store_us, total_amount="999.00")
    OrderLineFactory(order=order, product=product, sku=product.sku)
    r = message_ingest(inbound=inbound(world, order_external_id=order.external_id, customer_language="de"))
    t = r.ticket
    assert t.platform == "amazon" and t.sku_category == "phones" and t.language == "de"
    assert t.is_high_priority  # order above the organization's high-value threshold


def test_html_is_sanitised(world):
    r = message_ingest(
        inbound=inbound(world, body_html='<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:x">l</a></p>')
    )
    assert "script" not in r.message.body_html and "onclick" not in r.message.body_html
    assert "javascript:" not in r.message.body_html


def test_attachment_is_stored_and_type_sniffed(world):
    r = message_ingest(inbound=inbound(world, attachments=[AttachmentInput("photo.png", PNG, "image/png")]))
    att = r.message.attachments.get()
    assert att.content_type == "image/png" and att.size == len(PNG)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"external_id": ""}, "external_id"),
        ({"customer_external_id": ""}, "customer_external_id"),
        ({"body": "   "}, "body"),
        ({"body": "x" * 100_001}, "body"),
        ({"category": "nonsense"}, "category"),
        ({"attachments": [AttachmentInput("evil.exe", b"MZ\x90\x00" + b"\x00" * 64)]}, "attachments[0]"),
        ({"attachments": [AttachmentInput("../x.png", PNG)]}, "attachments[0].filename"),
        ({"attachments": [AttachmentInput("..", PNG)]}, "attachments[0].filename"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(world, kwargs, field):
    with pytest.raises(ValidationFailed) as exc:
        message_ingest(inbound=inbound(world, **kwargs))
    assert exc.value.field == field
    assert Message.objects.count() == 0 and Ticket.objects.count() == 0
    assert not mail.outbox


@pytest.mark.parametrize(
    "sent_at",
    [
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))),
        datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
        datetime(2026, 11, 11, 8, 0),  # no offset
    ],
)
def test_ingest_refuses_sent_at_out_of_range_without_writing(world, sent_at):
    """The service checks the instant itself: connectors and mail imports feed it without the API's edge."""
    before = Message.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        message_ingest(
            inbound=InboundMessage(
                store=world.store_us,
                external_id="range-1",
                body="Where is my parcel?",
                customer_external_id="buyer-range",
                sent_at=sent_at,
            )
        )
    assert caught.value.field == "sent_at"
    assert Message.objects.count() == before
