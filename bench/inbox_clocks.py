"""The agent UI's inbox first page with and without the SLA clocks on its rows (issue 11 section 2).

Uses a database seeded and kept by bench/inbox.py (`--db aftersales_bench_x --keep`). Computes the
clocks (sla.services.sla_backfill, timed: the backfill's throughput) of the tickets on the first pages
of the admin and the scoped agent, then measures GET / through django.test.Client (the whole Django
stack, templates included) in interleaved rounds: with the clocks, and with inbox_row_clocks replaced
by an empty answer (the page as it was before). Prints p50 / p95 and queries per request.

  .venv/bin/python bench/inbox.py --tickets 100000 --db aftersales_bench_x --keep --via selector
  .venv/bin/python bench/inbox_clocks.py --db aftersales_bench_x [--backfill 2000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", required=True, help="a database kept by bench/inbox.py")
    parser.add_argument("--backfill", type=int, default=2000, help="tickets whose clocks are computed first")
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    import inbox as bench_inbox  # bench/inbox.py: the same Django setup

    bench_inbox.setup_django(argparse.Namespace(pg=args.pg, db=args.db), tempfile.mkdtemp(prefix="aftersales-bench-"))

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from aftersales.accounts.models import User
    from aftersales.inbox.models import Ticket
    from aftersales.sla import services as sla_services
    from aftersales.sla.models import TicketSla
    from aftersales.web.views import inbox as inbox_view

    call_command("collectstatic", interactive=False, verbosity=0)  # production settings: the hashed manifest
    users = {name: User.objects.get(username=name) for name in ("admin", bench_inbox.SCOPED_AGENT)}
    org_id = users["admin"].organization_id
    recent = list(
        Ticket.objects.filter(organization_id=org_id)
        .order_by("-updated_at", "-pk")
        .values_list("pk", flat=True)[: args.backfill]
    )
    TicketSla.objects.filter(ticket_id__in=recent).delete()
    started = time.perf_counter()
    for pk in recent:
        sla_services.ticket_sla_recompute(ticket_id=pk)
    took = time.perf_counter() - started
    print(f"clocks computed for {len(recent)} tickets in {took:.1f}s ({len(recent) / took:.0f} tickets/s)")
    print(f"TicketSla rows: {TicketSla.objects.count():,}; tickets: {Ticket.objects.count():,}")

    real = inbox_view.inbox_row_clocks
    clients = {}
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        clients[name] = client
    samples: dict[tuple[str, str], list[float]] = {}
    queries: dict[tuple[str, str], int] = {}
    cases = [(who, variant) for who in users for variant in ("with clocks", "without clocks")]
    shuffle = random.Random(0)
    for round_no in range(args.warmup + args.repeat):
        shuffle.shuffle(cases)
        for who, variant in cases:
            inbox_view.inbox_row_clocks = real if variant == "with clocks" else (lambda ids, **kw: {})  # type: ignore[assignment]
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = clients[who].get("/", secure=True)
                elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, response.status_code
            if round_no >= args.warmup:
                samples.setdefault((who, variant), []).append(elapsed)
                queries[(who, variant)] = len(ctx.captured_queries)
    inbox_view.inbox_row_clocks = real
    shown = sum(1 for _ in clients["admin"].get("/", secure=True).content.decode().split("data-clocks")[1:])
    print(f"rows with clocks on the admin's first page: {shown}")
    print("| user | variant | p50 ms | p95 ms | queries |")
    print("| --- | --- | --- | --- | --- |")
    for (who, variant), values in sorted(samples.items()):
        values.sort()
        p95 = values[int(0.95 * (len(values) - 1))]
        print(f"| {who} | {variant} | {statistics.median(values):.1f} | {p95:.1f} | {queries[(who, variant)]} |")


if __name__ == "__main__":
    main()
