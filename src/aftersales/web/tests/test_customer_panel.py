"""The customer panel's figures are computed from the orders it lists: the order count is the
number of the customer's orders (all stores), the lifetime value their totals per currency (USD and
EUR are never added together), and when more orders exist than are listed it says so. The stored
Customer.order_count / lifetime_value (whatever a platform or the demo wrote) are not shown."""

from __future__ import annotations

import re
from decimal import Decimal

from django.urls import reverse

from aftersales.catalog.selectors import customer_order_figures
from aftersales.testing.factories import CustomerFactory, OrderFactory


def _customer_with_orders(world):  # type: ignore[no-untyped-def]
    customer = CustomerFactory(
        organization=world.org,
        order_count=5,  # stored figures that disagree with the orders held
        return_count=4,
        lifetime_value_amount=Decimal("10.00"),
        lifetime_value_currency="USD",
    )
    OrderFactory(store=world.store_us, customer=customer, total_amount=Decimal("120.00"), currency="USD")
    OrderFactory(store=world.store_us, customer=customer, total_amount=Decimal("30.50"), currency="USD")
    OrderFactory(
        store=world.store_de, customer=customer, total_amount=Decimal("99.90"), currency="EUR", status="refunded"
    )
    OrderFactory(store=world.foreign_store, customer=customer, total_amount=Decimal("999.00"), currency="USD")
    return customer


def test_figures_per_currency_from_the_organizations_orders(world):
    customer = _customer_with_orders(world)
    figures = customer_order_figures(world.org.pk, customer.pk)
    assert figures.order_count == 3  # the other organization's order is not theirs to count
    assert figures.return_count == 1
    assert [(t.currency, t.amount) for t in figures.lifetime_value] == [
        ("EUR", Decimal("99.90")),
        ("USD", Decimal("150.50")),
    ]


def test_ticket_page_figures_agree_with_the_listed_orders(world, login):
    customer = _customer_with_orders(world)
    ticket = world.ticket(customer=customer)
    html = login(world.admin).get(reverse("web:ticket", kwargs={"ticket_id": ticket.pk})).content.decode()
    panel = html[html.index('id="customer-panel"') :]
    assert '<dd id="customer-order-count">3</dd>' in panel
    assert '<dd id="customer-return-count">1</dd>' in panel
    value = re.search(r'<dd id="customer-lifetime-value">(.*?)</dd>', panel, re.S).group(1)
    assert "EUR 99.90" in value and "USD 150.50" in value and "10.00" not in value
    assert "latest" not in panel  # every order is listed
    listed = panel[panel.index("Orders in all stores") :]
    assert listed.count('<bdi class="mono">') == 3  # each order number isolated (Arabic store names)


def test_more_orders_than_listed_says_so(world, login):
    customer = CustomerFactory(organization=world.org)
    for _ in range(23):
        OrderFactory(store=world.store_us, customer=customer, total_amount=Decimal("10.00"), currency="USD")
    ticket = world.ticket(customer=customer)
    html = login(world.admin).get(reverse("web:ticket", kwargs={"ticket_id": ticket.pk})).content.decode()
    assert '<dd id="customer-order-count">23</dd>' in html and "USD 230.00" in html
    assert "latest 20 of 23" in html
