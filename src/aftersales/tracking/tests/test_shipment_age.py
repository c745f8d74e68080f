"""The age of a shipment's last carrier event on the ticket (API and agent UI)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.test import Client
from django.urls import reverse

from aftersales.api.tests.helpers import ApiClient
from aftersales.catalog.models import TrackingEvent
from aftersales.testing.factories import OrderFactory, ShipmentFactory


def test_ticket_shows_the_age_of_the_last_carrier_event(world, clock):
    order = OrderFactory(store=world.store_us)
    shipment = ShipmentFactory(order=order, tracking_number="RR123456785CN", status="in_transit")
    quiet = ShipmentFactory(order=order, tracking_number="LP00000000000001")
    for at in (datetime(2026, 11, 10, 8, 0, tzinfo=UTC), datetime(2026, 11, 12, 11, 0, tzinfo=UTC)):
        TrackingEvent.objects.create(shipment=shipment, at=at, status="in_transit", description="Scan")
    ticket = world.ticket(order=order)
    body = ApiClient(user=world.agent).request("GET", f"/tickets/{ticket.pk}").json()
    shipments = {s["id"]: s for s in body["order"]["shipments"]}
    assert shipments[shipment.pk]["last_event_at"] == "2026-11-12T11:00:00+00:00"
    assert shipments[shipment.pk]["days_since_last_event"] == 10  # the clock: 2026-11-22 12:00 UTC
    assert shipments[quiet.pk]["last_event_at"] is None and shipments[quiet.pk]["days_since_last_event"] is None

    client = Client()
    client.force_login(world.agent)
    page = client.get(reverse("web:ticket", args=[ticket.pk]))
    assert b'data-last-event="2026-11-12T' in page.content
