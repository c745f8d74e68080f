"""Reads of stores, customers and orders, always within the user's organization."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from aftersales.core.errors import NotFound

from .models import Customer, Order, Store


def stores_of_organization(user: Any) -> QuerySet[Store]:
    return Store.objects.filter(organization_id=user.organization_id).order_by("platform", "name")


def customer_get(user: Any, customer_id: int) -> Customer:
    customer = Customer.objects.filter(pk=customer_id, organization_id=user.organization_id).first()
    if customer is None:
        raise NotFound("customer not found", field="customer_id")
    return customer


def order_get(user: Any, order_id: int) -> Order:
    order = (
        Order.objects.select_related("store", "customer")
        .defer("store__credentials")  # never decrypt store secrets to show an order
        .prefetch_related("lines", "shipments__events")
        .filter(pk=order_id, organization_id=user.organization_id)
        .first()
    )
    if order is None:
        raise NotFound("order not found", field="order_id")
    return order
