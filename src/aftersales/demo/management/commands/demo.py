"""`aftersales demo --tickets N [--seed S] [--if-empty] [--batch-size B]`: load the demo seller."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from aftersales.accounts.models import Organization
from aftersales.demo import data
from aftersales.demo.generator import Progress, generate

BULK_LOAD_FROM = 100_000


class Command(BaseCommand):
    help = "Create the demo seller (Shenzhen Gadgets Co.) with stores, agents, customers, orders and tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=400, help="number of tickets (default 400)")
        parser.add_argument("--seed", type=int, default=1, help="random seed: same seed, same content (default 1)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if the demo organization exists")
        parser.add_argument("--batch-size", type=int, default=5000, help="tickets per transaction (default 5000)")
        parser.add_argument(
            "--translate-recent",
            type=int,
            default=0,
            help="queue the translation of the N most recently updated tickets (done by the worker)",
        )
        parser.add_argument(
            "--bulk-load",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="PostgreSQL: drop and recreate indexes/constraints of the loaded tables around the load and "
            f"COPY from a background thread (default: on from {BULK_LOAD_FROM:,} tickets). "
            "Only for a database nobody else is using meanwhile.",
        )
        parser.add_argument(
            "--fakes",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="connect the demo stores eBay DE / Shopify / Amazon US (demo) and 17TRACK to the local fakes of "
            "`manage.py fakes` (--no-fakes: deactivate them); also with --if-empty on an existing demo",
        )
        parser.add_argument(
            "--fakes-port-base",
            type=int,
            default=None,
            help="the port base `manage.py fakes` listens on (default 8701)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tickets, batch = options["tickets"], options["batch_size"]
        if tickets < 0 or batch < 1:
            raise CommandError("--tickets must be >= 0 and --batch-size >= 1")
        if Organization.objects.filter(slug=data.ORG_SLUG).exists():
            if options["if_empty"]:
                self.stdout.write(f"{data.ORG_NAME} already exists: nothing to do.")
                self._connect_fakes(options)
                return
            raise CommandError(
                f"{data.ORG_NAME} already exists. Use --if-empty, or load the demo into an empty database."
            )
        every = max(1, tickets // 20)
        state = {"next": every}

        def report(p: Progress) -> None:
            if p.done >= state["next"] or p.done == p.total:
                state["next"] = p.done + every
                eta = (p.total - p.done) / p.rate if p.rate else 0
                self.stdout.write(
                    f"  {p.done:>10,}/{p.total:,} tickets  {p.rate:>8,.0f} tickets/s  "
                    f"{p.rows / p.seconds if p.seconds else 0:>9,.0f} rows/s  ETA {eta:,.0f}s"
                )

        self.stdout.write(
            f"Creating {data.ORG_NAME} with {tickets:,} tickets (seed {options['seed']}, {connection.vendor})"
        )
        bulk_load = options["bulk_load"]
        if bulk_load is None:
            bulk_load = tickets >= BULK_LOAD_FROM
        bulk_load = bulk_load and connection.vendor == "postgresql"
        if bulk_load:
            self.stdout.write("  bulk load: indexes and constraints of the loaded tables are rebuilt at the end")
        result = generate(tickets=tickets, seed=options["seed"], batch_size=batch, progress=report, bulk_load=bulk_load)
        total_rows = sum(result.rows.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {tickets:,} tickets, {total_rows:,} rows in {result.seconds:,.1f}s "
                f"({result.rate:,.0f} tickets/s, {total_rows / result.seconds if result.seconds else 0:,.0f} rows/s)"
            )
        )
        self.stdout.write("  rows: " + ", ".join(f"{name} {count:,}" for name, count in result.rows.items()))
        self.stdout.write("  time: " + ", ".join(f"{name} {sec:,.1f}s" for name, sec in result.phases.items()))
        if options["translate_recent"] > 0:
            self._queue_translations(options["translate_recent"])
        self._connect_fakes(options)
        users = ", ".join(u.username for u in data.USERS[:5])
        self.stdout.write(f"Log in as {users} with password {data.DEMO_PASSWORD}")

    def _connect_fakes(self, options: dict[str, Any]) -> None:
        """The demo stores of the local fake marketplaces (aftersales.demo.fakes, `make run`)."""
        if options["fakes"] is None:
            return
        from aftersales.demo.fakes import DEFAULT_PORT_BASE, endpoint_urls
        from aftersales.demo.stores import demo_stores_connect, demo_stores_disconnect

        organization = Organization.objects.get(slug=data.ORG_SLUG)
        if not options["fakes"]:
            from aftersales.demo.messaging import demo_messaging_disconnect

            count = demo_stores_disconnect(organization=organization)
            chats = demo_messaging_disconnect(organization=organization)
            if chats:
                self.stdout.write(f"  {chats} demo chat store(s) (WhatsApp, Messenger) deactivated")
            if count:
                self.stdout.write(f"  {count} demo store(s) of the fake marketplaces deactivated")
            return
        urls = endpoint_urls(options["fakes_port_base"] or DEFAULT_PORT_BASE)
        stores = demo_stores_connect(organization=organization, urls=urls)
        from aftersales.demo.messaging import demo_messaging_connect  # the mailbox, WhatsApp, Messenger

        stores += demo_messaging_connect(
            organization=organization, port_base=options["fakes_port_base"] or DEFAULT_PORT_BASE
        )
        self.stdout.write("  stores on the local fakes: " + ", ".join(f"{s.name} ({s.endpoint_url})" for s in stores))

    def _queue_translations(self, count: int) -> None:
        """Demo messages are bulk-written, not ingested: ask the language engine for the most recent
        ones, as an agent's batch translation would."""
        from aftersales.accounts.models import User
        from aftersales.inbox.models import Ticket
        from aftersales.language.services import translation_job_create

        admin = User.objects.get(username="admin", organization__slug=data.ORG_SLUG)
        ids = list(
            Ticket.objects.filter(organization=admin.organization)
            .order_by("-updated_at")
            .values_list("pk", flat=True)[: min(count, 200)]
        )
        if ids:
            job = translation_job_create(user=admin, ticket_ids=ids)
            self.stdout.write(f"  queued translation job {job.pk}: {job.total} messages of {len(ids)} tickets")
