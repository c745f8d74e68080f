"""The dry run rewinds the customer and the order (rules.customer_history, rules.point_in_time): the
tier from the recorded tier changes, order count / lifetime value / return count from the orders,
RMAs and refunds as of the event's instant, the order's status from its recorded status changes; the
live snapshot reads the same figures at the event's time; the queries per batch stay constant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.catalog.history import order_status_changes_record
from aftersales.catalog.models import Customer, CustomerTierChange, OrderStatusChange
from aftersales.catalog.services import customer_set_tier
from aftersales.core.actors import Actor, ActorKind
from aftersales.inbox.models import Ticket
from aftersales.returns.models import Refund, RefundStatus, Rma
from aftersales.rules.customer_history import CustomerHistory, _Order, figures_at, value_at
from aftersales.rules.simulate import HistoryEvent, _as_then, rule_simulate
from aftersales.rules.snapshots import build_snapshot
from aftersales.testing.factories import CustomerFactory, OrderFactory

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def ago(days: float) -> datetime:
    return timezone.now() - timedelta(days=days)


def doc(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "trigger": "ticket_created",
        "conditions": {"all": conditions},
        "actions": [{"type": "set_category", "params": {"category": "refund"}}],
    }


def matched(world: Any, field: str, op: str, value: Any) -> int:
    return rule_simulate(world.admin, document=doc([{"field": field, "op": op, "value": value}]), days=10).matched


def made(world: Any, days: float, **kwargs: Any) -> Ticket:
    ticket = world.ticket(**kwargs)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=ago(days), last_message_at=ago(days))
    return Ticket.objects.get(pk=ticket.pk)


def rma(world: Any, order: Any, days: float, number: str) -> Rma:
    return Rma.objects.create(
        organization=world.org,
        store=world.store_us,
        number=number,
        order=order,
        customer=order.customer,
        status="requested",
        reason="defective",
        requested_at=ago(days),
    )


# ---------------------------------------------------------------- pure: tables and a property


@pytest.mark.parametrize(
    ("changes", "current", "days", "expected"),
    [
        ([], "vip", 5, "vip"),  # nothing recorded: today's value
        ([(2, "new", "vip")], "vip", 5, "new"),  # became VIP after T: the old tier
        ([(2, "new", "vip")], "vip", 1, "vip"),
        ([(2, "new", "vip")], "vip", 2, "vip"),  # at the instant itself: the change counts
        ([(2, "", "vip")], "vip", 5, "vip"),  # the migration's row: nothing known before it
        ([(4, "new", "regular"), (2, "regular", "vip")], "vip", 3, "regular"),
        ([(4, "new", "regular"), (2, "regular", "vip")], "vip", 9, "new"),
    ],
)
def test_value_at(changes: list[tuple[int, str, str]], current: str, days: int, expected: str) -> None:
    rows = [(T0 - timedelta(days=d), i, old, new) for i, (d, old, new) in enumerate(changes)]
    assert value_at(rows, current, T0 - timedelta(days=days)) == expected


orders_st = st.lists(
    st.tuples(st.integers(0, 30), st.sampled_from(["EUR", "USD"]), st.integers(0, 500), st.none() | st.integers(0, 30)),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(orders=orders_st, day=st.integers(0, 30))
def test_figures_at_equal_a_reference_count(orders: list[tuple[int, str, int, int | None]], day: int) -> None:
    """figures_at over a random history equals counting by hand: orders placed by T, their totals in
    the store's currency, those returned by T."""
    history = CustomerHistory()
    rows = sorted(
        (_Order(i, T0 + timedelta(days=d), Decimal(total), cur) for i, (d, cur, total, _r) in enumerate(orders)),
        key=lambda o: (o.placed_at, o.pk),
    )
    history.orders = {1: rows}
    history.returned = {i: T0 + timedelta(days=r) for i, (_d, _c, _t, r) in enumerate(orders) if r is not None}
    at = T0 + timedelta(days=day)
    got = figures_at(history, 1, at, "EUR")
    placed = [(i, o) for i, o in enumerate(orders) if o[0] <= day]
    assert got["order_count"] == len(placed)
    assert got["lifetime_value"] == sum(Decimal(o[2]) for _i, o in placed if o[1] == "EUR")
    assert got["return_count"] == sum(1 for _i, o in placed if o[3] is not None and o[3] <= day)


# ---------------------------------------------------------------- the dry run


@pytest.mark.django_db
def test_a_customer_who_became_vip_after_the_event_is_not_vip_in_the_replay(world: Any) -> None:
    customer = CustomerFactory(organization=world.org, tier="new")
    made(world, 5, customer=customer)
    customer_set_tier(customer=customer, tier="vip", actor=Actor(ActorKind.SYSTEM, "test"))
    change = CustomerTierChange.objects.get(customer=customer)
    assert (change.old_tier, change.new_tier, change.actor_kind) == ("new", "vip", ActorKind.SYSTEM)
    assert matched(world, "customer.tier", "eq", "vip") == 0
    assert matched(world, "customer.tier", "eq", "new") == 1
    CustomerTierChange.objects.filter(pk=change.pk).update(at=ago(2))  # became VIP two days ago
    made(world, 1, customer=customer)  # created since: VIP then
    assert matched(world, "customer.tier", "eq", "vip") == 1


@pytest.mark.django_db
def test_counts_and_lifetime_value_as_of_the_event(world: Any) -> None:
    customer = CustomerFactory(organization=world.org, order_count=40, return_count=9)  # stored: ignored
    first = OrderFactory(store=world.store_us, customer=customer, placed_at=ago(30), total_amount=Decimal("100"))
    second = OrderFactory(store=world.store_us, customer=customer, placed_at=ago(20), total_amount=Decimal("50"))
    OrderFactory(store=world.store_us, customer=customer, placed_at=ago(2), total_amount=Decimal("900"))
    OrderFactory(store=world.store_us, customer=customer, placed_at=ago(25), total_amount=Decimal("7"), currency="EUR")
    rma(world, first, 8, "RMA-H1")
    rma(world, second, 1, "RMA-H2")  # after the ticket's creation: not counted then
    made(world, 5, customer=customer, order=first)
    assert world.store_us.currency == "USD"
    assert matched(world, "customer.return_count", "eq", 1) == 1
    assert matched(world, "customer.return_count", "eq", 2) == 0
    assert matched(world, "customer.order_count", "eq", 3) == 1  # the order placed 2 days ago is not yet there
    assert matched(world, "customer.lifetime_value", "eq", 150) == 1  # USD only, EUR never added
    live = build_snapshot(organization_id=world.org.pk, trigger="ticket_created", now=timezone.now(), ticket_id=0)
    assert live is None
    ticket = Ticket.objects.get(customer=customer)
    now_snap = build_snapshot(
        organization_id=world.org.pk, trigger="ticket_created", now=timezone.now(), ticket_id=ticket.pk
    )
    assert now_snap is not None
    assert (now_snap["customer"]["order_count"], now_snap["customer"]["return_count"]) == (4, 2)
    assert now_snap["customer"]["lifetime_value"] == Decimal("1050")


@pytest.mark.django_db
def test_a_returnless_refund_counts_once_it_succeeded(world: Any) -> None:
    customer = CustomerFactory(organization=world.org)
    order = OrderFactory(store=world.store_us, customer=customer, placed_at=ago(30))
    Refund.objects.create(
        organization=world.org,
        store=world.store_us,
        order=order,
        kind="full",
        amount=Decimal("10"),
        currency="USD",
        status=RefundStatus.SUCCEEDED,
        executed_at=ago(6),
        idempotency_key="refund-h1",
    )
    made(world, 5, customer=customer, order=order)
    made(world, 7, customer=customer, order=order)
    assert matched(world, "customer.return_count", "eq", 1) == 1
    assert matched(world, "customer.return_count", "eq", 0) == 1


@pytest.mark.django_db
def test_the_order_status_then(world: Any) -> None:
    order = OrderFactory(store=world.store_us, status="shipped", placed_at=ago(30))
    OrderStatusChange.objects.create(order=order, old_status="unshipped", new_status="shipped", at=ago(2))
    made(world, 5, order=order, customer=order.customer)
    made(world, 1, order=order, customer=order.customer)
    assert matched(world, "order.status", "eq", "unshipped") == 1
    assert matched(world, "order.status", "eq", "shipped") == 1


@pytest.mark.django_db
def test_queries_per_batch_are_the_same_for_1_and_50_events(world: Any) -> None:
    tickets = []
    for i in range(50):
        customer = CustomerFactory(organization=world.org)
        order = OrderFactory(store=world.store_us, customer=customer, placed_at=ago(30))
        rma(world, order, 8, f"RMA-Q{i}")
        order_status_changes_record([(order.pk, "unshipped", "shipped", ago(3))])
        customer_set_tier(customer=customer, tier="vip", actor=Actor(ActorKind.SYSTEM, "test"))
        tickets.append(made(world, 5, customer=customer, order=order))

    def events(n: int) -> list[HistoryEvent]:
        return [HistoryEvent(key=f"ticket_created:{t.pk}", at=ago(4), ticket_id=t.pk, row_id=t.pk) for t in tickets[:n]]

    with CaptureQueriesContext(connection) as one:
        [(_e, snap)] = _as_then(world.org.pk, "ticket_created", events(1))
    with CaptureQueriesContext(connection) as fifty:
        pairs = _as_then(world.org.pk, "ticket_created", events(50))
    assert len(one.captured_queries) == len(fifty.captured_queries)
    assert snap["customer"]["tier"] == "new" and snap["customer"]["return_count"] == 1
    assert snap["order"]["status"] == "unshipped"
    assert all(s["customer"]["order_count"] == 1 for _e, s in pairs)


@pytest.mark.django_db
def test_order_versions_record_status_changes_on_both_ingestion_paths(world: Any) -> None:
    from aftersales.channels.apply import apply_order
    from aftersales.channels.apply_many import orders_apply_many
    from aftersales.channels.base import OrderRecord

    def record(number: str, status: str, minute: int) -> OrderRecord:
        return OrderRecord(
            external_id=number,
            placed_at=T0,
            status=status,
            total=Decimal("10"),
            currency="USD",
            updated_at=T0 + timedelta(minutes=minute),
        )

    apply_order(world.store_us, record("A-1", "unshipped", 1))
    apply_order(world.store_us, record("A-1", "shipped", 2))
    apply_order(world.store_us, record("A-1", "shipped", 3))  # no change: no row
    orders_apply_many(world.store_us, [record("B-1", "unshipped", 1), record("B-1", "cancelled", 2)])
    orders_apply_many(world.store_us, [record("A-1", "delivered", 4)])
    rows = list(
        OrderStatusChange.objects.order_by("order__external_id", "at").values_list(
            "order__external_id", "old_status", "new_status", "at"
        )
    )
    assert rows == [
        ("A-1", "unshipped", "shipped", T0 + timedelta(minutes=2)),
        ("A-1", "shipped", "delivered", T0 + timedelta(minutes=4)),
        ("B-1", "unshipped", "cancelled", T0 + timedelta(minutes=2)),
    ]


# ---------------------------------------------------------------- live figures from SQL aggregates


def _random_history(world: Any, seed: int, customers: int, orders_each: int) -> list[int]:
    """Customers with orders in three currencies over 40 days, RMAs (one order two of them), refunds
    succeeded / failed / without an execution time; returns the customer ids."""
    import random

    from aftersales.catalog.models import Order

    rng = random.Random(seed)
    ids = []
    for c in range(customers):
        customer = CustomerFactory(organization=world.org)
        ids.append(customer.pk)
        rows = Order.objects.bulk_create(
            [
                Order(
                    organization=world.org,
                    store=world.store_us,
                    external_id=f"S{seed}-C{c}-O{i}",
                    customer=customer,
                    placed_at=T0 + timedelta(days=rng.randrange(40), minutes=rng.randrange(1440)),
                    total_amount=Decimal(rng.randrange(1, 100000)) / 100,
                    currency=rng.choice(["USD", "USD", "EUR", "JPY"]),
                )
                for i in range(orders_each)
            ]
        )
        for i, order in enumerate(rows):
            if order.pk is None:  # SQLite before 3.35 returns no ids from bulk_create
                order = Order.objects.get(store=world.store_us, external_id=order.external_id)
            draw = rng.random()
            if draw < 0.2:
                for k in range(rng.choice([1, 1, 2])):
                    Rma.objects.create(
                        organization=world.org,
                        store=world.store_us,
                        number=f"RMA-S{seed}-{c}-{i}-{k}",
                        order=order,
                        customer=customer,
                        status="requested",
                        reason="defective",
                        requested_at=order.placed_at + timedelta(days=rng.randrange(0, 15)),
                    )
            elif draw < 0.35:
                status = rng.choice([RefundStatus.SUCCEEDED, RefundStatus.SUCCEEDED, RefundStatus.FAILED])
                Refund.objects.create(
                    organization=world.org,
                    store=world.store_us,
                    order=order,
                    kind="full",
                    amount=order.total_amount,
                    currency=order.currency,
                    status=status,
                    executed_at=None if rng.random() < 0.2 else order.placed_at + timedelta(days=rng.randrange(15)),
                    idempotency_key=f"refund-s{seed}-{c}-{i}",
                )
    return ids


def _assert_parity(ids: list[int], instants: list[datetime]) -> None:
    from aftersales.rules.customer_history import figures_of, load_customers

    history = load_customers(ids, tiers=False)
    for at in instants:
        pairs = [(c, cur) for c in ids for cur in ("USD", "EUR", "JPY", "GBP")]
        live = figures_of(pairs, at)
        for customer_id, currency in pairs:
            assert live[(customer_id, currency)] == figures_at(history, customer_id, at, currency), (
                customer_id,
                currency,
                at,
            )


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_live_figures_from_sql_aggregates_equal_the_dry_runs(world: Any, seed: int) -> None:
    """figures_of (the live snapshot's SQL aggregates) equals figures_at over load_customers (the dry
    run's history) for every customer, currency and instant: the same definitions (ADR 0029)."""
    ids = _random_history(world, seed, customers=4, orders_each=25)
    instants = [T0 - timedelta(days=1), T0 + timedelta(days=3), T0 + timedelta(days=20), T0 + timedelta(days=90)]
    _assert_parity([*ids, CustomerFactory(organization=world.org).pk], instants)  # one without orders


@pytest.mark.django_db
def test_a_customer_with_many_orders_in_several_currencies(world: Any) -> None:
    """A VIP with 1,200 orders in three currencies: the live figures (one query, no order rows read)
    equal the dry run's, and the snapshot carries them in its store's currency."""
    from aftersales.rules.customer_history import figures_of

    [customer_id] = _random_history(world, 9, customers=1, orders_each=1200)
    _assert_parity([customer_id], [T0 + timedelta(days=10), T0 + timedelta(days=60)])
    with CaptureQueriesContext(connection) as queries:
        live = figures_of([(customer_id, "USD"), (customer_id, "EUR")], T0 + timedelta(days=60))
    assert len(queries.captured_queries) == 1
    assert live[(customer_id, "USD")]["order_count"] == 1200 == live[(customer_id, "EUR")]["order_count"]
    ticket = made(world, 1, customer=Customer.objects.get(pk=customer_id))
    snap = build_snapshot(
        organization_id=world.org.pk, trigger="ticket_created", now=T0 + timedelta(days=60), ticket_id=ticket.pk
    )
    assert snap is not None
    assert {k: snap["customer"][k] for k in ("order_count", "lifetime_value", "return_count")} == live[
        (customer_id, "USD")
    ]
