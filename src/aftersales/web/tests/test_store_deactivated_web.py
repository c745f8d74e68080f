"""The reply box says why a reply cannot go out when its store is deactivated; nothing is stored."""

from __future__ import annotations

from django.urls import reverse

from aftersales.catalog.services import store_deactivate
from aftersales.inbox.models import Message

from .conftest import htmx_headers


def test_the_reply_box_refuses_a_reply_through_a_deactivated_store(world, login):
    ticket = world.ticket()
    store_deactivate(user=world.admin, store_id=ticket.store_id)
    response = login(world.agent).post(
        reverse("web:ticket_reply", kwargs={"ticket_id": ticket.pk}), {"body": "Hello"}, **htmx_headers()
    )
    assert response.status_code == 409
    assert "is deactivated" in response.content.decode()
    assert not Message.objects.filter(ticket=ticket, direction="outbound").exists()
    assert login(world.agent).get(reverse("web:ticket", kwargs={"ticket_id": ticket.pk})).status_code == 200
