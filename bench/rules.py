"""Rules engine: per-event evaluation of 1,000 active rules (issue 11, target p99 < 2 ms), in-process.

1,000 rules of one trigger (message received), generated with a fixed seed the way sellers write
them: 2-5 conditions each under all/any/not (triage intent, urgency, customer tier, lifetime value,
return count, platform, site, product category, value tier, order total, days since the order,
text contains / starts_with / a regex on the message, tags), a third with a scope (platform, store,
product category, region), some with a schedule window. 2,000 event snapshots drawn from the same
vocabularies. Each event is evaluated against every rule (no stop-further), as the engine does
before applying what matched: scope, schedule and compiled conditions
(`rules.engine.matching_rules`). Baseline in the same run: the reference interpreter
(`rules.reference.evaluate`, walking the JSON per event) over the same rules and events.

No database: rules are compiled from unsaved model instances by `rules.engine.compile_rule`, the
function the engine's cache uses.

    .venv/bin/python bench/rules.py [--rules 1000] [--events 2000] [--repeat 3] [--append]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings.test")

INTENTS = [
    "damaged_item",
    "defective_item",
    "item_not_received",
    "return_request",
    "refund_request",
    "wrong_item",
    "size_fit_issue",
    "order_status",
    "warranty_claim",
    "chargeback_dispute_threat",
    "praise_thanks",
]
TIERS = ["vip", "regular", "new", "at_risk"]
PLATFORMS = ["amazon", "ebay", "shopee", "aliexpress", "tiktok", "shopify"]
SITES = ["amazon.de", "amazon.com", "ebay.de", "shopee.sg", "aliexpress.com", "tiktok.uk"]
CATEGORIES = ["phones", "computers", "apparel", "shoes", "home", "beauty", "toys"]
WORDS = ["broken", "kaputt", "cassé", "roto", "refund", "late", "wrong size", "never arrived", "scratch", "screen"]
NOW = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)


def leaf(rnd: random.Random) -> dict[str, Any]:
    kind = rnd.randrange(12)
    if kind == 0:
        return {"field": "message.triage.intent", "op": "eq", "value": rnd.choice(INTENTS)}
    if kind == 1:
        return {"field": "message.triage.intent", "op": "in", "value": rnd.sample(INTENTS, 3)}
    if kind == 2:
        return {"field": "customer.tier", "op": "eq", "value": rnd.choice(TIERS)}
    if kind == 3:
        return {"field": "customer.lifetime_value", "op": "gte", "value": rnd.choice([100, 500, 1000, "2500.50"])}
    if kind == 4:
        return {"field": "customer.return_count", "op": "between", "value": [0, rnd.randrange(1, 6)]}
    if kind == 5:
        return {"field": "store.site", "op": "eq", "value": rnd.choice(SITES)}
    if kind == 6:
        return {"field": "product.category", "op": "in", "value": rnd.sample(CATEGORIES, 2)}
    if kind == 7:
        return {"field": "order.total", "op": "lt", "value": rnd.choice([20, 50, 100, 300])}
    if kind == 8:
        return {
            "field": "order.placed_at",
            "op": "days_since",
            "value": {rnd.choice(["lte", "gt"]): rnd.choice([7, 30, 90])},
        }
    if kind == 9:
        return {"field": "message.body", "op": "contains", "value": rnd.choice(WORDS)}
    if kind == 10:
        return {
            "field": "message.body",
            "op": "regex",
            "value": rnd.choice(["(?i)kaputt|broken", "^hello", "\\b[0-9]{3}-[0-9]{7}-[0-9]{7}\\b"]),
        }
    return {"field": "ticket.tags", "op": "contains", "value": rnd.choice(["vip", "fragile", "repeat"])}


def conditions(rnd: random.Random) -> dict[str, Any]:
    leaves = [leaf(rnd) for _ in range(rnd.randrange(2, 6))]
    shape = rnd.randrange(10)
    if shape < 6:
        return {"all": leaves}
    if shape < 8:
        return {"all": [leaves[0], {"any": leaves[1:]}]}
    return {"all": [leaves[0], {"not": {"any": leaves[1:]}}]}


def scope(rnd: random.Random) -> dict[str, Any]:
    kind = rnd.randrange(9)
    if kind == 0:
        return {"platforms": [rnd.choice(PLATFORMS)]}
    if kind == 1:
        return {"store_ids": [rnd.randrange(1, 7)]}
    if kind == 2:
        return {"product_categories": rnd.sample(CATEGORIES, 2)}
    if kind == 3:
        return {"regions": ["eu"]}
    return {}


def build_rules(n: int, seed: int) -> list[Any]:
    from aftersales.rules.engine import RuleSet, compile_rule
    from aftersales.rules.models import Rule, RuleVersion

    rnd = random.Random(seed)
    out = []
    for i in range(n):
        rule = Rule(pk=i + 1, name=f"rule {i}", trigger="message_received", priority=rnd.randrange(100), enabled=True)
        schedule = {}
        if rnd.randrange(10) == 0:
            schedule = {"windows": [{"start": "2026-11-10T00:00:00+08:00", "end": "2026-11-12T00:00:00+08:00"}]}
        version = RuleVersion(
            pk=i + 1,
            rule=rule,
            number=1,
            conditions=conditions(rnd),
            actions=[{"type": "set_urgency", "params": {"urgency": "high"}}],
            scope=scope(rnd),
            schedule=schedule,
        )
        out.append(compile_rule(rule, version, calendars={}))
    return RuleSet(out)


def snapshots(n: int, seed: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed + 1)
    out = []
    for i in range(n):
        site = rnd.choice(SITES)
        out.append(
            {
                "now": NOW,
                "ticket": {
                    "id": i,
                    "tags": rnd.sample(["vip", "fragile", "repeat", "x"], rnd.randrange(3)),
                    "urgency": "medium",
                },
                "message": {
                    "body": " ".join(rnd.sample([*WORDS, "hello", "please", "order 302-1234567-1234567"], 6)),
                    "triage": {"intent": rnd.choice(INTENTS), "urgency": rnd.choice(["low", "medium", "high"])},
                },
                "customer": {
                    "tier": rnd.choice(TIERS),
                    "lifetime_value": Decimal(rnd.randrange(0, 500000)) / 100,
                    "return_count": rnd.randrange(0, 8),
                },
                "order": {
                    "total": Decimal(rnd.randrange(500, 50000)) / 100,
                    "placed_at": NOW - timedelta(days=rnd.randrange(200)),
                },
                "product": {"category": rnd.choice(CATEGORIES), "sku": f"SKU-{rnd.randrange(50)}"},
                "store": {
                    "id": rnd.randrange(1, 7),
                    "platform": site.split(".")[0],
                    "site": site,
                    "country": rnd.choice(["DE", "US", "SG", "GB"]),
                },
            }
        )
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(fn: Any, events: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """Per event: wall-clock ms and CPU ms of this thread (the machine is shared: the wall-clock
    tail includes time other processes ran)."""
    wall, cpu = [], []
    for snap in events:
        cpu_started = time.thread_time()
        started = time.perf_counter()
        fn(snap)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - cpu_started) * 1000)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--append", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()

    import django

    django.setup()
    from aftersales.rules.engine import matching_rules
    from aftersales.rules.reference import evaluate

    started = time.perf_counter()
    rules = build_rules(args.rules, args.seed)
    compile_ms = (time.perf_counter() - started) * 1000
    events = snapshots(args.events, args.seed)

    def compiled(snap: dict[str, Any]) -> list[Any]:
        return matching_rules(rules, snap)

    plain = list(rules)  # the same compiled rules without the index

    def unindexed(snap: dict[str, Any]) -> list[Any]:
        return matching_rules(plain, snap)

    def reference(snap: dict[str, Any]) -> list[Any]:
        out = []
        for rule in rules:
            if rule.active_at is not None and not rule.active_at(snap["now"]):
                continue
            if rule.in_scope is not None and not rule.in_scope(snap):
                continue
            if evaluate(rule.conditions, snap):
                out.append(rule)
        return out

    matched = [len(compiled(s)) for s in events]
    assert matched == [len(reference(s)) for s in events], "compiled and reference disagree"
    assert matched == [len(unindexed(s)) for s in events], "the index changed what matches"
    runs: dict[str, list[tuple[list[float], list[float]]]] = {"compiled": [], "unindexed": [], "reference": []}
    for _ in range(args.repeat):
        runs["compiled"].append(measure(compiled, events))
        runs["unindexed"].append(measure(unindexed, events))
        runs["reference"].append(measure(reference, events))

    def summary(name: str) -> dict[str, float]:
        best = min(runs[name], key=lambda r: percentile(r[0], 99))
        return {
            "p50": percentile(best[0], 50),
            "p99": percentile(best[0], 99),
            "max": max(best[0]),
            "cpu_p50": percentile(best[1], 50),
            "cpu_p99": percentile(best[1], 99),
            "cpu_mean": statistics.mean(best[1]),
        }

    c, u, r = summary("compiled"), summary("unindexed"), summary("reference")
    load = os.getloadavg()
    lines = [
        f"- compiled (`rules.engine.matching_rules`, indexed RuleSet): wall-clock p50 **{c['p50']:.3f} ms**, "
        f"p99 **{c['p99']:.3f} ms**, max {c['max']:.3f} ms per event; CPU time p50 {c['cpu_p50']:.3f} ms, "
        f"p99 **{c['cpu_p99']:.3f} ms**, mean {c['cpu_mean']:.3f} ms (target p99 < 2 ms)",
        f"- the same compiled rules without the index: wall-clock p50 {u['p50']:.3f} ms, p99 {u['p99']:.3f} ms; "
        f"CPU p99 {u['cpu_p99']:.3f} ms, mean {u['cpu_mean']:.3f} ms",
        f"- baseline in the same run, the reference interpreter over the same rules and events: wall-clock p50 "
        f"{r['p50']:.3f} ms, p99 {r['p99']:.3f} ms; CPU p99 {r['cpu_p99']:.3f} ms, mean {r['cpu_mean']:.3f} ms; "
        f"compiled is **{r['cpu_p99'] / c['cpu_p99']:.1f}x** faster at the CPU p99 "
        f"({r['cpu_mean'] / c['cpu_mean']:.1f}x in mean CPU, {r['p99'] / c['p99']:.1f}x at the wall-clock p99)",
        f"- {args.rules:,} rules compiled in {compile_ms:.0f} ms; {args.events:,} events, "
        f"{statistics.mean(matched):.1f} rules matched per event on average (compiled == reference on every event); "
        f"best p99 of {args.repeat} runs, one process, one core",
        f"- machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}; "
        f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (shared with other agents' runs)",
    ]
    print("\n".join(lines))
    if args.append:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write(
                f"\n## Rules engine: 1,000 active rules per event (bench/rules.py, {stamp})\n\n"
                f"Command: `.venv/bin/python bench/rules.py --rules {args.rules} --events {args.events} "
                f"--repeat {args.repeat} --append` (in-process, no database: the evaluation the engine runs per "
                "event before applying what matched; the 2 cache-check queries and the snapshot queries "
                "are not included).\n\n" + "\n".join(lines) + "\n"
            )


if __name__ == "__main__":
    main()
