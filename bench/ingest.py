"""Write-path benchmark: what keeping search documents current costs an inbound message and a reply.

Every inbound message (message_ingest) and every reply (ticket_reply) rebuilds its ticket's search
document in the same transaction (docs/adr/0012-ticket-search.md). This measures both operations with
the refresh as shipped and, interleaved in the same run as the baseline, with the refresh replaced by
a no-op, and prints p50/p95 and the ratio. Messages are realistic: demo texts in the demo's
languages (Chinese, Japanese, Arabic... included), threaded into tickets that already hold several
messages, so each refresh re-reads a real conversation.

  .venv/bin/python bench/ingest.py                     # SQLite (a temporary file)
  .venv/bin/python bench/ingest.py --pg postgres://postgres@127.0.0.1:5432

--create N (issue 13) also measures ticket creation: N messages from new buyers (each opens a ticket),
tickets per second in-process and SQL statements per created ticket, plus the buyer lookup by e-mail
alone with --customers extra customers in the organization (the case-insensitive probe every new
buyer's message makes). To compare two versions of the code, run the same command from a copy of the
other version (`git archive <commit> src bench | tar -x -C /tmp/old`, then /tmp/old/bench/ingest.py):
the script imports the code next to it.

--events N (issue 9) measures the sync engine instead: N mixed events from a fake platform on loopback
through the whole pipeline, next to a raw bulk insert of the same rows (bench/sync_ingest.py).

--platforms N (issue 12): the sync engine on a mixed-platform feed: the seven demo fake marketplaces
seeded and given N ticks of activity, every pulled stream of each store synced once (bench/sync_mixed.py).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", help="PostgreSQL server URL (without database); default: SQLite")
    parser.add_argument("--tickets", type=int, default=2000, help="demo tickets to start from")
    parser.add_argument("--messages", type=int, default=1000, help="inbound messages (and as many replies) per mode")
    parser.add_argument("--create", type=int, default=0, help="also: messages from new buyers (one ticket each)")
    parser.add_argument("--customers", type=int, default=0, help="extra customers in the org before --create")
    parser.add_argument(
        "--events", type=int, default=0, help="instead: the sync engine end to end (bench/sync_ingest.py)"
    )
    parser.add_argument("--page-size", type=int, default=200, help="with --events: records per pulled page")
    parser.add_argument(
        "--compare", type=int, default=0, help="with --events: also the first N events record by record (before)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="with --events: also N worker processes at once, one store each"
    )
    parser.add_argument("--profile", default="", help="with --events: write the worker's cProfile stats to this file")
    parser.add_argument(
        "--statements", default="", help="with --events: write the worker's time per SQL statement to this file (JSON)"
    )
    parser.add_argument(
        "--platforms",
        type=int,
        default=0,
        help="instead: the sync engine on the seven demo fake marketplaces after N ticks (bench/sync_mixed.py)",
    )
    args = parser.parse_args()

    from benchdb import bench_database  # bench/benchdb.py, next to this file

    with bench_database(args.pg, "ingest", setup=False):  # (each part sets Django up and migrates)
        if args.platforms:
            import sync_mixed  # bench/sync_mixed.py, next to this file

            sync_mixed.run(args)
        elif args.events:
            import sync_ingest  # bench/sync_ingest.py, next to this file

            sync_ingest.run(args)
        else:
            run(args)


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from aftersales.accounts.models import User
    from aftersales.catalog.models import Store
    from aftersales.demo.generator import generate
    from aftersales.inbox.models import Message, MessageDirection, Ticket
    from aftersales.inbox.services import InboundMessage, message_ingest, ticket_reply
    from aftersales.inbox.services import ingest as ingest_module
    from aftersales.inbox.services import search as search_module
    from aftersales.inbox.services import tickets as tickets_module

    call_command("migrate", verbosity=0)
    generate(tickets=args.tickets, seed=7)
    agent = User.objects.get(username="admin")
    rng = random.Random(7)
    bodies = list(Message.objects.filter(direction=MessageDirection.INBOUND).values_list("body", flat=True)[:5000])
    # Open tickets with a conversation to thread into: (store, customer external id, conversation).
    threads = [
        (t.store, t.customer.identities.filter(store=t.store).first(), t.conversation_id)
        for t in Ticket.objects.filter(status_category="open").select_related("store", "customer")[:400]
    ]
    threads = [(s, i.external_id, c) for s, i, c in threads if i is not None]
    stores = {s.pk: s for s in Store.objects.all()}
    real_ingest_refresh = ingest_module.ticket_search_refresh
    real_reply_refresh = tickets_module.ticket_search_refresh

    def set_refresh(on: bool) -> None:
        noop = lambda **kwargs: 0  # noqa: E731
        ingest_module.ticket_search_refresh = real_ingest_refresh if on else noop
        tickets_module.ticket_search_refresh = real_reply_refresh if on else noop

    samples: dict[tuple[str, bool], list[float]] = {(op, on): [] for op in ("ingest", "reply") for on in (True, False)}
    for i in range(args.messages * 2):
        on = i % 2 == 0  # interleaved: same data, same moment, refresh on and off
        set_refresh(on)
        store, customer_id, conversation = threads[rng.randrange(len(threads))]
        inbound = InboundMessage(
            store=stores[store.pk],
            external_id=f"bench-{i}",
            body=bodies[rng.randrange(len(bodies))],
            customer_external_id=customer_id,
            conversation_id=conversation,
        )
        started = time.perf_counter()
        result = message_ingest(inbound=inbound)
        samples[("ingest", on)].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        ticket_reply(ticket=result.ticket, author=agent, body=bodies[rng.randrange(len(bodies))][:500])
        samples[("reply", on)].append((time.perf_counter() - started) * 1000)
    set_refresh(True)

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    if args.create:
        create(args, stores, bodies)
    if not args.messages:
        return
    print(f"database: {connection.vendor}; {args.tickets:,} demo tickets; {args.messages:,} operations per mode")
    print("| operation | refresh | p50 ms | p95 ms | p50 ratio (on / off) |")
    print("|---|---|--:|--:|--:|")
    for op in ("ingest", "reply"):
        on, off = samples[(op, True)], samples[(op, False)]
        ratio = statistics.median(on) / statistics.median(off)
        print(f"| {op} | on (shipped) | {statistics.median(on):.2f} | {pct(on, 0.95):.2f} | {ratio:.2f} |")
        print(f"| {op} | off (baseline) | {statistics.median(off):.2f} | {pct(off, 0.95):.2f} | 1.00 |")
    docs = [len(search_module.build_documents([t.pk])[t.pk]) for t in Ticket.objects.order_by("?")[:200]]
    print(f"document size: median {statistics.median(docs):.0f} tokens, max {max(docs)} (200 random tickets)")


def create(args: argparse.Namespace, stores: dict, bodies: list[str]) -> None:  # type: ignore[type-arg]
    """Tickets per second and statements per ticket for messages from new buyers; the e-mail lookup."""
    from django.db import connection

    from aftersales.catalog.models import Customer
    from aftersales.inbox.services import InboundMessage, message_ingest

    store_list = sorted(stores.values(), key=lambda s: s.pk)
    org_id = store_list[0].organization_id
    normalised = any(f.name == "email_normalized" for f in Customer._meta.concrete_fields)
    if args.customers:
        batch = []
        for i in range(args.customers):
            email = f"Extra.Buyer{i}@Example.com"
            row = Customer(organization_id=org_id, name=f"Extra {i}", email=email)
            if normalised:
                row.email_normalized = email.lower()
            batch.append(row)
        Customer.objects.bulk_create(batch, batch_size=2000)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE catalog_customer")
    rng = random.Random(13)
    statements = 0

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    created = 0
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        for i in range(args.create):
            store = store_list[i % len(store_list)]
            result = message_ingest(
                inbound=InboundMessage(
                    store=store,
                    external_id=f"bench-new-{i}",
                    body=bodies[rng.randrange(len(bodies))],
                    customer_external_id=f"NEW-BUYER-{i}",
                    customer_name=f"New Buyer {i}",
                    customer_email=f"New.Buyer{i}@Example.net",
                    customer_language="en",
                )
            )
            created += result.ticket_created
    elapsed = time.perf_counter() - started
    total = Customer.objects.filter(organization_id=org_id).count()
    print(f"database: {connection.vendor}; {args.create:,} messages from new buyers; {total:,} customers in the org")
    print(f"ticket creation: {created / elapsed:.0f} tickets/s; {statements / args.create:.1f} statements per ticket")
    probes = [f"EXTRA.BUYER{rng.randrange(max(args.customers, 1))}@example.COM" for _ in range(300)]
    lookups = {"email__iexact (before)": lambda e: Customer.objects.filter(organization_id=org_id, email__iexact=e)}
    if normalised:
        from aftersales.catalog.models import normalise_email  # type: ignore[attr-defined]

        lookups["email_normalized (after)"] = lambda e: Customer.objects.filter(
            organization_id=org_id, email_normalized=normalise_email(e)
        )
    for name, lookup in lookups.items():
        times = []
        for email in probes:
            t0 = time.perf_counter()
            lookup(email).first()
            times.append((time.perf_counter() - t0) * 1000)
        print(f"buyer lookup by e-mail, {name}: median {statistics.median(times):.2f} ms")
        options = {"analyze": True} if connection.vendor == "postgresql" else {}
        print("    plan: " + " | ".join(lookup(probes[0])[:1].explain(**options).splitlines()))


if __name__ == "__main__":
    main()
