"""Scaling of concurrent sync workers (issue 9): 1 worker, then N worker processes at once, then 1
worker again, each worker syncing the same mixed feed (bench/sync_ingest.py's events) from its own
testshop fake into its own store of its own organization, so the work per worker is the same and N
workers should give N times one worker's rate when nothing serialises them.

Reported per run: events/s and its ratio to the 1-worker runs around it, the workers' CPU per event,
their wall time per event spent inside SQL statements and commits, the time spent enqueueing
background jobs (Huey's storage), the PostgreSQL backends' CPU per event, and on PostgreSQL what the
workers' backends were doing, sampled from pg_stat_activity (and ungranted pg_locks) every 50 ms:
CPU, a lock wait on another worker's row (Lock:transactionid / tuple), LWLock, IO, or waiting on the
worker process (idle in transaction / idle). The 1-minute load average at each run's start and end.

  .venv/bin/python bench/sync_scale.py --events 3000 --workers 2 --pg postgres://postgres@127.0.0.1:5432
  .venv/bin/python bench/sync_scale.py --events 3000 --workers 2          # SQLite (a temporary file)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import bench_database  # noqa: E402  (bench/benchdb.py, next to this file)
from sync_ingest import WORKER, mixed_events  # noqa: E402  (bench/sync_ingest.py, next to this file)

# The worker script of bench/sync_ingest.py, with
# the time spent enqueueing background jobs (Huey's storage: a SQLite file shared by the workers when
# there is no Redis) added as a second JSON line.
SCALE_WORKER = (
    r"""
import json as _json, time as _time
import django as _django
_django.setup()
import huey.api as _huey_api
_enqueued = [0, 0.0]
_original_enqueue = _huey_api.Huey.enqueue
def _timed_enqueue(self, task):
    _started = _time.perf_counter()
    try:
        return _original_enqueue(self, task)
    finally:
        _enqueued[0] += 1
        _enqueued[1] += _time.perf_counter() - _started
_huey_api.Huey.enqueue = _timed_enqueue
"""
    + WORKER
    + r"""
print(_json.dumps({"enqueued": _enqueued[0], "enqueue_seconds": _enqueued[1]}))
"""
)


class WaitSampler:
    """Samples pg_stat_activity (and ungranted pg_locks) of the bench database every `interval`
    seconds from a thread of the parent, while workers run: what the workers' backends are doing
    (CPU = active without a wait event; Lock:transactionid / tuple = waiting on another worker's row;
    LWLock, IO; ClientRead = idle in transaction, waiting on the worker process itself)."""

    def __init__(self, exclude_pid: int, interval: float = 0.05) -> None:
        import threading
        from collections import Counter

        self.exclude_pid = exclude_pid
        self.interval = interval
        self.states: Counter[str] = Counter()
        self.locks: Counter[str] = Counter()
        self.samples = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg
        from django.db import connection

        s = connection.settings_dict
        conninfo = f"postgresql://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            while not self.stop_event.wait(self.interval):
                rows = conn.execute(
                    "SELECT state, coalesce(wait_event_type, ''), coalesce(wait_event, '') FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s "
                    "AND backend_type = 'client backend'",
                    (self.exclude_pid,),
                ).fetchall()
                blocked = conn.execute(
                    "SELECT l.locktype, coalesce(c.relname, ''), l.mode FROM pg_locks l "
                    "LEFT JOIN pg_class c ON c.oid = l.relation WHERE NOT l.granted"
                ).fetchall()
                self.samples += 1
                for state, wait_type, wait in rows:
                    if state == "active":
                        self.states[f"{wait_type}:{wait}" if wait_type else "active (CPU)"] += 1
                    elif state == "idle in transaction":
                        self.states["idle in transaction (the worker's turn)"] += 1
                    elif state == "idle":
                        self.states["idle (the worker outside a transaction)"] += 1
                    else:
                        self.states[state or "?"] += 1
                for locktype, relation, mode in blocked:
                    self.locks[f"{locktype} {relation} {mode}".strip()] += 1

    def __enter__(self) -> WaitSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join()

    def summary(self) -> str:
        total = max(1, sum(self.states.values()))
        states = ", ".join(f"{k} {v / total:.0%}" for k, v in self.states.most_common(8))
        locks = ", ".join(f"{k} x{v}" for k, v in self.locks.most_common(5)) or "none"
        return f"{self.samples} samples; backends: {states}; ungranted locks seen: {locks}"


def concurrent_runs(events: list[dict], workers: int, page_size: int, *, same_feed: bool = False) -> dict:  # type: ignore[type-arg]
    """`workers` worker processes at once, each syncing its own store (its own organization and fake):
    what several stores of a seller, or several sellers, get from one machine. Each worker gets its
    share of `events`, or with `same_feed` all of `events` (the same work per worker: N workers should
    give N times one worker's rate when nothing serialises them). Returns events/s over the wall-clock
    time from the first start to the last end, CPU per event, the database's waits (PostgreSQL:
    pg_stat_activity sampled during the run) and the per-phase times of the workers."""
    from contextlib import ExitStack, nullcontext

    from django.db import connection

    from aftersales.accounts.models import Organization
    from aftersales.catalog.models import Store
    from aftersales.channels.tests import testshop

    env = {**os.environ, "CHANNELS_ALLOW_ENDPOINT_OVERRIDE": "1", "PYTHONPATH": str(ROOT / "src")}
    share = len(events) if same_feed else -(-len(events) // workers)
    tag = f"{workers}-{time.monotonic_ns()}"
    with ExitStack() as stack:
        procs = []
        for k in range(workers):
            fake = testshop.TestShopFake()
            fake.page_size = page_size
            fake.add("messages", *(events if same_feed else events[k * share : (k + 1) * share]))
            stack.enter_context(fake.running())
            org = Organization.objects.create(name=f"Bench sync {k}", slug=f"bench-sync-w{tag}-{k}")
            store = Store.objects.create(
                organization=org,
                name=f"Bench worker {k}",
                platform=testshop.PLATFORM,
                endpoint_url=fake.url,
                credentials={"token": testshop.TOKEN},
            )
            procs.append((store, [sys.executable, "-c", SCALE_WORKER, str(store.pk), "batched", ""]))
        load_start = os.getloadavg()[0]
        sampler = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                sampler = WaitSampler(cursor.fetchone()[0])
        fake_cpu_started = time.process_time()
        with sampler or nullcontext():
            started = time.perf_counter()
            running = [
                subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _s, cmd in procs
            ]
            results = []
            for proc in running:
                out, err = proc.communicate()
                if proc.returncode != 0:
                    raise SystemExit(err[-3000:])
                lines = out.strip().splitlines()
                result = json.loads(lines[-2])
                result.update(json.loads(lines[-1]))
                results.append(result)
            elapsed = time.perf_counter() - started
        parent_cpu = time.process_time() - fake_cpu_started
    records = sum(r["records"] for r in results)
    if any(r["status"] != "succeeded" for r in results):
        raise SystemExit(f"a concurrent sync run failed: {[r['error'] for r in results]}")
    n = max(1, records)

    def per_event(name: str, index: int) -> float:
        return sum((r.get("phases") or {}).get(name, [0.0, 0.0])[index] for r in results) * 1000 / n

    backend = [r.get("backend_cpu") for r in results]
    return {
        "workers": workers,
        "records": records,
        "elapsed": elapsed,
        "rate": records / elapsed,
        "cpu_ms": sum(r["cpu"] for r in results) * 1000 / n,
        "wall_ms": sum(r["elapsed"] for r in results) * 1000 / n,  # summed over workers
        "db_ms": per_event("db", 0),
        "commit_ms": per_event("commit", 0),
        "pull_ms": per_event("pull", 0),
        "enqueue_ms": sum(r.get("enqueue_seconds", 0.0) for r in results) * 1000 / n,
        "backend_ms": None if None in backend else sum(backend) * 1000 / n,  # type: ignore[arg-type]
        "parent_cpu_ms": parent_cpu * 1000 / n,
        "statements": sum(r["statements"] for r in results) / n,
        "rss": max(r["peak_rss_kb"] for r in results) / 1024,
        "load": (load_start, os.getloadavg()[0]),
        "waits": sampler.summary() if sampler is not None else "",
    }


def scaling_rows(events: list[dict], workers: int, page_size: int, rounds: int = 1) -> list[dict]:  # type: ignore[type-arg]
    """1 worker, then `workers` at once, then 1 worker again (`rounds` times), each worker with the
    same feed `events` in its own store: the N-worker rate against the 1-worker rates around it."""
    rows = []
    for _round in range(rounds):
        rows.append(concurrent_runs(events, 1, page_size, same_feed=True))
        rows.append(concurrent_runs(events, workers, page_size, same_feed=True))
    rows.append(concurrent_runs(events, 1, page_size, same_feed=True))
    return rows


def print_scaling(rows: list[dict]) -> None:  # type: ignore[type-arg]
    print(
        "| workers | events | load 1-min start / end | events/s | x one worker | worker CPU ms/event | "
        "worker wall ms/event | in statements ms/event | commits ms/event | Huey enqueue ms/event | "
        "PostgreSQL backend CPU ms/event | statements/event |"
    )
    print("|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for i, r in enumerate(rows):
        ones = [x["rate"] for x in rows[max(0, i - 1) : i + 2] if x["workers"] == 1]
        ratio = r["rate"] / (sum(ones) / len(ones)) if r["workers"] > 1 and ones else 1.0
        backend = f"{r['backend_ms']:.2f}" if r["backend_ms"] is not None else ""
        print(
            f"| {r['workers']} | {r['records']:,} | {r['load'][0]:.1f} / {r['load'][1]:.1f} | {r['rate']:,.0f} | "
            f"{ratio:.2f} | {r['cpu_ms']:.2f} | {r['wall_ms']:.2f} | {r['db_ms']:.2f} | {r['commit_ms']:.2f} | "
            f"{r['enqueue_ms']:.3f} | {backend} | {r['statements']:.1f} |"
        )
    for r in rows:
        if r["waits"]:
            print(f"  {r['workers']} worker(s): {r['waits']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", help="PostgreSQL server URL (without database); default: SQLite")
    parser.add_argument("--events", type=int, default=3000, help="events per worker")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1, help="1 / N worker pairs before the last 1-worker run")
    args = parser.parse_args()

    with bench_database(args.pg, "scale"):
        from django.db import connection

        events = mixed_events(args.events)
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        print(
            f"database: {connection.vendor}; {args.events:,} events per worker, pages of {args.page_size}; "
            f"nproc {os.cpu_count()}; HEAD {head.stdout.strip()} (+ the working tree)"
        )
        print_scaling(scaling_rows(events, args.workers, args.page_size, args.rounds))


if __name__ == "__main__":
    main()
