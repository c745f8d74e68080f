"""Fixtures of the agent UI tests: signed-in clients per persona and a ticket with a full history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from aftersales.catalog.models import TrackingEvent
from aftersales.inbox.models import DeliveryStatus, Message, MessageDirection, Ticket
from aftersales.testing.factories import (
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ShipmentFactory,
    TicketFactory,
)


@pytest.fixture
def login(client):  # type: ignore[no-untyped-def]
    """login(user) -> a test client signed in as `user` (a fresh client per call)."""

    def sign_in(user) -> Client:  # type: ignore[no-untyped-def]
        c = Client()
        c.force_login(user)
        return c

    return sign_in


def htmx_headers(target: str = "") -> dict[str, str]:
    headers = {"HTTP_HX_REQUEST": "true"}
    if target:
        headers["HTTP_HX_TARGET"] = target
    return headers


@dataclass
class TicketStory:
    ticket: Ticket
    inbound: Message
    failed_reply: Message


def make_story(world) -> TicketStory:  # type: ignore[no-untyped-def]
    """A US ticket of a VIP customer with an order (two lines, a shipment with tracking), a customer
    message in German with a Chinese translation, and a reply whose delivery failed."""
    customer = CustomerFactory(
        organization=world.org,
        name="Hans Müller",
        country="DE",
        tier="vip",
        lifetime_value_amount=Decimal("1234.50"),
        lifetime_value_currency="EUR",
        order_count=7,
        return_count=1,
    )
    order = OrderFactory(store=world.store_us, customer=customer, external_id="113-1234567-7654321", currency="EUR")
    OrderLineFactory(order=order, sku="PB-20K", title="Power bank 20000 mAh", quantity=2, currency="EUR")
    shipment = ShipmentFactory(order=order, carrier="DHL", tracking_number="JD014600001234", status="in_transit")
    TrackingEvent.objects.create(
        shipment=shipment, at=timezone.now() - timedelta(days=1), status="departed", location="Shenzhen"
    )
    ticket = TicketFactory(
        store=world.store_us,
        customer=customer,
        customer_tier="vip",
        order=order,
        subject="Powerbank kaputt",
        language="de",
        category="quality_issue",
        is_high_priority=True,
    )
    inbound = Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction=MessageDirection.INBOUND,
        channel="amazon",
        author_name="Hans Müller",
        body="Die Powerbank lädt nicht.\nBitte helfen <script>alert(1)</script>",
        language="de",
        translations={"zh-hans": {"text": "充电宝不能充电。", "provider": "apertium"}},
        external_id="in-1",
    )
    failed = Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction=MessageDirection.OUTBOUND,
        channel="amazon",
        author=world.agent,
        author_name=str(world.agent),
        body="Sorry to hear that.",
        delivery_status=DeliveryStatus.FAILED,
        delivery_error="no connector for platform 'amazon' is installed yet",
    )
    return TicketStory(ticket=ticket, inbound=inbound, failed_reply=failed)


@pytest.fixture
def story(world) -> TicketStory:  # type: ignore[no-untyped-def]
    return make_story(world)
