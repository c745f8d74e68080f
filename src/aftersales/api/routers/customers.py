"""Customers: one buyer across all stores, with their tickets and orders."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.inbox.selectors import customer_get_visible, customer_history

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.tickets import CustomerPanelOut

router = Router(tags=["customers"])


@router.get("/customers/{customer_id}", response=with_errors({200: CustomerPanelOut}))
def get_customer(request: HttpRequest, customer_id: Id) -> dict[str, Any]:
    """A customer with their tickets (those you may see) and orders across all stores."""
    user = current_user(request)
    check_perm(user, Permission.VIEW)
    customer = customer_get_visible(user, customer_id)
    history = customer_history(user, customer.pk)
    return {
        "customer": customer,
        "order_count": history.order_count,
        "lifetime_value": history.lifetime_value,
        "return_count": history.return_count,
        "tickets": history.tickets,
        "orders": history.orders,
    }
