"""Near-real-time mail: the supervised IMAP watcher of every mailbox (`manage.py mail_watch --all`,
started by `make run` and by the production layout, docs/operations.md).

One MailWatcher per process; per mailbox (an active, unpaused store of platform email with an IMAP
host) it holds the lease `mail-watch:<store id>` (channels/leases.py) and runs a thread that waits
for new mail in every configured folder (one IMAP connection per folder, bounded; IDLE where the
server offers it, polling otherwise: EmailConnector.wait_for_mail)
and then runs the engine's ordinary sync of the mailbox (`sync_stream`, the pipeline a Huey sync
uses, with its claimed cursor). However many watcher processes run, one watches a mailbox: the
others find its lease taken and try again at each scan, so one takes over within `lease_ttl` when
the holder dies. A lease lost while waiting (renewal failed) stops the mailbox's thread before it
fetches. The periodic Huey sync stays the reconciliation: the watcher only makes mail arrive
sooner, and a sync running twice is harmless.

Connection errors (and anything unexpected) are logged and retried after a pause that doubles up
to `max_backoff`, with jitter; a store paused by a permanent error (bad password) is left alone
until resumed (the next scan picks it up again)."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import close_old_connections, connections

from aftersales.catalog.models import Platform, Store

from .base import Stream
from .connectors.email.connector import EmailConnector
from .context import store_context
from .leases import lease_acquire, lease_holder_id, lease_release, lease_renew
from .models import StreamCursor, SyncRun, SyncRunStatus
from .sync import sync_stream

logger = logging.getLogger(__name__)
MAX_SYNC_PASSES = 30


class SyncFailed(Exception):
    pass


@dataclass(frozen=True)
class WatchSettings:
    idle_timeout: float = 20 * 60.0  # re-issue IDLE at least this often (RFC 2177: before 29 minutes)
    poll_every: float = 30.0  # servers without IDLE
    lease_ttl: float = 90.0  # a dead watcher's mailboxes are taken over after this
    scan_every: float = 20.0  # renew leases, look for new / gone mailboxes
    first_backoff: float = 5.0
    max_backoff: float = 300.0
    busy_retry: float = 2.0  # the stream is being synced by a worker: try again after this


def lease_name(store_id: int) -> str:
    return f"mail-watch:{store_id}"


def watchable_mailboxes(store_ids: Iterable[int] | None = None) -> list[int]:
    """Active, unpaused mailboxes with an IMAP server (all of them, or those of `store_ids`)."""
    stores = Store.objects.filter(platform=Platform.EMAIL, is_active=True).exclude(sync__paused=True)
    if store_ids is not None:
        stores = stores.filter(pk__in=list(store_ids))
    return [s.pk for s in stores.order_by("pk") if str((s.credentials or {}).get("imap_host") or "").strip()]


class MailWatcher:
    """Watches mailboxes until `stop` is set. `on_sync(store_id, run)` is called after each sync
    (tests, the command's log)."""

    def __init__(
        self,
        *,
        store_ids: Iterable[int] | None = None,
        settings: WatchSettings | None = None,
        on_sync: Callable[[int, SyncRun], None] | None = None,
    ) -> None:
        self.store_ids = list(store_ids) if store_ids is not None else None
        self.settings = settings or WatchSettings()
        self.holder = lease_holder_id("mail-watch")
        self.on_sync = on_sync
        self.stop = threading.Event()
        self._threads: dict[int, tuple[threading.Thread, threading.Event]] = {}
        self._random = random.Random()  # noqa: S311 (jitter, not a secret)

    @property
    def watching(self) -> list[int]:
        return sorted(store_id for store_id, (thread, _lost) in self._threads.items() if thread.is_alive())

    def run(self) -> None:
        """The supervisor: every `scan_every` seconds renew the leases held, start a thread for each
        mailbox whose lease it gets, stop the threads of mailboxes gone or leases lost."""
        ttl = timedelta(seconds=self.settings.lease_ttl)
        try:
            while not self.stop.is_set():
                try:
                    close_old_connections()
                    self._scan(ttl)
                except Exception:  # the database went away: try again at the next scan
                    logger.exception("mail watch scan failed")
                self.stop.wait(self.settings.scan_every)
        finally:
            self.stop.set()
            for store_id, (thread, _lost) in list(self._threads.items()):
                thread.join(timeout=5)
                lease_release(name=lease_name(store_id), holder=self.holder)
            close_old_connections()

    def _scan(self, ttl: timedelta) -> None:
        held = {sid for sid, (thread, _lost) in self._threads.items() if thread.is_alive()}
        kept = lease_renew(names=[lease_name(s) for s in held], holder=self.holder, ttl=ttl)
        wanted = set(watchable_mailboxes(self.store_ids))
        for store_id in list(self._threads):
            thread, lost = self._threads[store_id]
            if lease_name(store_id) not in kept or store_id not in wanted or not thread.is_alive():
                lost.set()  # the thread stops before its next fetch
                if thread.is_alive():
                    thread.join(timeout=0.1)
                if not thread.is_alive():
                    del self._threads[store_id]
                    if store_id not in wanted or lease_name(store_id) in kept:
                        lease_release(name=lease_name(store_id), holder=self.holder)
        for store_id in sorted(wanted - set(self._threads)):
            if lease_acquire(name=lease_name(store_id), holder=self.holder, ttl=ttl):
                lost = threading.Event()
                thread = threading.Thread(
                    target=self._watch, args=(store_id, lost), name=f"mail-watch-{store_id}", daemon=True
                )
                self._threads[store_id] = (thread, lost)
                thread.start()
                logger.info("mail watch started", extra={"store_id": store_id, "holder": self.holder})

    # --- one mailbox -----------------------------------------------------------------------------

    def _watch(self, store_id: int, lost: threading.Event) -> None:
        def done() -> bool:
            return self.stop.is_set() or lost.is_set()

        pause = self.settings.first_backoff
        check_new = True  # first: what came while nobody watched
        try:
            while not done():
                close_old_connections()
                try:
                    # With the cursor, mail that came between the last fetch and the wait wakes us at
                    # once; at the start, what came while nobody watched (no cursor yet: sync).
                    cursor = self._cursor(store_id)
                    if check_new and not cursor:
                        arrived = True
                    else:
                        arrived = self._wait(store_id, cursor, done, timeout=0 if check_new else None)
                    if done():
                        break
                    if arrived:
                        run = self._sync(store_id, done)
                        if run is not None and run.status in (SyncRunStatus.FAILED, SyncRunStatus.PAUSED):
                            raise SyncFailed(run.error)  # back off (the sync already retried transient errors)
                    check_new = False
                    pause = self.settings.first_backoff
                except Exception as exc:  # ConnectorError and anything else: reconnect later
                    logger.warning(
                        "mail watch failed, will retry",
                        extra={"store_id": store_id, "error": str(exc)[:500], "retry_in": round(pause, 1)},
                    )
                    if self.stop.wait(pause * (0.8 + 0.4 * self._random.random())) or lost.is_set():
                        break
                    pause = min(pause * 2, self.settings.max_backoff)
        finally:
            close_old_connections()

    def _wait(self, store_id: int, cursor: str, done: Callable[[], bool], *, timeout: float | None = None) -> bool:
        store = Store.objects.select_related("organization").get(pk=store_id)
        connector = EmailConnector()
        context = store_context(store, connector=connector)
        # The wait (IMAP IDLE, up to `idle_timeout`) needs no database: this thread's connection is closed
        # for it rather than kept open by CONN_MAX_AGE, one idle database session per watched mailbox.
        connections.close_all()
        return connector.wait_for_mail(
            context,
            timeout=self.settings.idle_timeout if timeout is None else timeout,
            poll_every=self.settings.poll_every,
            cursor=cursor or None,
            stop=done,
        )

    def _sync(self, store_id: int, done: Callable[[], bool]) -> SyncRun | None:
        """The ordinary sync of the mailbox; if a worker is running it right now, wait for it and
        run again (the mail that woke us may have come after that worker's fetch)."""
        run = None
        for _attempt in range(MAX_SYNC_PASSES):
            if done():
                break
            run = sync_stream(store_id=store_id, stream=Stream.MESSAGES)
            if self.on_sync is not None:
                self.on_sync(store_id, run)
            if run.status == SyncRunStatus.PARTIAL:
                continue  # more pages
            if run.status != SyncRunStatus.SKIPPED or "another worker" not in run.error:
                break
            if self.stop.wait(self.settings.busy_retry):
                break
        return run

    @staticmethod
    def _cursor(store_id: int) -> str:
        return (
            StreamCursor.objects.filter(store_id=store_id, stream=Stream.MESSAGES, key="")
            .values_list("cursor", flat=True)
            .first()
            or ""
        )
