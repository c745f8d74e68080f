"""GET /customers/{id} and the ticket's customer panel: order count and lifetime value (per
currency) computed from the customer's orders, the same set `orders` lists."""

from __future__ import annotations

from decimal import Decimal

from aftersales.testing.factories import CustomerFactory, OrderFactory


def _customer_with_orders(world):  # type: ignore[no-untyped-def]
    customer = CustomerFactory(organization=world.org, order_count=5, lifetime_value_amount=Decimal("10.00"))
    OrderFactory(store=world.store_us, customer=customer, total_amount=Decimal("120.00"), currency="USD")
    OrderFactory(store=world.store_us, customer=customer, total_amount=Decimal("30.50"), currency="USD")
    OrderFactory(
        store=world.store_de, customer=customer, total_amount=Decimal("99.90"), currency="EUR", status="refunded"
    )
    OrderFactory(store=world.foreign_store, customer=customer, total_amount=Decimal("999.00"), currency="USD")
    return customer


def test_api_customer_and_ticket_panels_agree(world, as_user):
    customer = _customer_with_orders(world)
    ticket = world.ticket(customer=customer)
    client = as_user(world.admin)
    for body in (
        client.get(f"/customers/{customer.pk}").json(),
        client.get(f"/tickets/{ticket.pk}").json()["customer"],
    ):
        assert body["order_count"] == 3 == len(body["orders"]) and body["return_count"] == 1
        assert body["lifetime_value"] == [
            {"amount": "99.90", "currency": "EUR"},
            {"amount": "150.50", "currency": "USD"},
        ]
        assert not {"order_count", "lifetime_value", "return_count"} & set(body["customer"])
