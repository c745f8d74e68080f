"""RMAs for the list, exceptions and bulk tests: rows written directly (status, dates, tracking as
each test needs), on the personas' world (testing/personas.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from aftersales.returns.models import Rma, RmaLine, RmaStatus
from aftersales.testing.factories import CustomerFactory, OrderFactory, OrderLineFactory

_numbers = count(1)


def make_rma(
    world: Any,
    *,
    store: Any = None,
    ticket: Any = None,
    status: str = RmaStatus.REQUESTED,
    created_at: datetime | None = None,
    customer_name: str = "",
    order_number: str = "",
    **fields: Any,
) -> Rma:
    store = store or world.store_us
    customer: Any = CustomerFactory(organization=store.organization, name=customer_name or "Buyer")
    order_kwargs: dict[str, Any] = {"store": store, "customer": customer, "currency": "USD"}
    if order_number:
        order_kwargs["external_id"] = order_number
    order: Any = OrderFactory(**order_kwargs)
    line: Any = OrderLineFactory(order=order, quantity=1, unit_price_amount=Decimal("49.00"), currency="USD")
    rma = Rma.objects.create(
        organization=store.organization,
        store=store,
        number=f"RMA-TEST-{next(_numbers):06d}",  # apart from the real sequence (RMA-YYYY-NNNNNN)
        order=order,
        customer=customer,
        ticket=ticket,
        status=status,
        reason=fields.pop("reason", "defective"),
        requested_at=created_at or timezone.now(),
        **fields,
    )
    RmaLine.objects.create(
        rma=rma, order_line=line, sku=line.sku, quantity=1, unit_price_amount=line.unit_price_amount, currency="USD"
    )
    if created_at is not None:
        Rma.objects.filter(pk=rma.pk).update(created_at=created_at)
        rma.refresh_from_db()
    return rma


def days_ago(n: float) -> datetime:
    return timezone.now() - timedelta(days=n)
