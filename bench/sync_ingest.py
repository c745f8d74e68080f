"""The sync engine end to end (issue 9, acceptance): N mixed events (buyer messages, order updates,
returns and their status changes) served by the testshop fake platform on loopback (real HTTP, pages of
--page-size) and pulled by a worker process through the whole pipeline: PlatformClient (throttled),
raw store, mapping, apply (ingest, order upsert, return upsert with its ticket), cursor per page.

Reported: events/s over the whole run, p50/p99 per event (the time to store and process one record,
its share of the page fetch included), the worker's peak RSS, and, in the same run on the same
database, the raw bulk-insert rate of the same rows (RawEvent + Message / Order / ReturnRequest per
event through bulk_create in batches of 1,000): the engine's rate as a share of it.

  .venv/bin/python bench/ingest.py --events 100000                                    # SQLite
  .venv/bin/python bench/ingest.py --events 100000 --pg postgres://postgres@127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER = r"""
import json, resource, sys, time
import django
django.setup()
from aftersales.channels.tests import testshop
testshop.install()
from aftersales.channels import sync as engine

store_id = int(sys.argv[1])
durations = []
original = engine._process_row

def timed(*args, **kwargs):
    started = time.perf_counter()
    try:
        return original(*args, **kwargs)
    finally:
        durations.append(time.perf_counter() - started)

engine._process_row = timed
page_times = []
original_pull = engine._pull

def timed_pull(*args, **kwargs):
    started = time.perf_counter()
    try:
        return original_pull(*args, **kwargs)
    finally:
        page_times.append(time.perf_counter() - started)

engine._pull = timed_pull
started = time.perf_counter()
run = engine.sync_stream(store_id=store_id, stream="messages")
elapsed = time.perf_counter() - started
print(json.dumps({
    "status": run.status, "error": run.error, "records": run.records, "created": run.created,
    "updated": run.updated, "unchanged": run.unchanged, "quarantined": run.quarantined, "pages": run.pages,
    "elapsed": elapsed, "durations": durations, "pull_seconds": sum(page_times),
    "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""


def mixed_events(n: int, seed: int = 7) -> list[dict]:
    """Per 10 events: 6 buyer messages (threads of about 3 messages), 2 order versions (a new order,
    then updates of it), 2 return events (a new return, then status changes)."""
    rng = random.Random(seed)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    bodies = [
        "Hello, where is my parcel? It has been two weeks.",
        "The item arrived damaged, the screen is cracked. I want a refund.",
        "Bonjour, la taille ne correspond pas, puis-je l'échanger ?",
        "您好，我收到的颜色不对，请帮我换货。",
        "Hallo, das Paket ist nicht angekommen. Bitte um Rückerstattung.",
        "こんにちは、商品がまだ届いていません。",
    ]
    events: list[dict] = []
    orders: list[int] = []
    returns: list[tuple[int, int]] = []
    buyers = max(1, n // 18)
    i = 0
    while len(events) < n:
        slot = i % 10
        at = (t0 + timedelta(seconds=i)).isoformat()
        if slot < 6:
            b = rng.randrange(buyers)
            events.append(
                {
                    "id": f"m{i}",
                    "type": "message",
                    "body": bodies[rng.randrange(len(bodies))],
                    "sent_at": at,
                    "buyer": {"id": f"buyer-{b}", "name": f"Buyer {b}", "email": f"buyer{b}@example.com"},
                    "conversation": f"conv-{b}",
                    "order": f"O-{b}" if b in orders else None,
                }
            )
        elif slot < 8:
            if not orders or rng.random() < 0.5:
                o = len(orders)
                orders.append(o)
                status = "paid"
            else:
                o = orders[rng.randrange(len(orders))]
                status = rng.choice(["shipped", "delivered", "completed"])
            events.append(
                {
                    "id": f"o{i}",
                    "type": "order",
                    "order": f"O-{o}",
                    "placed_at": t0.isoformat(),
                    "updated_at": at,
                    "status": status,
                    "total": "49.90",
                    "buyer": {"id": f"buyer-{o % buyers}", "email": f"buyer{o % buyers}@example.com"},
                    "lines": [{"id": f"L{o}", "sku": f"SKU-{o % 50}", "qty": 1, "price": "49.90"}],
                    "shipments": [{"carrier": "dhl", "tracking": f"TRK{o}"}],
                }
            )
        else:
            if not returns or rng.random() < 0.5:
                r = len(returns)
                o = orders[rng.randrange(len(orders))] if orders else 0
                returns.append((r, o))
                status = "OPEN"
            else:
                r, o = returns[rng.randrange(len(returns))]
                status = rng.choice(["RMA_SENT", "ITEM_SHIPPED", "CLOSED"])
            events.append(
                {
                    "id": f"r{i}",
                    "type": "return",
                    "return": f"R-{r}",
                    "kind": "return",
                    "status": status,
                    "created_at": t0.isoformat(),
                    "updated_at": at,
                    "order": f"O-{o}",
                    "buyer": {"id": f"buyer-{o % buyers}"},
                    "reason": "DAMAGED",
                    "comment": "arrived broken",
                    "amount": "49.90",
                    "currency": "USD",
                }
            )
        i += 1
    return events


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def raw_bulk_insert(store, events: list[dict]) -> float:  # type: ignore[no-untyped-def]
    """The same rows through bulk_create (no mapping, no lookups, no locks): events per second."""
    from aftersales.catalog.models import Customer, Order
    from aftersales.channels.models import RawEvent
    from aftersales.inbox.models import Message, Ticket
    from aftersales.returns.models import ReturnRequest

    now = datetime.now(UTC)
    customer = Customer.objects.create(organization_id=store.organization_id, name="bulk")
    ticket = Ticket.objects.create(
        organization_id=store.organization_id, subject="bulk", store=store, platform=store.platform, customer=customer
    )
    started = time.perf_counter()
    for start in range(0, len(events), 1000):
        batch = events[start : start + 1000]
        RawEvent.objects.bulk_create(
            [
                RawEvent(
                    store=store,
                    stream="messages",
                    source="bulk",
                    event_id=f"bulk-{e['id']}",
                    payload=e,
                    received_at=now,
                )
                for e in batch
            ]
        )
        Message.objects.bulk_create(
            [
                Message(
                    ticket=ticket,
                    store=store,
                    direction="inbound",
                    channel=store.platform,
                    external_id=f"bulk-{e['id']}",
                    body=e["body"],
                )
                for e in batch
                if e["type"] == "message"
            ]
        )
        Order.objects.bulk_create(
            [
                Order(
                    organization_id=store.organization_id,
                    store=store,
                    external_id=f"bulk-{e['id']}",
                    placed_at=now,
                    status=e["status"],
                    total_amount=e["total"],
                )
                for e in batch
                if e["type"] == "order"
            ]
        )
        ReturnRequest.objects.bulk_create(
            [
                ReturnRequest(
                    organization_id=store.organization_id,
                    store=store,
                    external_id=f"bulk-{e['id']}",
                    kind="return",
                    platform_status=e["status"],
                    created_on_platform=now,
                )
                for e in batch
                if e["type"] == "return"
            ]
        )
    return len(events) / (time.perf_counter() - started)


def run(args: argparse.Namespace) -> None:
    """Called by bench/ingest.py (which created the database and set the environment)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from aftersales.accounts.models import Organization
    from aftersales.catalog.models import Order, Store
    from aftersales.channels.tests import testshop
    from aftersales.inbox.models import Message, Ticket
    from aftersales.returns.models import ReturnRequest

    call_command("migrate", verbosity=0)
    events = mixed_events(args.events)
    fake = testshop.TestShopFake()
    fake.page_size = args.page_size
    fake.add("messages", *events)
    org = Organization.objects.create(name="Bench sync")
    with fake.running():
        store = Store.objects.create(
            organization=org,
            name="Bench testshop",
            platform=testshop.PLATFORM,
            endpoint_url=fake.url,
            credentials={"token": testshop.TOKEN},
        )
        env = {**os.environ, "CHANNELS_ALLOW_ENDPOINT_OVERRIDE": "1", "PYTHONPATH": str(ROOT / "src")}
        out = subprocess.run(
            [sys.executable, "-c", WORKER, str(store.pk)], env=env, capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise SystemExit(out.stderr[-3000:])
        result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] != "succeeded":
        raise SystemExit(f"sync run {result['status']}: {result['error']}")
    durations = [d * 1000 for d in result["durations"]]
    pull_ms_per_event = result["pull_seconds"] * 1000 / max(1, len(durations))
    rate = result["records"] / result["elapsed"]
    bulk_store = Store.objects.create(organization=org, name="Bench bulk", platform=testshop.PLATFORM)
    bulk_rate = raw_bulk_insert(bulk_store, events)
    counts = {
        "tickets": Ticket.objects.filter(store=store).count(),
        "messages": Message.objects.filter(store=store).count(),
        "orders": Order.objects.filter(store=store).count(),
        "returns": ReturnRequest.objects.filter(store=store).count(),
    }
    print(
        f"database: {connection.vendor}; {args.events:,} events ({result['pages']} pages of {args.page_size}); "
        f"created {result['created']}, updated {result['updated']}, unchanged {result['unchanged']}, "
        f"quarantined {result['quarantined']}; rows: {counts}"
    )
    print("| path | events/s | p50 ms/event | p99 ms/event | worker peak RSS | share of raw insert |")
    print("|---|--:|--:|--:|--:|--:|")
    print(
        f"| sync engine (pull + raw + map + apply) | {rate:,.0f} | "
        f"{pct(durations, 0.5) + pull_ms_per_event:.2f} | {pct(durations, 0.99) + pull_ms_per_event:.2f} | "
        f"{result['peak_rss_kb'] / 1024:.0f} MB | {rate / bulk_rate:.0%} |"
    )
    print(f"| raw bulk_create of the same rows | {bulk_rate:,.0f} | | | | 100% |")
