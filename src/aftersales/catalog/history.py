"""The catalog's append-only history rows (models.CustomerTierChange, models.OrderStatusChange):
the one place they are written, so the rules' dry run can read a customer's tier and an order's
status as of an instant (rules.customer_history)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from aftersales.core.actors import Actor
from aftersales.core.clock import now

from .models import Customer, CustomerTierChange, OrderStatusChange


def tier_change_record(customer: Customer, *, old: str, new: str, actor: Actor, at: datetime | None = None) -> None:
    """One tier change (the caller holds the transaction that changes the tier)."""
    CustomerTierChange.objects.create(
        customer=customer, old_tier=old, new_tier=new, at=at or now(), actor_kind=actor.kind, actor_ref=actor.id[:64]
    )


def order_status_changes_record(changes: Iterable[tuple[int, str, str, datetime | None]]) -> int:
    """Status changes of stored orders, (order id, old, new, platform's update time or None for
    now); one INSERT for all of them, none when nothing changed. Returns how many were written."""
    at = now()
    rows = [
        OrderStatusChange(order_id=order_id, old_status=old or "", new_status=new or "", at=when or at)
        for order_id, old, new, when in changes
        if (old or "") != (new or "")
    ]
    if rows:
        OrderStatusChange.objects.bulk_create(rows)
    return len(rows)
