"""Returns benchmark (issue 10).

Part 1, implemented: eligibility evaluations per second, in-process, against a realistic policy (the
default policy plus 200 SKU windows, 40 store windows, narrowed category rules, seasonal, VIP, the EU
floor, restocking fees, evidence rules): the pure decision (`CompiledPolicy.evaluate`) over 50,000
varied facts, and the full service path (`check_eligibility`: store + SKU + rate + active version from
the database) over a smaller sample.

Part 2 (`--rma`, on PostgreSQL with `--pg`): 10,000 RMAs written with bulk_create, then bulk-approved
through returns.bulk (rma_bulk_start + rma_bulk_run: chunks of RMAs through returns.rma.rma_approve_many,
an RmaEvent per transition, the marketplace write-back and the buyer notification tasks enqueued on Huey
per chunk, Redis with `--redis`), after `--old-rmas` RMAs approved item by item (one transaction per RMA
through rma_approve, as the job ran before) for the ratio, statements per RMA counted for both, and
the RMA list's first page (returns.selectors.rma_page) at 10,000 and 100,000 RMAs,
for an admin and for a team-scoped agent.

    .venv/bin/python bench/returns.py [--n 50000] [--service-n 2000] [--append]
    .venv/bin/python bench/returns.py --rma --pg postgres://postgres@127.0.0.1:5432 \
        --redis redis://127.0.0.1:6379/0 [--rmas 10000] [--list-total 100000] [--append]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import platform
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def realistic_policy() -> dict:
    from aftersales.returns.policy import DEFAULT_POLICY

    doc = copy.deepcopy(DEFAULT_POLICY)
    for i in range(200):
        doc["windows"].append({"code": f"W-SKU-{i}", "days": 20 + i % 40, "scope": {"sku": f"SKU-{i:05d}"}})
    for i in range(40):
        doc["windows"].append({"code": f"W-STORE-{i}", "days": 25 + i % 10, "scope": {"store": i + 1}})
    for category in ("apparel", "shoes", "beauty"):
        doc["windows"].append({"code": f"W-{category}", "days": 7, "scope": {"category": category}})
        doc["windows"].append(
            {"code": f"W-{category}-low", "days": 10, "scope": {"category": category, "value_tiers": ["low"]}}
        )
    return doc


def facts_sample(n: int, seed: int = 7) -> list:
    from aftersales.returns.policy import Facts, Rate

    rnd = random.Random(seed)
    sites = ["amazon.de", "amazon.es", "amazon.com", "shopee.br", "ebay.de", None]
    countries = ["DE", "ES", "FR", "US", "BR", "GB", None]
    reasons = ["changed_mind", "defective", "not_as_described", "wrong_item", "damaged_in_transit"]
    categories = ["phones", "computers", "apparel", "home", "beauty", "electronic_accessories"]
    out = []
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(n):
        delivered = base + timedelta(seconds=rnd.randrange(365 * 86400))
        currency = rnd.choice(["USD", "USD", "EUR", "BRL"])
        out.append(
            Facts(
                delivered_at=delivered,
                requested_at=delivered + timedelta(seconds=rnd.randrange(60 * 86400)),
                reason=rnd.choice(reasons),
                unit_price=Decimal(rnd.randrange(100, 150000)) / 100,
                currency=currency,
                rate={"USD": None, "EUR": Rate("EUR", Decimal("1.08")), "BRL": Rate("BRL", Decimal("0.18"))}[currency],
                quantity_purchased=3,
                quantity_already_returned=rnd.choice([0, 0, 1]),
                quantity_requested=rnd.choice([1, 1, 2]),
                sku=f"SKU-{rnd.randrange(400):05d}",
                category=rnd.choice(categories),
                store_id=rnd.randrange(1, 60),
                platform=rnd.choice(["amazon", "ebay", "shopee"]),
                site=rnd.choice(sites),
                delivery_country=rnd.choice(countries),
                customer_tier=rnd.choice(["vip", "regular", None]),
                evidence=frozenset(rnd.sample(["photos", "video", "imei", "serial_number"], rnd.randrange(3))),
            )
        )
    return out


def bench_pure(n: int) -> tuple[float, dict[str, int]]:
    from aftersales.returns.policy import compile_policy, parse_document

    policy = compile_policy(parse_document(realistic_policy()))
    sample = facts_sample(n)
    counts: dict[str, int] = {}
    started = time.perf_counter()
    for facts in sample:
        decision = policy.evaluate(facts)
        counts[decision.resolution] = counts.get(decision.resolution, 0) + 1
    elapsed = time.perf_counter() - started
    return n / elapsed, counts


def bench_service(n: int) -> float:
    """check_eligibility with the database (SQLite in memory unless DATABASE_URL is set)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings.test")
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import get_runner  # noqa: F401

    old = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from aftersales.returns.eligibility import check_eligibility
        from aftersales.returns.models import ExchangeRate
        from aftersales.returns.policy_store import policy_save
        from aftersales.testing.factories import ProductFactory
        from aftersales.testing.personas import build_world

        world = build_world()
        policy_save(user=world.admin, document=realistic_policy())
        for i in range(400):
            ProductFactory(organization=world.org, sku=f"SKU-{i:05d}", category=random.choice(["phones", "apparel"]))
        now = datetime.now(UTC)
        ExchangeRate.objects.create(
            organization=world.org, currency="EUR", rate=Decimal("1.08"), as_of=now.date(), updated_at=now
        )
        sample = facts_sample(n, seed=11)
        started = time.perf_counter()
        for f in sample:
            check_eligibility(
                user=world.agent,
                delivered_at=f.delivered_at,
                requested_at=f.requested_at,
                reason=f.reason,
                unit_price=f.unit_price,
                currency=f.currency if f.currency != "BRL" else "EUR",
                quantity_purchased=f.quantity_purchased,
                quantity_requested=f.quantity_requested,
                quantity_already_returned=f.quantity_already_returned,
                store_id=world.store_de.pk,
                sku=f.sku,
                delivery_country=f.delivery_country,
                customer_tier=f.customer_tier,
                evidence=tuple(f.evidence),
            )
        elapsed = time.perf_counter() - started
        return n / elapsed
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)
        del settings


def _make_rmas(world, warehouse, count: int, *, start: int, status_mix: bool) -> list[int]:  # type: ignore[no-untyped-def]
    """`count` requested (or, with status_mix, varied) RMAs with an order, an order line and an RMA
    line each, written with bulk_create in batches. Returns the new RMA ids."""
    from django.utils import timezone

    from aftersales.catalog.models import Customer, Order, OrderLine
    from aftersales.returns.models import Rma, RmaLine, RmaStatus

    statuses = [s for s in RmaStatus.values if s != RmaStatus.REQUESTED]
    now = timezone.now()
    ids: list[int] = []
    batch = 2000
    stores = [world.store_us, world.store_de]
    for offset in range(0, count, batch):
        n = min(batch, count - offset)
        customers = Customer.objects.bulk_create(
            [Customer(organization=world.org, name=f"Buyer {start + offset + i}") for i in range(0, n, 10)]
        )
        orders = Order.objects.bulk_create(
            [
                Order(
                    organization=world.org,
                    store=stores[i % 2],
                    external_id=f"B-{start + offset + i:08d}",
                    customer=customers[i // 10],
                    placed_at=now - timedelta(days=20),
                    total_amount=Decimal("49.00"),
                    currency="USD",
                )
                for i in range(n)
            ]
        )
        lines = OrderLine.objects.bulk_create(
            [
                OrderLine(order=o, sku=f"SKU-{i % 400:05d}", quantity=1, unit_price_amount=Decimal("49.00"))
                for i, o in enumerate(orders)
            ]
        )
        rmas = Rma.objects.bulk_create(
            [
                Rma(
                    organization=world.org,
                    store=o.store,
                    number=f"RMA-2026-{start + offset + i + 1:07d}",
                    order=o,
                    customer=o.customer,
                    status=statuses[i % len(statuses)] if status_mix and i % 3 else RmaStatus.REQUESTED,
                    reason="defective",
                    delivery_country="US",
                    requested_at=now - timedelta(minutes=start + offset + i),
                )
                for i, o in enumerate(orders)
            ]
        )
        RmaLine.objects.bulk_create(
            [
                RmaLine(
                    rma=r,
                    order_line=line,
                    sku=line.sku,
                    quantity=1,
                    unit_price_amount=line.unit_price_amount,
                    currency="USD",
                )
                for r, line in zip(rmas, lines, strict=True)
            ]
        )
        ids += [r.pk for r in rmas]
    return ids


def _median_ms(fn, runs: int = 15) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[len(times) // 2]


def bench_rmas(args: argparse.Namespace) -> list[str]:
    """Part 2 on a fresh database (created on --pg and dropped at the end)."""
    from benchdb import bench_database  # bench/benchdb.py, next to this file

    env = {"HUEY_NAME": f"bench-returns-{os.getpid()}"}
    if args.redis:
        env["REDIS_URL"] = args.redis
    with bench_database(args.pg, "returns", env=env, setup=False):  # (_bench_rmas migrates)
        return _bench_rmas(args, "PostgreSQL" if args.pg else "SQLite")


@contextlib.contextmanager
def _counting() -> Iterator[list[int]]:
    """Count the SQL statements run inside the block (BEGIN/COMMIT/SAVEPOINT are not statements here)."""
    from django.db import connection

    counted = [0]

    def wrapper(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if not sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            counted[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counted


def _analyze(db: str) -> None:
    from django.db import connection

    if db == "PostgreSQL":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _bench_rmas(args: argparse.Namespace, db: str) -> list[str]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from huey.contrib.djhuey import HUEY

    from aftersales.inventory.models import Warehouse
    from aftersales.returns import bulk
    from aftersales.returns.bulk import rma_bulk_run, rma_bulk_start
    from aftersales.returns.filters import RmaFilters
    from aftersales.returns.models import RmaBulkItem, RmaEvent, RmaStatus
    from aftersales.returns.selectors import rma_page
    from aftersales.testing.personas import build_world

    call_command("migrate", verbosity=0)
    world = build_world()
    warehouse = Warehouse.objects.create(
        organization=world.org,
        code="LAX-HUB",
        name="Los Angeles return hub",
        is_return_hub=True,
        serves_countries=["US"],
    )
    HUEY.flush()
    started = time.perf_counter()
    ids = _make_rmas(world, warehouse, args.rmas, start=0, status_mix=False)
    created_s = time.perf_counter() - started
    _analyze(db)

    # The per-item runner (one transaction per RMA through rma_approve, as bulk jobs ran before the
    # chunked approval) on a smaller N, in the same run, for the ratio; then the chunked path on N.
    old_ids = _make_rmas(world, warehouse, args.old_rmas, start=10_000_000, status_mix=False) if args.old_rmas else []
    _analyze(db)
    old_line = ""
    if old_ids:
        queued = HUEY.pending_count()
        job = rma_bulk_start(user=world.admin, action="approve", rma_ids=old_ids, params={})
        pending = list(RmaBulkItem.objects.filter(job=job).order_by("position").values_list("pk", "rma_id"))
        with _counting() as counted:
            started = time.perf_counter()
            for item in pending:
                bulk._run_item(job, world.admin, item)
            old_s = time.perf_counter() - started
        old_ok = RmaBulkItem.objects.filter(job=job, status="ok").count()
        old_rate = len(old_ids) / old_s
        old_line = (
            f"- per-item path (one transaction per RMA through rma_approve, the job runner before the chunked "
            f"approval) on {len(old_ids):,} RMAs: {old_s:.1f} s, **{old_rate:,.0f} RMAs/s**, {old_ok:,} ok; "
            f"{counted[0] / len(old_ids):.1f} statements per RMA (BEGIN/COMMIT not counted); "
            f"{HUEY.pending_count() - queued:,} tasks enqueued"
        )

    started = time.perf_counter()
    with transaction.atomic():
        job = rma_bulk_start(user=world.admin, action="approve", rma_ids=ids, params={})
    queued = HUEY.pending_count()  # the job's own task
    with _counting() as counted:
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            job = profile.runcall(rma_bulk_run, job.pk)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        else:
            job = rma_bulk_run(job.pk)
        bulk_s = time.perf_counter() - started
    ok = RmaBulkItem.objects.filter(job=job, status="ok").count()
    failed = RmaBulkItem.objects.filter(job=job, status="error").count()
    approved_events = (
        RmaEvent.objects.filter(type="status_changed", payload__new=RmaStatus.APPROVED, rma_id__in=ids).count()
        if db == "PostgreSQL"
        else RmaEvent.objects.filter(type="status_changed", payload__new=RmaStatus.APPROVED).count() - len(old_ids)
    )
    enqueued = HUEY.pending_count() - queued
    lines = [
        f"- {args.rmas:,} RMAs written with bulk_create in {created_s:.1f} s",
        f"- bulk approve of {args.rmas:,} RMAs through returns/bulk.py (rma_bulk_start + rma_bulk_run: chunks of "
        f"{bulk.CHUNK} RMAs, one transaction each, through rma_approve_many): **{bulk_s:.1f} s** (target < 30 s), "
        f"**{args.rmas / bulk_s:,.0f} RMAs/s**; {ok:,} ok, {failed:,} failed; {approved_events:,} status events "
        f"written; {counted[0] / args.rmas:.2f} statements per RMA (BEGIN/COMMIT not counted); {enqueued:,} tasks "
        f"enqueued (one buyer-notification task and one marketplace write-back task per chunk) on "
        f"{'Redis' if args.redis else 'SQLite'} Huey",
    ]
    if old_line:
        lines.append(old_line)
        lines.append(f"- ratio chunked / per-item in this run: **{(args.rmas / bulk_s) / old_rate:.1f}x** RMAs/s")

    agent = world.agent

    def first_pages(total: int) -> str:
        figures = []
        for label, user, filters in (
            ("admin, no filter", world.admin, RmaFilters()),
            ("admin, status=approved", world.admin, RmaFilters(status=("approved",))),
            ("admin, status=requested", world.admin, RmaFilters(status=("requested",))),
            ("agent (team scope), no filter", agent, RmaFilters()),
            ("admin, search by order number", world.admin, RmaFilters(q="B-00000042")),
        ):
            figures.append(f"{label} {_median_ms(lambda u=user, f=filters: rma_page(u, f)):.1f} ms")
        return f"- RMA list first page (25 rows) at {total:,} RMAs, median of 15: " + "; ".join(figures)

    lines.append(first_pages(args.rmas))
    if args.list_total > args.rmas:
        _make_rmas(world, warehouse, args.list_total - args.rmas, start=args.rmas, status_mix=True)
        _analyze(db)
        lines.append(first_pages(args.list_total))
    HUEY.flush()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--service-n", type=int, default=2_000)
    parser.add_argument("--append", action="store_true", help="append the figures to bench/RESULTS.md")
    parser.add_argument("--rma", action="store_true", help="part 2: bulk approve and the RMA list (see above)")
    parser.add_argument("--pg", help="with --rma: PostgreSQL server URL (without database); default SQLite")
    parser.add_argument("--redis", help="with --rma: Redis URL for the Huey queue; default SQLite Huey")
    parser.add_argument("--rmas", type=int, default=10_000, help="with --rma: RMAs to bulk-approve")
    parser.add_argument(
        "--old-rmas", type=int, default=1_000, help="with --rma: RMAs approved item by item first, for the ratio"
    )
    parser.add_argument("--list-total", type=int, default=100_000, help="with --rma: RMAs for the second list size")
    args = parser.parse_args()
    if args.rma:
        lines = bench_rmas(args)
        load = os.getloadavg()
        lines.append(
            f"- machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}; "
            f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (shared with other runs)"
        )
        print("\n".join(lines))
        if args.append:
            stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            command = (
                f"`.venv/bin/python bench/returns.py --rma{' --pg ' + args.pg if args.pg else ''}"
                f"{' --redis ' + args.redis if args.redis else ''} --rmas {args.rmas} --old-rmas {args.old_rmas} "
                f"--list-total {args.list_total}`"
            )
            with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as fh:
                fh.write(f"\n## Returns: bulk-approving RMAs and the RMA list ({stamp})\n\nCommand: {command}.\n\n")
                fh.write("\n".join(lines) + "\n")
        return
    pure, counts = bench_pure(args.n)
    service = bench_service(args.service_n)
    load = os.getloadavg()
    db = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    lines = [
        f"- pure decision (CompiledPolicy.evaluate): **{pure:,.0f} evaluations/s** over {args.n:,} facts "
        f"(target >= 5,000/s); resolutions: {', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}",
        f"- service path (check_eligibility: permission, store, SKU, rate and active version from {db}): "
        f"**{service:,.0f} evaluations/s** over {args.service_n:,} calls",
        f"- machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}; "
        f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (shared with other runs)",
    ]
    print("\n".join(lines))
    if args.append:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        command = "`.venv/bin/python bench/returns.py --append`" + (
            " with DATABASE_URL=postgres://..." if db == "PostgreSQL" else ""
        )
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as fh:
            fh.write(
                f"\n## Returns: eligibility ({stamp})\n\nCommand: {command}. {db}.\n\n" + "\n".join(lines) + "\n\n"
                "Bulk-approving 10,000 RMAs (the other half of this benchmark) is not measured: the RMA workflow "
                "(issue 10 §3) does not exist yet.\n"
            )


if __name__ == "__main__":
    main()
