"""Warranty benchmark (issue 10 §6): pure judgements per second, in-process.

Each judgement resolves the term of a unit among 36 terms (5 categories x 6 regions incl. the EU group, a catch-all,
a VIP extension) and counts its days left on the claim's local day in the store's zone (Berlin,
Madrid, Shanghai, Sao Paulo), from random delivery and claim instants.

    .venv/bin/python bench/warranty.py [--n 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    from aftersales.warranty.eligibility import TermRule, resolve_term, warranty_status, zone

    categories = ["phones", "computers", "consumer_electronics", "electronic_accessories", "home"]
    regions = ["", "EU", "DE", "FR", "US", "BR"]
    rules = [TermRule(id=1, months=12)]
    n = 2
    for category in categories:
        for region in regions:
            rules.append(TermRule(id=n, months=random.choice([6, 12, 18, 24]), category=category, region=region))
            n += 1
        rules.append(TermRule(id=n, months=36, category=category, customer_tier="vip"))
        n += 1
    zones = [zone(z) for z in ("Europe/Berlin", "Europe/Madrid", "Asia/Shanghai", "America/Sao_Paulo")]
    rng = random.Random(7)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    facts = [
        (
            rng.choice(categories),
            rng.choice(["DE", "FR", "ES", "US", "BR", "CN", ""]),
            rng.choice(["vip", "regular", "new", ""]),
            start + timedelta(minutes=rng.randrange(0, 600 * 24 * 60)),
            rng.choice(zones),
        )
        for _ in range(args.n)
    ]
    claim = datetime(2026, 12, 1, 12, tzinfo=UTC)
    began = time.perf_counter()
    inside = 0
    for category, country, tier, delivered, tz in facts:
        term = resolve_term(rules, category=category, country=country, customer_tier=tier, product_months=12)
        inside += warranty_status(starts=delivered, months=term.months, claim_at=claim, tz=tz).in_warranty
    took = time.perf_counter() - began
    print(
        f"{args.n} judgements against {len(rules)} terms in {took:.2f} s: {args.n / took:,.0f}/s ({inside} in warranty)"
    )


if __name__ == "__main__":
    main()
