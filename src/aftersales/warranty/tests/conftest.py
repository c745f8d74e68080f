from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales.catalog.models import OrderLine, Product
from aftersales.testing.factories import OrderFactory, OrderLineFactory, ProductFactory, ShipmentFactory

VALID_IMEI = "490154203237518"
OTHER_IMEI = "352099001761481"
DELIVERED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Stock:
    phone: Product
    line: OrderLine


def make_phone_line(world, *, quantity: int = 2, country: str = "DE", tier: str = "regular") -> Stock:
    phone = ProductFactory(
        organization=world.org,
        sku="PH-1",
        title="Phone X",
        category="phones",
        price_amount=Decimal("399"),
        warranty_months=12,
        is_serialised=True,
    )
    order = OrderFactory(store=world.store_de, placed_at=datetime(2026, 2, 27, 12, 0, tzinfo=UTC), ship_country=country)
    order.customer.tier = tier
    order.customer.preferred_language = "de"
    order.customer.save()
    line = OrderLineFactory(order=order, product=phone, sku="PH-1", quantity=quantity)
    ShipmentFactory(order=order, status="delivered", delivered_at=DELIVERED)
    return Stock(phone=phone, line=line)


@pytest.fixture(autouse=True)
def _english_afterwards():
    """A request by a user who reads Chinese activates zh-Hans in this thread (accounts middleware);
    put English back so that later tests read English messages."""
    yield
    from django.utils import translation

    translation.activate("en")


@pytest.fixture
def stock(world):
    world.store_de.timezone = "Europe/Berlin"
    world.store_de.save()
    return make_phone_line(world)


@pytest.fixture
def published():
    """Events published (after commit) during the test, by type name."""
    from aftersales.core import events
    from aftersales.warranty import events as warranty_events

    seen: list[object] = []
    types = [
        warranty_events.WarrantyClaimCreated,
        warranty_events.WarrantyClaimStatusChanged,
        warranty_events.RepairOrderStatusChanged,
        warranty_events.WarrantyReplacementRequested,
        warranty_events.WarrantyReminderQueued,
    ]
    for t in types:
        events.subscribe(t, seen.append)
    yield seen
    for t in types:
        events._subscribers[t].remove(seen.append)
