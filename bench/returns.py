"""Returns benchmark (issue 10).

Part 1, implemented: eligibility evaluations per second, in-process, against a realistic policy (the
default policy plus 200 SKU windows, 40 store windows, narrowed category rules, seasonal, VIP, the EU
floor, restocking fees, evidence rules): the pure decision (`CompiledPolicy.evaluate`) over 50,000
varied facts, and the full service path (`check_eligibility`: store + SKU + rate + active version from
the database) over a smaller sample.

Part 2, NOT implemented yet: bulk-approving 10,000 RMAs with events and notifications enqueued (needs
the RMA workflow of issue 10 §3, which does not exist yet).

    .venv/bin/python bench/returns.py [--n 50000] [--service-n 2000] [--append]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import random
import sys
import time
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--service-n", type=int, default=2_000)
    parser.add_argument("--append", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
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
