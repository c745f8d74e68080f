"""Follow-up jobs throughput on PostgreSQL (issue 11 §5): due items handled per second by the CSAT job
(followups.jobs.csat_surveys_send: claim by key, the signed link, the buyer's text, the reply queued
through inbox.services.ticket_reply, the events), with a share not sampled (skips), and by the
complaint thank-you job (a coupon claimed from the pool per ticket); then a second run of each, which
must find nothing to do.

Creates a throwaway database (aftersales_bench_followups_<pid>), migrates it, writes N solved tickets
(eBay: links allowed) resolved 30 hours ago, runs the jobs, drops the database unless --keep.

  .venv/bin/python bench/followups.py --tickets 2000
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def seed(n: int) -> None:
    from aftersales.core.clock import now
    from aftersales.followups.models import Coupon, FollowUpSettings
    from aftersales.inbox.models import Message, MessageDirection, Ticket
    from aftersales.testing.factories import CustomerFactory, OrganizationFactory, StoreFactory

    org = OrganizationFactory(name="Bench", slug="bench")
    store = StoreFactory(organization=org, platform="ebay", default_language="de")
    customers = [CustomerFactory(organization=org) for _ in range(20)]
    solved = now() - timedelta(hours=30)
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(
                organization=org,
                store=store,
                customer=customers[i % 20],
                platform="ebay",
                subject=f"Bench {i}",
                conversation_id=f"bench-{i}",
                status="solved",
                status_category="resolved",
                category="complaint" if i % 2 else "refund",
                language=("de", "en", "fr", "zh")[i % 4],
                resolved_at=solved,
            )
            for i in range(n)
        ]
    )
    Message.objects.bulk_create(
        [
            Message(ticket=t, store=store, direction=MessageDirection.INBOUND, channel="ebay", body="x", sent_at=solved)
            for t in tickets
        ]
    )
    Coupon.objects.bulk_create(
        [Coupon(organization=org, code=f"BENCH{i:06d}", imported_at=solved) for i in range(n // 2 + 10)]
    )
    FollowUpSettings.objects.create(
        organization=org,
        csat_enabled=True,
        csat_sample_percent=80,
        thanks_enabled=True,
        thanks_categories=["complaint"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default=f"aftersales_bench_followups_{os.getpid()}")
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    import inbox as bench_inbox  # bench/inbox.py: the same Django setup

    bench_inbox.admin_sql(args.pg, f'CREATE DATABASE "{args.db}"')
    try:
        bench_inbox.setup_django(argparse.Namespace(pg=args.pg, db=args.db), tempfile.mkdtemp(prefix="aftersales-"))
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        seed(args.tickets)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        from aftersales.followups import jobs
        from aftersales.followups.models import FollowUp

        for label, job in (
            ("CSAT surveys", jobs.csat_surveys_send),
            ("complaint thank-yous", jobs.complaint_thanks_send),
        ):
            started, cpu = time.perf_counter(), time.process_time()
            sent = job()
            wall, used = time.perf_counter() - started, time.process_time() - cpu
            kind = "csat_survey" if label.startswith("CSAT") else "complaint_thanks"
            handled = FollowUp.objects.filter(kind=kind).count()
            again_started = time.perf_counter()
            again = job()
            again_wall = time.perf_counter() - again_started
            print(
                f"{label}: {handled:,} due items handled ({sent:,} sent, {handled - sent:,} skipped) in {wall:.1f} s = "
                f"**{handled / wall:,.1f} items/s** ({used * 1000 / max(handled, 1):.2f} ms CPU per item in this "
                f"process); second run: {again} sent in {again_wall:.2f} s"
            )
        load = os.getloadavg()
        print(
            f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, load average "
            f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
        )
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            bench_inbox.admin_sql(args.pg, f'DROP DATABASE IF EXISTS "{args.db}"')


if __name__ == "__main__":
    main()
