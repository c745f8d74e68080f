"""Builders for the RMA tests: an order delivered N days ago with lines, a ticket on it, a return hub."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from aftersales.catalog.models import Order, OrderLine
from aftersales.inventory.models import Warehouse
from aftersales.testing.factories import (
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ShipmentFactory,
    TicketFactory,
)


def delivered_order(
    world: Any,
    *,
    store: Any = None,
    days_ago: int = 3,
    lines: tuple[tuple[str, str, int, str], ...] = (("home", "49.90", 2, "USD"),),
    country: str = "US",
    customer_tier: str | None = None,
) -> Order:
    """An order of the world's US store delivered `days_ago` days ago; `lines`: (category, unit price,
    quantity, currency) each with its own product."""
    store = store or world.store_us
    order = OrderFactory(store=store, organization=store.organization, ship_country=country)
    if customer_tier is not None and order.customer is not None:
        order.customer.tier = customer_tier
        order.customer.save(update_fields=["tier"])
    for category, price, quantity, currency in lines:
        product = ProductFactory(organization=store.organization, category=category, price_amount=Decimal(price))
        OrderLineFactory(
            order=order,
            product=product,
            sku=product.sku,
            quantity=quantity,
            unit_price_amount=Decimal(price),
            currency=currency,
        )
    delivered = timezone.now() - timedelta(days=days_ago)
    ShipmentFactory(order=order, delivered_at=delivered, shipped_at=delivered - timedelta(days=2))
    return order


def first_line(order: Order) -> OrderLine:
    return order.lines.order_by("pk").first()  # type: ignore[return-value]


def ticket_for(world: Any, order: Order, **kwargs: Any) -> Any:
    return TicketFactory(
        store=order.store, organization=order.organization, order=order, customer=order.customer, **kwargs
    )


def return_hub(world: Any, *, code: str = "US-RET", countries: tuple[str, ...] = ("US",), **kwargs: Any) -> Warehouse:
    return Warehouse.objects.create(
        organization=world.org,
        code=code,
        name=f"Return hub {code}",
        is_return_hub=True,
        serves_countries=list(countries),
        address_line1="1 Return Way",
        city="Reno",
        postal_code="89501",
        country=countries[0] if countries else "US",
        **kwargs,
    )
