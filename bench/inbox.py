"""Inbox latency benchmark on PostgreSQL.

Creates a throwaway database (aftersales_bench_<pid>), migrates it, loads N demo tickets with the
demo generator (default 1,000,000), runs VACUUM ANALYZE, then measures the p50/p95 latency of the
inbox API's first page for each single filter and of the ticket detail, as an admin and as a scoped
agent (li.na: Shopee + AliExpress/TikTok teams), through the real request path:

  --via http      GET /api/v1/tickets?... with a Bearer token against gunicorn (1 worker, 1 thread)
  --via client    the same requests through django.test.Client (the whole Django/ninja stack, no socket)
  --via selector  inbox.selectors.ticket_page + JSON serialisation (no HTTP layer)

Machines are noisy, so every figure is compared with baselines measured in the same run, in the
same interleaved rounds: a `SELECT 1` round trip, GET /health, and the unfiltered first page.
Warm-up rounds are excluded. The database is dropped at the end unless --keep.

  .venv/bin/python bench/inbox.py --tickets 100000
  .venv/bin/python bench/inbox.py --db aftersales_bench_1m --keep          # seed once, keep it
  .venv/bin/python bench/inbox.py --db aftersales_bench_1m --reuse --keep  # migrate + measure again
  .venv/bin/python bench/inbox.py ... --explain                            # EXPLAIN (ANALYZE) per filter
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

TARGET_P95_MS = 50.0
SCOPED_AGENT = "li.na"
SLOW_SAMPLES = 3


@dataclass
class Case:
    name: str
    params: dict[str, str] = field(default_factory=dict)
    detail: int | None = None  # ticket id: GET /tickets/{id} instead of the list
    kind: str = "list"  # list | detail | select1 | health


@dataclass
class Sample:
    times: list[float] = field(default_factory=list)
    rows: int | None = None
    queries: int | None = None
    slow: bool = False  # over --slow-ms: measured SLOW_SAMPLES times only

    def pct(self, p: int) -> float:
        if len(self.times) < 2:
            return self.times[0] if self.times else float("nan")
        return statistics.quantiles(self.times, n=100, method="inclusive")[p - 1]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", default=os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", help="database name (default aftersales_bench_<pid>)")
    parser.add_argument("--reuse", action="store_true", help="use the existing --db: migrate and measure, no seeding")
    parser.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--via", choices=("http", "client", "selector"), default="http")
    parser.add_argument("--repeat", type=int, default=200, help="measured rounds (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up rounds, not measured (default 20)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) of each filter")
    parser.add_argument(
        "--slow-ms", type=float, default=2000, help=f"requests slower than this are measured {SLOW_SAMPLES} times only"
    )
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument(
        "--only", help="measure only the cases whose name contains this text (the baselines are always measured)"
    )
    args = parser.parse_args()
    if args.reuse and not args.db:
        parser.error("--reuse needs --db")
    args.db = args.db or f"aftersales_bench_{os.getpid()}"
    if not args.db.startswith("aftersales_bench_"):
        parser.error("--db must start with aftersales_bench_ (the benchmark drops it)")
    return args


def admin_sql(pg: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def setup_django(args: argparse.Namespace, var_dir: str) -> None:
    os.environ.update(
        DATABASE_URL=f"{args.pg}/{args.db}",
        DJANGO_SETTINGS_MODULE="aftersales.settings.production",
        # Fixed, so that --reuse can decrypt what an earlier run encrypted (demo store credentials).
        SECRET_KEY=os.environ.get("SECRET_KEY") or "aftersales-bench-not-a-secret-" + "x" * 30,
        AFTERSALES_VAR_DIR=var_dir,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DB_CONN_MAX_AGE="600",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


def seed(args: argparse.Namespace) -> dict[str, Any]:
    from aftersales.demo.generator import Progress, generate

    every = max(args.tickets // 10, 1)
    marks = {"next": every}

    def report(p: Progress) -> None:
        if p.done >= marks["next"] or p.done == p.total:
            marks["next"] = p.done + every
            print(f"  seeded {p.done:>10,}/{p.total:,}  {p.rate:,.0f} tickets/s  {p.rows / p.seconds:,.0f} rows/s")

    result = generate(tickets=args.tickets, seed=args.seed, batch_size=args.batch_size, progress=report, bulk_load=True)
    rows = sum(result.rows.values())
    per_second = rows / result.seconds
    print(f"  seeding: {result.seconds:,.1f}s, {result.rate:,.0f} tickets/s, {rows:,} rows ({per_second:,.0f}/s)")
    print("  phases: " + ", ".join(f"{k} {v:,.1f}s" for k, v in result.phases.items()))
    return {"seconds": result.seconds, "rate": result.rate, "rows": rows, "phases": result.phases}


def vacuum_analyze() -> float:
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return time.monotonic() - started


def build_cases() -> tuple[list[Case], dict[str, Any]]:
    """The filters an agent uses, with values taken from the data (deterministic for a seed)."""
    from django.db.models import Count
    from django.utils import timezone

    from aftersales.accounts.models import Team, User
    from aftersales.catalog.models import Store
    from aftersales.inbox.models import Ticket

    agent = User.objects.get(username=SCOPED_AGENT)
    shopee_br = Store.objects.get(site="shopee.com.br")
    shopee_team = Team.objects.get(name="Shopee team")
    sample = Ticket.objects.filter(platform="shopee", order__isnull=False).order_by("id")
    order_ticket = sample[sample.count() // 2]
    detail = (
        Ticket.objects.filter(pk__in=Ticket.objects.filter(assignee=agent).order_by("id").values("pk")[:500])
        .annotate(n=Count("messages"))
        .order_by("-n", "id")
        .first()
    )
    week_ago = (timezone.now() - timedelta(days=7)).replace(microsecond=0).isoformat()
    cases = [
        Case("SELECT 1 (round trip)", kind="select1"),
        Case("GET /health", kind="health"),
        Case("unfiltered (baseline)"),
        Case("platform=aliexpress", {"platform": "aliexpress"}),
        Case(f"store={shopee_br.pk} (Shopee BR)", {"store": str(shopee_br.pk)}),
        Case("status=open", {"status": "open"}),
        Case("status_category=waiting", {"status_category": "waiting"}),
        Case("urgency=high", {"urgency": "high"}),
        Case("category=warranty_repair", {"category": "warranty_repair"}),
        Case("customer_tier=vip", {"customer_tier": "vip"}),
        Case("language=de", {"language": "de"}),
        Case("sku=SZG-EB-PRO2-BLK", {"sku": "SZG-EB-PRO2-BLK"}),
        Case("assignee=me", {"assignee": "me"}),
        Case(f"team={shopee_team.pk} (Shopee team)", {"team": str(shopee_team.pk)}),
        Case("tag=customs", {"tag": "customs"}),
        Case("unreplied=true", {"unreplied": "true"}),
        Case("high_priority=true", {"high_priority": "true"}),
        Case("created_after=7 days ago", {"created_after": week_ago}),
        Case("q=<order number>", {"q": order_ticket.order.external_id}),
        Case("q=<customer full name>", {"q": order_ticket.customer.name}),
        Case("q=Oliveira (a common surname)", {"q": "Oliveira"}),
        Case("q=退款 (2 characters)", {"q": "退款"}),
        Case("q=退 (1 character)", {"q": "退"}),
        Case("q=<order number prefix>", {"q": order_ticket.order.external_id[:9]}),
        Case("q=tracking number (2 common words)", {"q": "tracking number"}),
        Case("q=Olive (a name prefix)", {"q": "Olive"}),
        Case(f"detail /tickets/{detail.pk}", detail=detail.pk, kind="detail"),
    ]
    info = {"order_ticket": order_ticket.pk, "customer": order_ticket.customer.name, "detail_messages": detail.n}
    return cases, info


class Runner:
    """Runs one request for (user, case) through the chosen path; returns the number of rows."""

    def __init__(self, via: str, tokens: dict[str, str], users: dict[str, Any], base_url: str | None) -> None:
        self.via = via
        self.tokens = tokens
        self.users = users
        self.base_url = base_url
        if via == "http":
            import httpx

            self.http = httpx.Client(base_url=base_url, timeout=900)
        else:
            from django.test import Client

            self.client = Client()

    def path(self, case: Case) -> str:
        if case.kind == "health":
            return "/health"
        if case.kind == "detail":
            return f"/api/v1/tickets/{case.detail}"
        return "/api/v1/tickets" + (("?" + urlencode(case.params)) if case.params else "")

    def __call__(self, who: str, case: Case) -> int:
        if case.kind == "select1":
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
            return 1
        if self.via == "selector" and case.kind != "health":
            return self._selector(who, case)
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        if self.via == "http":
            response = self.http.get(self.path(case), headers=headers)
            status, body = response.status_code, response.json()
        else:
            response = self.client.get(self.path(case), headers=headers)
            status, body = response.status_code, response.json()
        if status != 200:
            raise RuntimeError(f"{who} {case.name}: HTTP {status} {body}")
        return len(body.get("items", ())) if case.kind == "list" else len(body.get("timeline", ()))

    def _selector(self, who: str, case: Case) -> int:
        import json

        from django.core.serializers.json import DjangoJSONEncoder

        from aftersales.inbox.selectors import parse_ticket_filters, ticket_detail, ticket_page

        user = self.users[who]
        user.__dict__.pop("_team_scopes", None)  # per request, like a fresh request user
        if case.kind == "detail":
            d = ticket_detail(user, case.detail)
            rows = [(e.kind, e.at, e.message.body if e.message else e.event.payload) for e in d.timeline]
            json.dumps(rows, cls=DjangoJSONEncoder)
            return len(rows)
        page = ticket_page(user, parse_ticket_filters(case.params))
        items = [
            {"id": t.pk, "subject": t.subject, "status": t.status, "store": t.store.name, "customer": t.customer.name,
             "assignee": t.assignee.username if t.assignee else None, "updated_at": t.updated_at}
            for t in page.tickets
        ]  # fmt: skip
        json.dumps({"items": items, "next_cursor": page.next_cursor}, cls=DjangoJSONEncoder)
        return len(items)


def count_queries(who: str, case: Case, tokens: dict[str, str]) -> int | None:
    if case.kind in ("select1", "health"):
        return None
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    path = Runner.path(None, case)  # type: ignore[arg-type]
    with CaptureQueriesContext(connection) as ctx:
        Client().get(path, headers={"Authorization": f"Bearer {tokens[who]}"})
    return len(ctx.captured_queries)


@contextlib.contextmanager
def gunicorn_server() -> Iterator[str]:
    import httpx

    port = 18000 + os.getpid() % 1000
    app = "wsgi_bench:application"
    command = [
        str(Path(sys.executable).parent / "gunicorn"), app, "--pythonpath", str(ROOT / "bench"),
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "1", "--timeout", "900", "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(command, env=dict(os.environ), cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure(
    cases: list[Case], run: Callable[[str, Case], int], args: argparse.Namespace
) -> dict[tuple[str, str], Sample]:
    who_cases = [
        (who, c)
        for who in ("admin", SCOPED_AGENT)
        for c in cases
        if not (c.kind in ("select1", "health") and who != "admin")
    ]
    samples = {(who, c.name): Sample() for who, c in who_cases}
    order = list(who_cases)
    shuffle = random.Random(0)
    started = time.monotonic()
    for round_no in range(args.warmup + args.repeat):
        shuffle.shuffle(order)
        for who, case in order:
            sample = samples[(who, case.name)]
            if sample.slow and (round_no < args.warmup or len(sample.times) >= SLOW_SAMPLES):
                continue  # a request slower than --slow-ms: a few samples tell the story
            t = time.perf_counter()
            rows = run(who, case)
            elapsed = (time.perf_counter() - t) * 1000
            sample.slow = sample.slow or elapsed > args.slow_ms
            if round_no >= args.warmup or (sample.slow and not sample.times):
                sample.times.append(elapsed)
                sample.rows = rows
        if round_no in (args.warmup - 1, args.warmup + args.repeat // 2):
            print(f"  round {round_no + 1}/{args.warmup + args.repeat} ({time.monotonic() - started:,.0f}s)")
    return samples


def print_table(cases: list[Case], samples: dict[tuple[str, str], Sample]) -> None:
    base = {who: samples[(who, "unfiltered (baseline)")] for who in ("admin", SCOPED_AGENT)}
    print()
    print(f"| case | admin p50 | admin p95 | {SCOPED_AGENT} p50 | {SCOPED_AGENT} p95 | "
          "p95 / baseline (admin, agent) | rows (admin, agent) | queries |")  # fmt: skip
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    for case in cases:
        cells = [case.name]
        ratios, rows = [], []
        queries = ""
        for who in ("admin", SCOPED_AGENT):
            s = samples.get((who, case.name))
            if s is None:
                cells += ["", ""]
                continue
            p95 = s.pct(95)
            flag = " ⚠" if p95 > TARGET_P95_MS else ""
            flag += f" (n={len(s.times)})" if s.slow else ""
            cells += [f"{s.pct(50):.1f}", f"{p95:.1f}{flag}"]
            ratios.append(f"{p95 / base[who].pct(95):.2f}")
            rows.append(str(s.rows))
            if s.queries is not None:
                queries += ("/" if queries else "") + str(s.queries)
        cells += [", ".join(ratios), ", ".join(rows), queries]
        print("| " + " | ".join(cells) + " |")
    print("\nmilliseconds; ⚠ = p95 above the 50 ms target; queries = SQL queries per request (admin/agent)")


def explain(cases: list[Case], users: dict[str, Any]) -> None:
    from django.db import connection
    from django.db.models import F

    from aftersales.inbox.selectors import parse_ticket_filters, ticket_queryset

    for case in cases:
        if case.kind != "list":
            continue
        for who, user in users.items():
            user.__dict__.pop("_team_scopes", None)
            qs = ticket_queryset(user, parse_ticket_filters(case.params))
            qs = qs.select_related("store", "customer", "assignee", "order")
            qs = qs.defer("store__credentials").order_by(F("updated_at").desc(), "-pk")[:26]  # as ticket_page
            sql, params = qs.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"\n=== {case.name} as {who}\n{plan}")


def machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "0")  # fmt: skip
    return (f"{os.cpu_count()} CPUs ({cpu}), {int(mem) / 1024 / 1024:.1f} GiB RAM, PostgreSQL {version} "
            f"(shared_buffers {buffers}), Python {platform.python_version()}")  # fmt: skip


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup below on `kill`
    var_dir = tempfile.mkdtemp(prefix="aftersales-bench-")
    if not args.reuse:
        admin_sql(args.pg, f'CREATE DATABASE "{args.db}"')
        print(f"created database {args.db}")
    try:
        setup_django(args, var_dir)
        from django.core.management import call_command
        from django.db import connection

        from aftersales.accounts.models import User
        from aftersales.accounts.services import api_token_create
        from aftersales.inbox.models import Ticket

        call_command("migrate", verbosity=0)
        import benchapp

        urlconf = benchapp.prepare()
        if not args.reuse:
            print(f"seeding {args.tickets:,} tickets (seed {args.seed})")
            seed(args)
        print(f"VACUUM ANALYZE: {vacuum_analyze():.1f}s; {Ticket.objects.count():,} tickets")
        users = {name: User.objects.select_related("role").get(username=name) for name in ("admin", SCOPED_AGENT)}
        # The admin's token carries the admin scope: without it a token narrows an admin to an agent's sight
        # (has_perm: token scopes only take permissions away), and the admin's cases measured a scoped inbox.
        scopes = {"admin": ("read", "admin"), SCOPED_AGENT: ("read",)}
        tokens = {
            name: api_token_create(user=u, name=f"bench {secrets.token_hex(3)}", scopes=scopes[name])[1]
            for name, u in users.items()
        }
        cases, info = build_cases()
        if args.only:
            cases = [c for c in cases if c.kind != "list" or not c.params or args.only in c.name]
        print(f"machine: {machine()}")
        print(f"via: {args.via}, {urlconf}")
        print(f"{args.repeat} measured rounds after {args.warmup} warm-up rounds; {info}")
        with gunicorn_server() if args.via == "http" else contextlib.nullcontext() as base_url:
            runner = Runner(args.via, tokens, users, base_url)
            samples = measure(cases, runner, args)
        for (who, name), sample in samples.items():
            case = next(c for c in cases if c.name == name)
            sample.queries = count_queries(who, case, tokens)
        print_table(cases, samples)
        if args.explain:
            explain(cases, users)
        connection.close()
    finally:
        if args.keep:
            print(f"kept database {args.db} (DATABASE_URL={args.pg}/{args.db})")
        else:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            admin_sql(args.pg, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
            print(f"dropped database {args.db}")


if __name__ == "__main__":
    main()
