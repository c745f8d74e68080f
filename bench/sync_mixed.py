"""The sync engine on a mixed-platform feed (issue 12): the demo's fake marketplaces (eBay, Shopify,
Amazon, Shopee, TikTok Shop, AliExpress, Wish: aftersales/demo/fakes.py, each the platform's own
API shapes, signatures and pagination) seeded, then given `--ticks` rounds of new activity, served on
loopback; one worker process syncs every pulled stream of each of the seven stores once (real HTTP,
each platform's mapping, the whole pipeline). Reported per platform and in total: records, seconds,
records/s, SQL statements per record and the worker's CPU time per record.

  .venv/bin/python bench/ingest.py --platforms 200 [--pg postgres://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER = r"""
import json, sys, time
import django
django.setup()
from django.db import connection
from aftersales.catalog.models import Store
from aftersales.channels import sync as engine
from aftersales.channels.status import pull_streams

statements = 0

def count(execute, sql, params, many, context):
    global statements
    statements += 1
    return execute(sql, params, many, context)

rows = []
for store_id in json.loads(sys.argv[1]):
    store = Store.objects.get(pk=store_id)
    for stream in pull_streams(store):
        before, started, cpu = statements, time.perf_counter(), time.process_time()
        with connection.execute_wrapper(count):
            run = engine.sync_stream(store_id=store_id, stream=stream, sleep=lambda s: None)
        rows.append({
            "platform": store.platform, "stream": str(stream), "status": run.status, "error": run.error[:300],
            "records": run.records, "quarantined": run.quarantined, "seconds": time.perf_counter() - started,
            "cpu": time.process_time() - cpu, "statements": statements - before,
        })
print(json.dumps(rows))
"""


def run(args: argparse.Namespace) -> None:
    """Called by bench/ingest.py (which created the database and set the environment)."""
    import django

    django.setup()
    from django.core.management import call_command

    from aftersales.accounts.models import Organization
    from aftersales.catalog.models import Store
    from aftersales.demo.fakes import DEMO_STORES, DemoFakes, store_credentials

    call_command("migrate", verbosity=0)
    load_start = os.getloadavg()
    fakes = DemoFakes(seed=1).start(0)
    try:
        fakes.seed()
        for _ in range(args.platforms):
            fakes.tick()
        org = Organization.objects.create(name="Bench mixed platforms", slug="bench-mixed")
        stores = []
        for spec in DEMO_STORES:
            stores.append(
                Store.objects.create(
                    organization=org,
                    name=spec.name,
                    platform=spec.platform,
                    site=spec.site,
                    external_id=spec.external_id,
                    default_language=spec.language,
                    timezone=spec.timezone,
                    currency=spec.currency,
                    endpoint_url=fakes.urls[spec.key],
                    credentials=store_credentials(spec.platform),
                )
            )
        env = {**os.environ, "CHANNELS_ALLOW_ENDPOINT_OVERRIDE": "1", "PYTHONPATH": str(ROOT / "src")}
        out = subprocess.run(
            [sys.executable, "-c", WORKER, json.dumps([s.pk for s in stores])],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        fakes.stop()
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"load average at start {load_start}, at end {os.getloadavg()}; {args.platforms} ticks of demo activity")
    print("| platform | streams | records | quarantined | seconds | records/s | statements/record | CPU ms/record |")
    print("|---|---|--:|--:|--:|--:|--:|--:|")
    by_platform: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for row in rows:
        by_platform.setdefault(row["platform"], []).append(row)
        if row["status"] not in ("succeeded", "partial"):
            print(f"<!-- {row['platform']} {row['stream']}: {row['status']} {row['error']} -->")
    total = {"records": 0, "quarantined": 0, "seconds": 0.0, "cpu": 0.0, "statements": 0}
    for platform, items in by_platform.items():
        agg = {k: sum(r[k] for r in items) for k in total}
        for k in total:
            total[k] += agg[k]
        _line(platform, ", ".join(r["stream"] for r in items), agg)
    _line("**all seven**", "", total)


def _line(label: str, streams: str, agg: dict) -> None:  # type: ignore[type-arg]
    records = max(1, agg["records"])
    print(
        f"| {label} | {streams} | {agg['records']:,} | {agg['quarantined']} | {agg['seconds']:.1f} | "
        f"{agg['records'] / max(agg['seconds'], 1e-9):,.0f} | {agg['statements'] / records:.1f} | "
        f"{agg['cpu'] * 1000 / records:.2f} |"
    )
