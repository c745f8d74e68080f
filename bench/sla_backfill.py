"""`manage.py sla_backfill` throughput on PostgreSQL: the batched backfill (sla.services.sla_backfill:
a batch of tickets read in a fixed number of queries, one INSERT) against the per-ticket
recomputation it replaced (sla.services.ticket_sla_recompute per ticket, ~6 queries each), in the same
run on the same tickets.

Creates a throwaway database (aftersales_bench_sla_<pid>), migrates it, loads N demo tickets with the
demo generator, deletes their clock rows, then times: the per-ticket path on --per-ticket tickets,
and the batched backfill on all N (rows deleted again first). Checks that both wrote the same rows.
Dropped at the end unless --keep.

  .venv/bin/python bench/sla_backfill.py --tickets 5000 --per-ticket 500
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def seed_tickets(n: int) -> None:
    """n tickets over two stores and two teams (one with a split-shift calendar), each with 1-3 buyer
    messages, every other one answered, every third one put on hold and reopened (the demo generator's
    COPY path did not match the schema at the time of writing, so the rows are made here)."""
    from datetime import timedelta

    from aftersales.core.clock import now
    from aftersales.inbox.models import Message, MessageDirection, Ticket, TicketEvent, TicketEventType
    from aftersales.sla.models import BusinessCalendar, TeamCalendar
    from aftersales.testing.factories import CustomerFactory, OrganizationFactory, StoreFactory, TeamFactory

    started = time.perf_counter()
    org = OrganizationFactory(name="Bench", slug="bench")
    stores = [StoreFactory(organization=org, platform=p) for p in ("amazon", "ebay")]
    teams = [TeamFactory(organization=org, name=f"Team {i}") for i in range(2)]
    office = BusinessCalendar.objects.create(
        organization=org,
        name="Office",
        timezone="Europe/Berlin",
        weekly_hours={d: [["09:00", "12:00"], ["13:30", "18:30"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    )
    TeamCalendar.objects.create(team=teams[0], calendar=office)
    customer = CustomerFactory(organization=org)
    base = now() - timedelta(days=30)
    hour = timedelta(hours=1)
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(
                organization=org,
                store=stores[i % 2],
                customer=customer,
                team=teams[i % 2],
                platform=stores[i % 2].platform,
                subject=f"Bench {i}",
                conversation_id=f"bench-{i}",
                created_at=base + i * timedelta(minutes=7),
            )
            for i in range(n)
        ]
    )
    messages, events = [], []
    for i, ticket in enumerate(tickets):
        at = base + i * timedelta(minutes=7)
        for k in range(1 + i % 3):
            messages.append(
                Message(
                    ticket=ticket,
                    store=ticket.store,
                    direction=MessageDirection.INBOUND,
                    channel=ticket.platform,
                    body="x",
                    sent_at=at + k * hour,
                )
            )
        if i % 2:
            messages.append(
                Message(
                    ticket=ticket,
                    store=ticket.store,
                    direction=MessageDirection.OUTBOUND,
                    channel=ticket.platform,
                    body="y",
                    sent_at=at + 5 * hour,
                )
            )
            events.append(TicketEvent(ticket=ticket, type=TicketEventType.REPLY_SENT, at=at + 5 * hour, payload={}))
        if i % 3 == 0:
            for t, old, new in ((at + 2 * hour, "open", "on_hold"), (at + 4 * hour, "on_hold", "open")):
                events.append(
                    TicketEvent(
                        ticket=ticket, type=TicketEventType.STATUS_CHANGED, at=t, payload={"old": old, "new": new}
                    )
                )
    Message.objects.bulk_create(messages, batch_size=2000)
    TicketEvent.objects.bulk_create(events, batch_size=2000)
    print(
        f"seeded {n:,} tickets, {len(messages):,} messages, {len(events):,} events "
        f"in {time.perf_counter() - started:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default=f"aftersales_bench_sla_{os.getpid()}")
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--per-ticket", type=int, default=500, help="tickets timed through the per-ticket path")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    import inbox as bench_inbox  # bench/inbox.py: the same Django setup and seeding

    bench_inbox.admin_sql(args.pg, f'CREATE DATABASE "{args.db}"')
    try:
        bench_inbox.setup_django(argparse.Namespace(pg=args.pg, db=args.db), tempfile.mkdtemp(prefix="aftersales-"))
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        seed_tickets(args.tickets)
        from aftersales.accounts.models import Organization
        from aftersales.inbox.models import Ticket
        from aftersales.sla import services
        from aftersales.sla.models import SlaPolicy, TicketSla

        for org in Organization.objects.all():  # a policy, so every ticket has our clocks too
            if not SlaPolicy.objects.filter(organization=org).exists():
                SlaPolicy.objects.create(
                    organization=org, name="Default", first_response_minutes=720, resolution_minutes=2880
                )
        from aftersales.core.clock import now

        at = now()
        ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
        TicketSla.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        one = ids[: args.per_ticket]
        started, cpu = time.perf_counter(), time.process_time()
        for pk in one:
            services.ticket_sla_recompute(ticket_id=pk, now=at)
        per_wall, per_cpu = time.perf_counter() - started, time.process_time() - cpu
        reference = {r["ticket_id"]: r for r in TicketSla.objects.filter(ticket_id__in=one).values()}
        TicketSla.objects.all().delete()
        started, cpu = time.perf_counter(), time.process_time()
        written = services.sla_backfill(batch=args.batch, now=at)
        batch_wall, batch_cpu = time.perf_counter() - started, time.process_time() - cpu
        batched = {r["ticket_id"]: r for r in TicketSla.objects.filter(ticket_id__in=one).values()}
        differ = [pk for pk in one if reference[pk] != batched.get(pk)]
        load = os.getloadavg()
        print(f"tickets: {len(ids):,}; rows written by the backfill: {written:,}; rows differing: {len(differ)}")
        print(
            f"per-ticket recompute: {len(one):,} tickets in {per_wall:.1f} s = "
            f"**{len(one) / per_wall:,.0f} tickets/s** "
            f"({per_cpu * 1000 / len(one):.2f} ms CPU per ticket in this process)"
        )
        print(
            f"batched backfill (batch {args.batch}): {written:,} tickets in {batch_wall:.1f} s = "
            f"**{written / batch_wall:,.0f} tickets/s** ({batch_cpu * 1000 / max(written, 1):.2f} ms CPU per ticket)"
        )
        print(f"ratio: {(written / batch_wall) / (len(one) / per_wall):.1f}x")
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
