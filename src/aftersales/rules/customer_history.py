"""The customer's figures, tier and the order's status at an instant, from history: the live snapshot
(rules.snapshots, at the event's time) and the dry run (rules.point_in_time, at each replayed event's
instant) read them through the same functions, so a replay at "now" sees what the engine sees.

Definitions (docs/rules.md "Customer figures"), for a customer at instant T:
- `order_count`: the customer's orders placed at or before T (`Order.placed_at`), every store;
- `lifetime_value`: the sum of those orders' totals in the currency of the snapshot's store (amounts
  in other currencies are never added together; refunds are not deducted: the customer panel's
  figure, per currency);
- `return_count`: of those orders, the ones with an RMA requested at or before T
  (`Rma.requested_at`, whatever became of it) or a refund that succeeded at or before T
  (`Refund.executed_at`, a returnless refund counts);
- `tier`: the new tier of the customer's latest `CustomerTierChange` at or before T, else the old tier
  of the first one after T when it was recorded, else today's tier (nothing recorded: the tier has not
  changed since the history began, catalog migration 0008);
- an order's `status`: the same over its `OrderStatusChange` rows.

An order is returned if an RMA of that order or a succeeded refund of it is dated at or before T (the
RMA's own `customer` is not consulted: the order's customer is whose return it is).

Two ways to the same figures: the dry run loads each customer's history once (`load_customers`) and
reads it at every replayed instant (`figures_at`); the live snapshot needs one instant only, so
`figures_of` asks the database for it (COUNT / SUM grouped by customer and currency, EXISTS for the
returns): a customer with thousands of orders costs no row transfer per event (ADR 0035). Both follow
the definitions above; the parity test (rules/tests/test_customer_history.py) holds them equal.

Queries: `load_customers` 2 (orders; RMAs and refunds in one UNION), 3 with the tier changes;
`figures_of` 1; `load_order_statuses` 1, whatever the number of customers, orders and instants."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum

from aftersales.catalog.models import CustomerTierChange, Order, OrderStatusChange
from aftersales.returns.models import Refund, RefundStatus, Rma


@dataclass(frozen=True)
class _Order:
    pk: int
    placed_at: datetime
    total: Decimal
    currency: str


@dataclass
class CustomerHistory:
    orders: dict[int, list[_Order]] = field(default_factory=dict)  # customer -> orders, placed_at order
    returned: dict[int, datetime] = field(default_factory=dict)  # order -> first RMA request / refund
    tiers: dict[int, list[tuple[datetime, int, str, str]]] = field(default_factory=dict)  # (at, id, old, new)


def load_customers(customer_ids: Collection[int], *, tiers: bool) -> CustomerHistory:
    """The orders, returns (and with `tiers` the tier changes) of these customers."""
    history = CustomerHistory()
    ids = sorted({c for c in customer_ids if c is not None})
    if not ids:
        return history
    orders: dict[int, list[_Order]] = defaultdict(list)
    for pk, customer_id, placed_at, total, currency in (
        Order.objects.filter(customer_id__in=ids)
        .order_by("placed_at", "pk")
        .values_list("pk", "customer_id", "placed_at", "total_amount", "currency")
    ):
        orders[customer_id].append(_Order(pk, placed_at, Decimal(total), currency))
    history.orders = dict(orders)
    rmas = Rma.objects.filter(order__customer_id__in=ids).order_by().values_list("order_id", "requested_at")
    refunds = (
        Refund.objects.filter(order__customer_id__in=ids, status=RefundStatus.SUCCEEDED, executed_at__isnull=False)
        .order_by()
        .values_list("order_id", "executed_at")
    )
    for order_id, at in rmas.union(refunds, all=True):
        if order_id not in history.returned or at < history.returned[order_id]:
            history.returned[order_id] = at
    if tiers:
        changes: dict[int, list[tuple[datetime, int, str, str]]] = defaultdict(list)
        for pk, customer_id, at, old, new in (
            CustomerTierChange.objects.filter(customer_id__in=ids)
            .order_by("at", "pk")
            .values_list("pk", "customer_id", "at", "old_tier", "new_tier")
        ):
            changes[customer_id].append((at, pk, old, new))
        history.tiers = dict(changes)
    return history


def figures_at(history: CustomerHistory, customer_id: int, at: datetime, currency: str) -> dict[str, Any]:
    """order_count, lifetime_value and return_count at `at` (module docstring)."""
    orders = history.orders.get(customer_id, [])
    then = orders[: bisect_right([o.placed_at for o in orders], at)]
    returned = history.returned
    return {
        "order_count": len(then),
        "lifetime_value": sum((o.total for o in then if o.currency == currency), Decimal("0")),
        "return_count": sum(1 for o in then if o.pk in returned and returned[o.pk] <= at),
    }


_CENTS = Decimal(1).scaleb(-Order._meta.get_field("total_amount").decimal_places)  # type: ignore[union-attr]


def figures_of(pairs: Collection[tuple[int, str]], at: datetime) -> dict[tuple[int, str], dict[str, Any]]:
    """`figures_at(load_customers(...), customer, at, currency)` for each (customer, currency) pair,
    computed by the database in one query (the live snapshot's path: one instant)."""
    wanted = {(c, cur) for c, cur in pairs if c is not None}
    zero: dict[str, Any] = {"order_count": 0, "lifetime_value": Decimal("0"), "return_count": 0}
    out = {pair: dict(zero) for pair in wanted}
    ids = sorted({c for c, _cur in wanted})
    if not ids:
        return out
    returned = Exists(Rma.objects.filter(order_id=OuterRef("pk"), requested_at__lte=at)) | Exists(
        Refund.objects.filter(order_id=OuterRef("pk"), status=RefundStatus.SUCCEEDED, executed_at__lte=at)
    )
    per_customer: dict[int, list[tuple[str, int, Decimal, int]]] = defaultdict(list)
    for customer_id, currency, n, total, n_returned in (
        Order.objects.filter(customer_id__in=ids, placed_at__lte=at)
        .order_by()
        .values("customer_id", "currency")
        .annotate(n=Count("pk"), total=Sum("total_amount"), returned=Count("pk", filter=Q(returned)))
        .values_list("customer_id", "currency", "n", "total", "returned")
    ):
        # SQLite sums the amounts as floating point (84567.8100000001): back to the column's places.
        per_customer[customer_id].append((currency, n, Decimal(total or 0).quantize(_CENTS), n_returned))
    for customer_id, currency in wanted:
        rows = per_customer.get(customer_id, [])
        out[(customer_id, currency)] = {
            "order_count": sum(n for _cur, n, _t, _r in rows),
            "lifetime_value": sum((t for cur, _n, t, _r in rows if cur == currency), Decimal("0")),
            "return_count": sum(r for _cur, _n, _t, r in rows),
        }
    return out


def value_at(changes: Sequence[tuple[datetime, int, str, str]], current: str, at: datetime) -> str:
    """A recorded value at `at` from its changes (at, id, old, new), oldest first: the latest new
    value at or before `at`, else the first change's old value when recorded, else `current`."""
    before = [c for c in changes if c[0] <= at]
    if before:
        return before[-1][3]
    if changes and changes[0][2]:
        return changes[0][2]
    return current


def load_order_statuses(order_ids: Collection[int]) -> dict[int, list[tuple[datetime, int, str, str]]]:
    """Each order's status changes (at, id, old, new), oldest first (one query)."""
    out: dict[int, list[tuple[datetime, int, str, str]]] = defaultdict(list)
    ids = sorted({o for o in order_ids if o})
    if not ids:
        return {}
    for pk, order_id, at, old, new in (
        OrderStatusChange.objects.filter(order_id__in=ids)
        .order_by("at", "pk")
        .values_list("pk", "order_id", "at", "old_status", "new_status")
    ):
        out[order_id].append((at, pk, old, new))
    return dict(out)
