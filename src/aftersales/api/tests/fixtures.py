"""Objects the API tests act on, built on the personas' world."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aftersales.catalog.models import TrackingEvent
from aftersales.inbox.models import DeliveryStatus, Message, MessageDirection, Ticket
from aftersales.inbox.services import ticket_search_refresh
from aftersales.testing.factories import OrderFactory, OrderLineFactory, ShipmentFactory
from aftersales.testing.personas import World

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PNG_B64 = base64.b64encode(PNG).decode()


@dataclass
class Scene:
    """A US Amazon ticket with an order (lines, a shipment with tracking), an inbound message, a
    failed reply; a second US ticket (merge target); a DE ticket; a foreign organization's ticket."""

    ticket: Ticket
    other: Ticket
    de_ticket: Ticket
    foreign_ticket: Ticket
    inbound: Message
    failed_reply: Message


def build_scene(world: World) -> Scene:
    order = OrderFactory(store=world.store_us, total_amount=Decimal("59.98"), currency="USD")
    OrderLineFactory(order=order, quantity=2, unit_price_amount=Decimal("29.99"))
    shipment = ShipmentFactory(order=order, status="in_transit")
    TrackingEvent.objects.create(shipment=shipment, at=order.placed_at, status="picked_up", location="Shenzhen")
    ticket = world.ticket(order=order, customer=order.customer, subject="Earbuds crackle")
    other = world.ticket(customer=order.customer, subject="Second question")
    inbound = _message(ticket, MessageDirection.INBOUND, "The left earbud crackles", DeliveryStatus.NOT_APPLICABLE)
    failed = _message(ticket, MessageDirection.OUTBOUND, "Sorry about that", DeliveryStatus.FAILED, author=world.agent)
    return Scene(
        ticket=ticket,
        other=other,
        de_ticket=world.ticket(store=world.store_de, language="de"),
        foreign_ticket=world.foreign_ticket(),
        inbound=inbound,
        failed_reply=failed,
    )


def _message(ticket: Ticket, direction: str, body: str, status: str, author: Any = None) -> Message:
    message = Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction=direction,
        channel=ticket.platform,
        body=body,
        delivery_status=status,
        author=author,
        author_name=str(author) if author else "Buyer",
    )
    ticket_search_refresh(ticket_ids=[ticket.pk])  # as the services do
    return message
