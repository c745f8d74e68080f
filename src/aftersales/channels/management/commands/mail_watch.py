"""`manage.py mail_watch --store ID [--store ID ...]`: near-real-time mail for mailboxes.

For each mailbox, a thread keeps an IMAP connection waiting for new mail (IDLE where the server
offers it, polling otherwise; EmailConnector.wait_for_mail) and runs the engine's sync of the
mailbox (channels.sync.sync_stream) as soon as mail arrives, and at least every `--timeout`
seconds. The periodic Huey sync stays the safety net: a watcher only makes mail arrive sooner, and
a sync running twice is harmless (claimed cursors, deduplicated records).

Connection errors are logged and retried after a pause (doubling up to 5 minutes)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from aftersales.catalog.models import Platform, Store
from aftersales.channels.base import ConnectorError, Stream
from aftersales.channels.connectors.email.connector import EmailConnector
from aftersales.channels.context import store_context
from aftersales.channels.sync import sync_stream

logger = logging.getLogger(__name__)
MAX_PAUSE = 300.0


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
        parser.add_argument("--store", type=int, action="append", required=True, help="A mailbox store id")
        parser.add_argument("--timeout", type=float, default=25 * 60, help="Sync at least this often (s)")
        parser.add_argument("--poll-every", type=float, default=30.0, help="Without IDLE: poll this often (s)")
        parser.add_argument("--once", action="store_true", help="Wait once per mailbox, sync, and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[int] = options["store"]
        stores = {s.pk: s for s in Store.objects.filter(pk__in=ids)}
        for store_id in ids:
            store = stores.get(store_id)
            if store is None:
                raise CommandError(f"no store with id {store_id}")
            if store.platform != Platform.EMAIL:
                raise CommandError(f"store {store_id} is a {store.platform} store, not a mailbox (platform email)")
        if options["once"]:
            for store_id in ids:
                arrived = watch_once(store_id, timeout=options["timeout"], poll_every=options["poll_every"])
                self.stdout.write(f"store {store_id}: {'new mail' if arrived else 'no new mail'}, synced")
            return
        threads = [
            threading.Thread(target=self._loop, args=(store_id, options["timeout"], options["poll_every"]), daemon=True)
            for store_id in ids
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _loop(self, store_id: int, timeout: float, poll_every: float) -> None:
        pause = 5.0
        while True:
            close_old_connections()
            try:
                watch_once(store_id, timeout=timeout, poll_every=poll_every)
                pause = 5.0
            except ConnectorError as exc:
                logger.warning("mail watch failed, will retry", extra={"store_id": store_id, "error": str(exc)})
                time.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE)
