"""Issue 8 in the agent UI: the inbox shows and filters tickets whose reply could not be delivered;
a merge of different buyers or stores shows the differences and asks for confirmation; the
timeline says who acted when it was not a user."""

from __future__ import annotations

from django.urls import reverse

from aftersales.catalog.models import Platform
from aftersales.inbox.models import DeliveryStatus, Message, Ticket
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.testing.factories import StoreFactory

from .conftest import htmx_headers


def _failed_reply(world, ticket):  # type: ignore[no-untyped-def]
    return Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="outbound",
        channel=ticket.platform,
        author=world.agent,
        body="Sorry",
        delivery_status=DeliveryStatus.FAILED,
        delivery_error="no connector",
    )


def test_inbox_badge_and_filter_for_failed_deliveries(world, login):
    failed = world.ticket(subject="Reply bounced")
    world.ticket(subject="All good")
    _failed_reply(world, failed)
    client = login(world.agent)
    html = client.get(reverse("web:inbox")).content.decode()
    row = html[html.index(f'data-ticket-id="{failed.pk}"') :].split("</tr>")[0]
    assert "pill-delivery-failed" in row and "Delivery failed" in row
    assert html.count("pill-delivery-failed") == 1
    filtered = client.get(reverse("web:inbox"), {"delivery": "failed"}).content.decode()
    assert "Reply bounced" in filtered and "All good" not in filtered
    assert client.get(reverse("web:inbox"), {"delivery": "lost"}).status_code == 400


def test_merge_of_different_stores_shows_the_differences_and_asks(world, login):
    sg = StoreFactory(organization=world.org, name="Shopee SG", platform=Platform.SHOPEE)
    br = StoreFactory(organization=world.org, name="Shopee BR", platform=Platform.SHOPEE)
    source, target = world.ticket(store=sg), world.ticket(store=br)
    client = login(world.admin)
    url = reverse("web:ticket_merge", args=[source.pk])
    asked = client.post(url, {"target_id": target.pk}, **htmx_headers())
    assert asked.status_code == 409
    html = asked.content.decode()
    assert html.startswith('<section id="merge-box"')
    assert "Shopee SG" in html and "Shopee BR" in html and source.customer.name in html
    assert f'name="confirm_differences" value="{target.pk}"' in html
    assert Ticket.objects.get(pk=source.pk).merged_into_id is None
    # a confirmation given for another ticket number does not count
    other = world.ticket(store=br)
    again = client.post(url, {"target_id": other.pk, "confirm_differences": str(target.pk)}, **htmx_headers())
    assert again.status_code == 409
    done = client.post(url, {"target_id": target.pk, "confirm_differences": str(target.pk)}, **htmx_headers())
    assert done.status_code == 200 and done["HX-Redirect"] == reverse("web:ticket", args=[target.pk])
    assert Ticket.objects.get(pk=source.pk).merged_into_id == target.pk


def test_merge_into_another_organizations_ticket_is_not_found(world, login):
    source, foreign = world.ticket(), world.foreign_ticket()
    response = login(world.admin).post(
        reverse("web:ticket_merge", args=[source.pk]),
        {"target_id": foreign.pk, "confirm_differences": str(foreign.pk)},
        **htmx_headers(),
    )
    assert response.status_code == 404
    assert Ticket.objects.get(pk=source.pk).merged_into_id is None


def test_timeline_names_the_customer_who_reopened_and_the_retry(world, login):
    inbound = InboundMessage(
        store=world.store_us, external_id="m-1", body="Hello", customer_external_id="B-1", customer_name="Ana"
    )
    ticket = message_ingest(inbound=inbound).ticket
    Ticket.objects.filter(pk=ticket.pk).update(status="pending_customer", status_category="waiting")
    message_ingest(inbound=InboundMessage(**{**inbound.__dict__, "external_id": "m-2", "body": "Again"}))
    reply = _failed_reply(world, ticket)
    client = login(world.agent)
    client.post(reverse("web:message_retry", args=[ticket.pk, reply.pk]))
    html = client.get(reverse("web:ticket", args=[ticket.pk])).content.decode()
    assert "Customer changed status from Pending customer to Open (customer wrote)" in html
    assert "Alice sent a failed reply again" in html
