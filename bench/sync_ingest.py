"""The sync engine end to end (issue 9, acceptance): N mixed events (buyer messages, order updates,
returns and their status changes) served by the testshop fake platform on loopback (real HTTP, pages of
--page-size) and pulled by a worker process through the whole pipeline: PlatformClient (throttled),
raw store, mapping, apply (ingest, order upsert, return upsert with its ticket), cursor per page.

Reported: events/s over the whole run, p50/p99 per event (a page's time, fetch included, divided
by its records: what one event costs), p99 of the page latency (how long an event waits from its
page's fetch to its commit), SQL statements per event (every statement the worker sends, counted
with connection.execute_wrapper), the worker's peak RSS, and, in the same run on the same database,
the raw bulk-insert rate of the same rows (RawEvent + Message / Order / ReturnRequest per event
through bulk_create in batches of 1,000): the engine's rate as a share of it.

--compare N also runs the first N events record by record (CHANNELS_SYNC_BATCH_MESSAGES off: a
savepoint per record, no message_ingest_many) on another store of the same database, before the
run as shipped. --profile FILE writes the worker's cProfile stats (CPU time; sort by cumulative time); --statements FILE
the worker's statements (SQL text with its placeholder lists shortened) with their calls, wall and worker CPU
seconds as JSON, the slowest first (the wall time of a statement is mostly the PostgreSQL backend's).

  .venv/bin/python bench/ingest.py --events 100000                                    # SQLite
  .venv/bin/python bench/ingest.py --events 100000 --pg postgres://postgres@127.0.0.1:5432
  .venv/bin/python bench/ingest.py --events 10000 --compare 2000 --pg postgres://postgres@127.0.0.1:5432
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
from django.conf import settings
from django.db import connection
from aftersales.channels.tests import testshop
testshop.install()
from aftersales.channels import sync as engine

def peak_rss_kb():
    # VmHWM: this process image's peak. ru_maxrss is not reset by exec on Linux: it would report the
    # parent's size at fork (the benchmark's parent holds all the events) when that is larger.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

store_id = int(sys.argv[1])
settings.CHANNELS_SYNC_BATCH_MESSAGES = sys.argv[2] == "batched"
pages = []  # (seconds, records) per page: pull + receive_records
statements = 0

statements_path = sys.argv[4] if len(sys.argv) > 4 else ""
by_statement = {}  # with --statements: normalised SQL text -> [calls, wall seconds, worker CPU seconds]
import re
_PLACEHOLDERS = re.compile(r"(%s|\?)(, *(%s|\?))+")

def count(execute, sql, params, many, context):
    global statements
    statements += 1
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        return execute(sql, params, many, context)
    finally:
        spent_wall, spent_cpu = time.perf_counter() - wall, time.process_time() - cpu
        phases["db"][0] += spent_wall
        phases["db"][1] += spent_cpu
        if statements_path:
            entry = by_statement.setdefault(_PLACEHOLDERS.sub("%s, ...", sql), [0, 0.0, 0.0])
            entry[0] += 1
            entry[1] += spent_wall
            entry[2] += spent_cpu

original_pull = engine._pull
original_receive = engine.receive_records
pending = {}

def timed_pull(*args, **kwargs):
    pending["started"] = time.perf_counter()
    return original_pull(*args, **kwargs)

def rss_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

rss = []  # the worker's resident size after each page (kB)

def timed_receive(*args, **kwargs):
    outcomes = original_receive(*args, **kwargs)
    pages.append((time.perf_counter() - pending.pop("started", time.perf_counter()), len(outcomes)))
    rss.append(rss_kb())
    return outcomes

engine._pull = timed_pull
engine.receive_records = timed_receive

# Where the wall-clock time goes (wall and CPU seconds per phase; the database time is the wall time
# spent inside statements and commits, as the worker sees it; the PostgreSQL backend's own CPU from
# /proc of its pid, when it runs on this machine).
phases = {name: [0.0, 0.0] for name in ("pull", "store_raw", "process_page", "db", "commit")}

def timed(name, function):
    def wrapper(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            phases[name][0] += time.perf_counter() - wall
            phases[name][1] += time.process_time() - cpu
    return wrapper

engine._pull = timed("pull", engine._pull)
engine._store_raw = timed("store_raw", engine._store_raw)
engine._process_page = timed("process_page", engine._process_page)
connection.ensure_connection()
connection.commit = timed("commit", connection.commit)

def backend_cpu():
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None

import os
# What the Huey worker does before its first task (core/tasks.freeze_startup_heap, ADR 0046): the start-up
# heap moved to the collector's permanent generation, so that full collections skip it.
import gc
gc.collect()
gc.freeze()
gc_passes = [0, 0.0]  # the collector's passes during the run and their CPU seconds
_gc_started = [0.0]

def gc_timed(phase, info):
    if phase == "start":
        _gc_started[0] = time.process_time()
    else:
        gc_passes[0] += 1
        gc_passes[1] += time.process_time() - _gc_started[0]

gc.callbacks.append(gc_timed)
if os.environ.get("BENCH_GC_THRESHOLD"):  # (an experiment: the young generation's threshold)
    gc.set_threshold(int(os.environ["BENCH_GC_THRESHOLD"]), *gc.get_threshold()[1:])
if os.environ.get("BENCH_WAIT_GO"):
    # Several workers at once: each says it is set up and waits for the parent's word, so the timed part
    # starts when all have started (a Huey worker is started once, not per sync run: bench/RESULTS.md).
    print("ready", flush=True)
    sys.stdin.readline()
backend_started = backend_cpu()
profile_path = sys.argv[3] if len(sys.argv) > 3 else ""
if profile_path:
    import cProfile
    profiler = cProfile.Profile(time.process_time)  # CPU time: on a shared machine waits would swamp it
    profiler.enable()
started = time.perf_counter()
cpu_started = time.process_time()
with connection.execute_wrapper(count):
    run = engine.sync_stream(store_id=store_id, stream="messages")
elapsed = time.perf_counter() - started
cpu = time.process_time() - cpu_started
backend_ended = backend_cpu()
if profile_path:
    profiler.disable()
    profiler.dump_stats(profile_path)
if statements_path:
    with open(statements_path, "w") as out:
        json.dump(sorted(([*v, k] for k, v in by_statement.items()), reverse=True, key=lambda e: e[1]), out, indent=0)
print(json.dumps({
    "status": run.status, "error": run.error, "records": run.records, "created": run.created,
    "updated": run.updated, "unchanged": run.unchanged, "quarantined": run.quarantined, "pages": run.pages,
    "elapsed": elapsed, "page_times": pages, "statements": statements,
    "peak_rss_kb": peak_rss_kb(), "rss_pages_kb": rss, "cpu": cpu, "phases": phases, "gc": gc_passes,
    "backend_cpu": None if backend_started is None or backend_ended is None else backend_ended - backend_started,
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


def sync_run(  # type: ignore[no-untyped-def]
    org, events: list[dict], page_size: int, mode: str, name: str, profile: str = "", statements: str = ""
) -> dict:
    """A worker process syncs `events` from a fresh testshop fake into a new store; its figures."""
    from aftersales.catalog.models import Store
    from aftersales.channels.tests import testshop

    fake = testshop.TestShopFake()
    fake.page_size = page_size
    fake.add("messages", *events)
    with fake.running():
        store = Store.objects.create(
            organization=org,
            name=name,
            platform=testshop.PLATFORM,
            endpoint_url=fake.url,
            credentials={"token": testshop.TOKEN},
        )
        env = {**os.environ, "CHANNELS_ALLOW_ENDPOINT_OVERRIDE": "1", "PYTHONPATH": str(ROOT / "src")}
        fake_cpu_started = time.process_time()  # this process only serves the fake while the worker runs
        out = subprocess.run(
            [sys.executable, "-c", WORKER, str(store.pk), mode, profile, statements],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise SystemExit(out.stderr[-3000:])
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["fake_cpu"] = time.process_time() - fake_cpu_started
    if result["status"] != "succeeded":
        raise SystemExit(f"sync run {result['status']}: {result['error']}")
    result["store"] = store
    return result


def concurrent_runs(events: list[dict], workers: int, page_size: int) -> dict:  # type: ignore[type-arg]
    """`workers` worker processes at once, each syncing its own store (its own organization, fake and
    share of `events`): what several stores of a seller, or several sellers, get from one machine.
    Returns events/s over the wall-clock time from the moment all are set up (each process started, Django
    set up, its start-up heap frozen as the Huey worker does before its first task) to the last end, the same
    from the first spawn (start-up included: ~2 s of CPU per process), and CPU per event."""
    from contextlib import ExitStack

    from aftersales.accounts.models import Organization
    from aftersales.catalog.models import Store
    from aftersales.channels.tests import testshop

    env = {**os.environ, "CHANNELS_ALLOW_ENDPOINT_OVERRIDE": "1", "PYTHONPATH": str(ROOT / "src")}
    share = -(-len(events) // workers)
    with ExitStack() as stack:
        procs = []
        for k in range(workers):
            fake = testshop.TestShopFake()
            fake.page_size = page_size
            fake.add("messages", *events[k * share : (k + 1) * share])
            stack.enter_context(fake.running())
            org = Organization.objects.create(name=f"Bench sync {k}", slug=f"bench-sync-w{workers}-{k}")
            store = Store.objects.create(
                organization=org,
                name=f"Bench worker {k}",
                platform=testshop.PLATFORM,
                endpoint_url=fake.url,
                credentials={"token": testshop.TOKEN},
            )
            procs.append((store, [sys.executable, "-c", WORKER, str(store.pk), "batched", ""]))
        spawned = time.perf_counter()
        running = [
            subprocess.Popen(
                cmd,
                env={**env, "BENCH_WAIT_GO": "1"},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _s, cmd in procs
        ]
        for proc in running:  # each worker set up (Django, modules, connection): then all start at once
            assert proc.stdout is not None
            line = "-"
            while line and line.strip() != "ready":
                line = proc.stdout.readline()
            if not line:
                raise SystemExit(proc.communicate()[1][-3000:])
        started = time.perf_counter()
        fake_cpu_started = time.process_time()  # this process serves the fakes while the workers run
        for proc in running:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in running:
            out, err = proc.communicate()
            if proc.returncode != 0:
                raise SystemExit(err[-3000:])
            results.append(json.loads(out.strip().splitlines()[-1]))
        ended = time.perf_counter()
        elapsed = ended - started
        fake_cpu = time.process_time() - fake_cpu_started
    records = sum(r["records"] for r in results)
    if any(r["status"] != "succeeded" for r in results):
        raise SystemExit(f"a concurrent sync run failed: {[r['error'] for r in results]}")
    return {
        "rate": records / elapsed,
        "rate_from_spawn": records / (ended - spawned),
        "cpu_ms": sum(r["cpu"] for r in results) * 1000 / max(1, records),
        "backend_cpu_ms": (
            None
            if any(r.get("backend_cpu") is None for r in results)
            else sum(r["backend_cpu"] for r in results) * 1000 / max(1, records)
        ),
        "fake_cpu_ms": fake_cpu * 1000 / max(1, records),
        "each": [
            (r["records"], r["elapsed"], r["statements"] / max(1, r["records"]), r["cpu"] * 1000 / max(1, r["records"]))
            for r in results
        ],
        "statements": sum(r["statements"] for r in results) / max(1, records),
        "rss": max(r["peak_rss_kb"] for r in results) / 1024,
    }


def rss_profile(result: dict) -> str:  # type: ignore[type-arg]
    """The worker's resident size sampled after each page: where it peaks and how it grows."""
    samples = [kb / 1024 for kb in result.get("rss_pages_kb") or []]
    if not samples:
        return "no per-page samples"
    peak = max(range(len(samples)), key=samples.__getitem__)
    marks = sorted(
        {0, len(samples) // 10, len(samples) // 4, len(samples) // 2, 3 * len(samples) // 4, len(samples) - 1}
    )
    along = ", ".join(f"page {i + 1}: {samples[i]:.0f}" for i in marks)
    return (
        f"peak {samples[peak]:.0f} MB after page {peak + 1} of {len(samples)} "
        f"(VmHWM {result['peak_rss_kb'] / 1024:.0f} MB); MB along the run: {along}"
    )


def figures(result: dict) -> dict:  # type: ignore[type-arg]
    per_event = []
    for seconds, records in result["page_times"]:
        per_event += [seconds * 1000 / max(1, records)] * records
    latencies = [seconds * 1000 for seconds, _records in result["page_times"]]
    return {
        "rate": result["records"] / result["elapsed"],
        "p50": pct(per_event, 0.5),
        "p99": pct(per_event, 0.99),
        "page_p99": pct(latencies, 0.99),
        "statements": result["statements"] / max(1, result["records"]),
        "rss": result["peak_rss_kb"] / 1024,
        # The worker's own CPU (user + sys) per event: the load-independent figure on a shared
        # machine (the fake platform serving the pages runs in the parent, the database apart).
        "cpu_ms": result.get("cpu", 0.0) * 1000 / max(1, result["records"]),
    }


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
    load_start = os.getloadavg()
    events = mixed_events(args.events)
    rows = []
    before: dict = {}
    if getattr(args, "compare", 0):
        before_org = Organization.objects.create(name="Bench sync, record by record", slug="bench-before")
        before = sync_run(before_org, events[: args.compare], args.page_size, "single", "Bench before")
        rows.append((f"record by record (before), {args.compare:,} events", figures(before)))
    org = Organization.objects.create(name="Bench sync", slug="bench-sync")
    result = sync_run(
        org,
        events,
        args.page_size,
        "batched",
        "Bench testshop",
        getattr(args, "profile", "") or "",
        getattr(args, "statements", "") or "",
    )
    store = result["store"]
    rows.append((f"pages as shipped (batched, no savepoint on a clean page), {args.events:,} events", figures(result)))
    concurrent = concurrent_runs(events, args.workers, args.page_size) if getattr(args, "workers", 1) > 1 else None
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
    print(f"load average (1, 5, 15 min) at start {load_start}, at end {os.getloadavg()}")
    print(
        "| path | events/s | p50 ms/event | p99 ms/event | p99 page latency ms | statements/event "
        "| worker CPU ms/event | worker peak RSS | share of raw insert |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for label, f in rows:
        print(
            f"| {label} | {f['rate']:,.0f} | {f['p50']:.2f} | {f['p99']:.2f} | {f['page_p99']:.0f} | "
            f"{f['statements']:.2f} | {f['cpu_ms']:.2f} | {f['rss']:.0f} MB | {f['rate'] / bulk_rate:.1%} |"
        )
    if concurrent is not None:
        print(
            f"| {args.workers} workers at once, one store each ({args.events:,} events in all) "
            f"| {concurrent['rate']:,.0f} "
            f"| | | | {concurrent['statements']:.2f} | {concurrent['cpu_ms']:.2f} | {concurrent['rss']:.0f} MB "
            f"| {concurrent['rate'] / bulk_rate:.1%} |"
        )
        print(
            f"| (the same, counted from the workers' spawn, their ~2 s of start-up included) "
            f"| {concurrent['rate_from_spawn']:,.0f} | | | | | | | {concurrent['rate_from_spawn'] / bulk_rate:.1%} |"
        )
    print(f"| raw bulk_create of the same rows | {bulk_rate:,.0f} | | | | | | | 100% |")
    if concurrent is not None:
        backend = concurrent["backend_cpu_ms"]
        print(
            f"{args.workers} workers, CPU per event (ms): workers {concurrent['cpu_ms']:.2f}, "
            f"PostgreSQL backends {'-' if backend is None else f'{backend:.2f}'}, "
            f"fake platforms {concurrent['fake_cpu_ms']:.2f}"
        )
        print(
            "  each worker (records, seconds, statements/event, CPU ms/event): "
            + "; ".join(f"{n:,}, {t:.1f} s, {st:.2f}, {c:.2f}" for n, t, st, c in concurrent["each"])
        )
    print()
    print(f"Worker RSS per page (as shipped): {rss_profile(result)}")
    print()
    print("Where the worker's wall-clock time went (ms per event: wall / worker CPU):")
    for label, run_result in [("pages as shipped", result), *([("record by record", before)] if rows[:-1] else [])]:
        n = max(1, run_result["records"])
        ph = run_result.get("phases") or {}
        parts = [f"total {run_result['elapsed'] * 1000 / n:.2f} / {run_result['cpu'] * 1000 / n:.2f}"]
        for name in ("pull", "store_raw", "process_page", "db", "commit"):
            if name in ph:
                parts.append(f"{name} {ph[name][0] * 1000 / n:.2f} / {ph[name][1] * 1000 / n:.2f}")
        accounted = sum(ph[k][0] for k in ("pull", "store_raw", "process_page") if k in ph)
        parts.append(f"other (cursor, run rows) {(run_result['elapsed'] - accounted) * 1000 / n:.2f}")
        parts.append(f"fake platform CPU {run_result['fake_cpu'] * 1000 / n:.2f}")
        if run_result.get("gc"):
            parts.append(f"garbage collection {run_result['gc'][1] * 1000 / n:.2f} ({run_result['gc'][0]} passes)")
        if run_result.get("backend_cpu") is not None:
            parts.append(f"PostgreSQL backend CPU {run_result['backend_cpu'] * 1000 / n:.2f}")
        print(f"  {label}: " + "; ".join(parts))
