"""`manage.py mail_watch --all | --store ID [--store ID ...]`: near-real-time mail for mailboxes.

The supervised watcher of channels/mailwatch.py: for each mailbox (every active mailbox with
`--all`, re-scanned every `--scan-every` seconds), a thread keeps an IMAP connection waiting for
new mail (IDLE where the server offers it, polling otherwise) and runs the engine's sync of the
mailbox as soon as mail arrives, and at least every `--timeout` seconds. A lease per mailbox
makes one process watch it however many run (`make run` and the production layout start one;
more are harmless). The periodic Huey sync stays the reconciliation.

Connection errors are logged and retried after a pause (doubling up to 5 minutes). SIGTERM / Ctrl-C
stop it cleanly (leases released)."""

from __future__ import annotations

import logging
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftersales.catalog.models import Platform, Store
from aftersales.channels.base import Stream
from aftersales.channels.connectors.email.connector import EmailConnector
from aftersales.channels.context import store_context
from aftersales.channels.mailwatch import MailWatcher, WatchSettings
from aftersales.channels.sync import sync_stream

logger = logging.getLogger(__name__)


def watch_once(store_id: int, *, timeout: float, poll_every: float = 30.0) -> bool:
    """Wait for mail (at most `timeout` s), then sync the mailbox. Returns whether mail came."""
    connector = EmailConnector()
    store = Store.objects.get(pk=store_id)
    arrived = connector.wait_for_mail(store_context(store, connector=connector), timeout=timeout, poll_every=poll_every)
    sync_stream(store_id=store_id, stream=Stream.MESSAGES)
    return arrived


class Command(BaseCommand):
    help = "Wait for new mail on mailboxes (IMAP IDLE or polling) and sync them as soon as it arrives."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--store", type=int, action="append", default=[], help="A mailbox store id")
        parser.add_argument("--all", action="store_true", help="Every active mailbox (new ones are picked up)")
        parser.add_argument("--timeout", type=float, default=20 * 60, help="Sync at least this often (s)")
        parser.add_argument("--poll-every", type=float, default=30.0, help="Without IDLE: poll this often (s)")
        parser.add_argument("--scan-every", type=float, default=20.0, help="Look for new mailboxes this often (s)")
        parser.add_argument(
            "--lease-ttl", type=float, default=90.0, help="A dead watcher's mailboxes are taken over after this (s)"
        )
        parser.add_argument("--once", action="store_true", help="Wait once per mailbox, sync, and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[int] = options["store"]
        if not ids and not options["all"]:
            raise CommandError("name mailboxes with --store ID, or watch them all with --all")
        if ids and options["all"]:
            raise CommandError("--store and --all exclude each other")
        stores = {s.pk: s for s in Store.objects.filter(pk__in=ids)}
        for store_id in ids:
            store = stores.get(store_id)
            if store is None:
                raise CommandError(f"no store with id {store_id}")
            if store.platform != Platform.EMAIL:
                raise CommandError(f"store {store_id} is a {store.platform} store, not a mailbox (platform email)")
        if options["once"]:
            if options["all"]:
                raise CommandError("--once needs --store")
            for store_id in ids:
                arrived = watch_once(store_id, timeout=options["timeout"], poll_every=options["poll_every"])
                self.stdout.write(f"store {store_id}: {'new mail' if arrived else 'no new mail'}, synced")
            return
        watcher = MailWatcher(
            store_ids=None if options["all"] else ids,
            settings=WatchSettings(
                idle_timeout=options["timeout"],
                poll_every=options["poll_every"],
                scan_every=options["scan_every"],
                lease_ttl=options["lease_ttl"],
            ),
            on_sync=lambda store_id, run: logger.info(
                "mail watch synced",
                extra={"store_id": store_id, "status": run.status, "records_created": run.created},
            ),
        )

        def interrupted(signum: int, frame: Any) -> None:
            watcher.stop.set()

        signal.signal(signal.SIGTERM, interrupted)
        signal.signal(signal.SIGINT, interrupted)
        self.stdout.write(f"mail watch: {'every mailbox' if options['all'] else ids} ({watcher.holder})")
        self.stdout.flush()
        watcher.run()
        self.stdout.write("mail watch stopped")
