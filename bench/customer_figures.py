"""The live snapshot's customer figures for a customer with many orders (ADR 0035): the SQL aggregates
(`rules.customer_history.figures_of`, what the live path runs) against reading every order, RMA and
refund of the customer and counting in Python (`figures_at(load_customers(...))`, what the live path ran
before and the dry run still runs), alternating in the same run on the same database; and a whole
`build_snapshot` of one of the customer's tickets. A second customer with 5 orders for the ordinary case.

  .venv/bin/python bench/customer_figures.py --orders 5000                      # SQLite (a temporary file)
  .venv/bin/python bench/customer_figures.py --orders 5000 --pg postgres://postgres@127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import bench_database  # noqa: E402  (bench/benchdb.py, next to this file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", help="PostgreSQL server URL (without database); default: SQLite")
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with bench_database(args.pg, "figures"):
        run(args)


def run(args: argparse.Namespace) -> None:
    from django.db import connection, reset_queries

    from aftersales.accounts.models import Organization
    from aftersales.catalog.models import Customer, Order, Store
    from aftersales.inbox.models import Ticket
    from aftersales.returns.models import Refund, RefundStatus, Rma
    from aftersales.rules.customer_history import figures_at, figures_of, load_customers
    from aftersales.rules.snapshots import build_snapshot

    rng = random.Random(7)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    org = Organization.objects.create(name="Bench figures", slug="bench-figures")
    store = Store.objects.create(organization=org, name="US", platform="amazon", currency="USD")
    customers = []
    for name, n in (("vip", args.orders), ("ordinary", 5)):
        customer = Customer.objects.create(organization=org, name=name, email=f"{name}@example.com")
        customers.append(customer)
        Order.objects.bulk_create(
            [
                Order(
                    organization=org,
                    store=store,
                    external_id=f"{name}-{i}",
                    customer=customer,
                    placed_at=t0 + timedelta(minutes=rng.randrange(60 * 24 * 700)),
                    total_amount=Decimal(rng.randrange(100, 50000)) / 100,
                    currency=rng.choice(["USD", "USD", "USD", "EUR", "GBP"]),
                )
                for i in range(n)
            ],
            batch_size=1000,
        )
        orders = list(Order.objects.filter(customer=customer).order_by("pk"))
        returned = rng.sample(orders, max(1, len(orders) // 10))
        Rma.objects.bulk_create(
            [
                Rma(
                    organization=org,
                    store=store,
                    number=f"RMA-{name}-{k}",
                    order=o,
                    customer=customer,
                    status="requested",
                    reason="defective",
                    requested_at=o.placed_at + timedelta(days=3),
                )
                for k, o in enumerate(returned[::2])
            ]
        )
        Refund.objects.bulk_create(
            [
                Refund(
                    organization=org,
                    store=store,
                    order=o,
                    kind="full",
                    amount=o.total_amount,
                    currency=o.currency,
                    status=RefundStatus.SUCCEEDED,
                    executed_at=o.placed_at + timedelta(days=5),
                    idempotency_key=f"bench-{name}-{k}",
                )
                for k, o in enumerate(returned[1::2])
            ]
        )
    tickets = [
        Ticket.objects.create(organization=org, subject="where is it", store=store, platform="amazon", customer=c)
        for c in customers
    ]
    now = datetime.now(UTC)
    print(
        f"database: {connection.vendor}; customers with {args.orders:,} and 5 orders (about a tenth returned); "
        f"load average {os.getloadavg()}"
    )
    print("| customer | way | p50 ms | mean ms | queries | figures equal |")
    print("|---|---|--:|--:|--:|---|")
    for customer, ticket in zip(customers, tickets, strict=True):
        times: dict[str, list[float]] = {"sql": [], "history": [], "snapshot": []}
        queries: dict[str, int] = {}
        for _ in range(args.repeat):
            for way in ("sql", "history", "snapshot"):
                connection.force_debug_cursor = True
                reset_queries()
                started = time.perf_counter()
                if way == "sql":
                    sql = figures_of([(customer.pk, "USD")], now)[(customer.pk, "USD")]
                elif way == "history":
                    old = figures_at(load_customers([customer.pk], tiers=False), customer.pk, now, "USD")
                else:
                    build_snapshot(organization_id=org.pk, trigger="ticket_created", now=now, ticket_id=ticket.pk)
                times[way].append((time.perf_counter() - started) * 1000)
                queries[way] = len(connection.queries)
                connection.force_debug_cursor = False
        for way, label in (
            ("sql", "figures_of (SQL aggregates, the live path now)"),
            ("history", "load_customers + figures_at (the live path before; the dry run)"),
            ("snapshot", "build_snapshot of a ticket (whole live snapshot, now)"),
        ):
            print(
                f"| {customer.name} ({Order.objects.filter(customer=customer).count():,} orders) | {label} | "
                f"{statistics.median(times[way]):.2f} | {statistics.fmean(times[way]):.2f} | {queries[way]} | "
                f"{'yes' if sql == old else f'NO: {sql} != {old}'} |"
            )
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
