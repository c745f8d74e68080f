"""The supervised mail watcher (channels/mailwatch.py, `manage.py mail_watch --all`) against the
a real dovecot IMAP server: mail appended while the watcher idles becomes a ticket within seconds,
through the engine's ordinary sync; one watcher per mailbox across watchers (a lease), a dead
one's mailbox taken over; two real processes on PostgreSQL never both watch a mailbox."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.db import connection, connections

from aftersales.catalog.models import Platform
from aftersales.channels.base import ConnectorError
from aftersales.channels.connectors.email.tests.test_acceptance import mail
from aftersales.channels.leases import lease_acquire, lease_holds, lease_release, lease_renew
from aftersales.channels.mailwatch import MailWatcher, WatchSettings, lease_name, watchable_mailboxes
from aftersales.channels.models import StoreSync, SyncRun, WorkerLease
from aftersales.inbox.models import Message, Ticket
from aftersales.testing.dovecot import DovecotServer
from aftersales.testing.factories import StoreFactory

pytestmark = [
    pytest.mark.skipif(not DovecotServer.available(), reason="dovecot-imapd is not installed"),
    pytest.mark.django_db(transaction=True),
]

FAST = WatchSettings(idle_timeout=30, poll_every=1, lease_ttl=3, scan_every=0.3, first_backoff=0.2, max_backoff=1)
_counter = iter(range(1, 1_000_000))


@pytest.fixture(scope="module")
def imap() -> Iterator[DovecotServer]:
    """A real dovecot IMAP server for this module (aftersales.testing.dovecot)."""
    server = DovecotServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailbox(world, imap):  # type: ignore[no-untyped-def]
    account = imap.add_account(f"watch-{os.getpid()}-{next(_counter)}@gadgets.example")
    store = StoreFactory(organization=world.org, name=f"Mailbox {account.username}", platform=Platform.EMAIL, site="")
    store.credentials = imap.credentials(account)
    store.save()
    world.team_us.stores.add(store)
    return store, account


def until(check: Callable[[], bool], seconds: float = 10) -> float:
    """Wait until `check()` holds; returns the time it took (fails after `seconds`)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "timed out"
        time.sleep(0.05)
    return time.monotonic() - started


def closing_connections(work: Callable[..., None]) -> Callable[..., None]:
    """`work`, then the database connections of the thread it ran in closed. A thread's connection is
    not closed when the thread ends (CONN_MAX_AGE keeps it past close_old_connections): the watchers'
    threads left theirs open until garbage-collected, and the PostgreSQL pass could not drop its test
    database at the end ("is being accessed by other users")."""

    def run(*args: object) -> None:
        try:
            work(*args)
        finally:
            connections.close_all()

    return run


@pytest.fixture
def running() -> Iterator[Callable[[MailWatcher], MailWatcher]]:
    """Start watchers in threads; stopped (leases released) at the end, their threads' database
    connections closed."""
    started: list[tuple[MailWatcher, threading.Thread]] = []

    def start(watcher: MailWatcher) -> MailWatcher:
        watcher._watch = closing_connections(watcher._watch)  # type: ignore[method-assign]  # each mailbox's thread
        thread = threading.Thread(target=closing_connections(watcher.run), daemon=True)
        thread.start()
        started.append((watcher, thread))
        return watcher

    yield start
    for watcher, _thread in started:
        watcher.stop.set()
    for _watcher, thread in started:
        thread.join(10)


def test_mail_appended_while_the_watcher_idles_arrives_within_seconds(mailbox, imap, running):
    store, account = mailbox
    imap.deliver(account, mail(subject="Before the watcher")[0])
    synced = threading.Event()
    watcher = running(MailWatcher(store_ids=[store.pk], settings=FAST, on_sync=lambda sid, run: synced.set()))
    # the first sync: what came while nobody watched (slow once: the first ingest loads the triage models)
    assert synced.wait(90)
    assert Ticket.objects.filter(store=store, subject="Before the watcher").exists()
    assert watcher.watching == [store.pk]
    time.sleep(0.5)  # now idling on the INBOX
    imap.deliver(account, mail(subject="While idling")[0])
    took = until(lambda: Message.objects.filter(store=store).count() == 2, seconds=8)
    assert took < 5
    # Through the engine's ordinary sync (a SyncRun per wake-up), each message stored once.
    until(lambda: SyncRun.objects.filter(store=store, stream="messages", status="succeeded").count() >= 2)
    assert Message.objects.filter(store=store, body__contains="The lid is cracked").count() == 2



def test_the_watcher_holds_no_database_connection_while_it_waits(mailbox, imap, running, monkeypatch):
    """IMAP IDLE lasts minutes: the waiting thread's database connection is closed for it (CONN_MAX_AGE
    would keep one idle session per watched mailbox), and the thread opens a new one after."""
    from aftersales.channels.connectors.email.connector import EmailConnector

    store, account = mailbox
    held: list[bool] = []
    real_wait = EmailConnector.wait_for_mail

    def wait(self, ctx, **kwargs):  # type: ignore[no-untyped-def]
        held.append(connection.connection is not None)  # this thread's connection
        return real_wait(self, ctx, **kwargs)

    monkeypatch.setattr(EmailConnector, "wait_for_mail", wait)
    running(MailWatcher(store_ids=[store.pk], settings=FAST))
    until(lambda: len(held) >= 1, seconds=90)
    imap.deliver(account, mail(subject="After a wait")[0])
    until(lambda: Ticket.objects.filter(store=store, subject="After a wait").exists(), seconds=10)
    until(lambda: len(held) >= 2, seconds=10)
    assert not any(held)

@pytest.fixture
def three_folders(mailbox, imap):  # type: ignore[no-untyped-def]
    """The mailbox reads INBOX, Support and Returns (created on the server)."""
    store, account = mailbox
    with imap.client(account) as client:
        client.create_folder("Support")
        client.create_folder("Returns")
    store.credentials = {**store.credentials, "folders": ["INBOX", "Support", "Returns"]}
    store.save()
    return store, account


def test_mail_appended_to_another_folder_than_the_first_arrives_within_seconds(three_folders, imap, running):
    store, account = three_folders
    synced = threading.Event()
    watcher = running(MailWatcher(store_ids=[store.pk], settings=FAST, on_sync=lambda sid, run: synced.set()))
    assert synced.wait(90)  # the first sync: nothing yet, a cursor for the three folders
    until(lambda: watcher.watching == [store.pk])
    time.sleep(0.5)  # now idling on every folder
    imap.deliver(account, mail(subject="Into Support")[0], folder="Support")
    took = until(lambda: Ticket.objects.filter(store=store, subject="Into Support").exists(), seconds=8)
    assert took < 5
    time.sleep(0.5)  # idling again
    imap.deliver(account, mail(sender="Kim <kim@example.com>", subject="Into Returns")[0], folder="Returns")
    took = until(lambda: Ticket.objects.filter(store=store, subject="Into Returns").exists(), seconds=8)
    assert took < 5
    assert Message.objects.filter(store=store).count() == 2


def test_the_folder_wait_holds_one_connection_per_folder_up_to_the_bound(three_folders, imap, monkeypatch):
    from aftersales.channels.connectors.email import client as imap_client
    from aftersales.channels.connectors.email.connector import EmailConnector
    from aftersales.channels.context import store_context

    store, account = three_folders
    opened: list[str] = []
    real_session = imap_client.imap_session

    def counting_session(settings, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(threading.current_thread().name)
        return real_session(settings, **kwargs)

    monkeypatch.setattr(imap_client, "imap_session", counting_session)
    connector = EmailConnector()
    ctx = store_context(store, connector=connector)
    waiting = threading.Event()
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(connector.wait_for_mail(ctx, timeout=10, ready=waiting.set)))
    waiter.start()
    assert waiting.wait(10)  # every folder's wait started
    assert sorted(opened) == ["imap-wait-INBOX", "imap-wait-Returns", "imap-wait-Support"]
    imap.deliver(account, mail()[0], folder="Returns")
    waiter.join(5)
    assert result == [True]  # and the other two waits stopped with it
    # Bounded: past MAX_WATCHED_FOLDERS, folders are read by the sync but not waited on.
    monkeypatch.setattr(imap_client, "MAX_WATCHED_FOLDERS", 2)
    opened.clear()
    started = time.monotonic()
    assert connector.wait_for_mail(ctx, timeout=0.5) is False
    assert time.monotonic() - started < 5
    assert sorted(opened) == ["imap-wait-INBOX", "imap-wait-Support"]
    # A folder that fails (gone from the server) raises for the whole mailbox: the watcher backs off.
    monkeypatch.setattr(imap_client, "MAX_WATCHED_FOLDERS", 8)
    with imap.client(account) as client:
        client.delete_folder("Returns")
    with pytest.raises(ConnectorError):
        connector.wait_for_mail(ctx, timeout=5)


def test_mail_that_came_between_a_fetch_and_the_wait_wakes_the_watcher(mailbox, imap):
    """The cursor is passed to the wait: a message newer than the last fetched UID answers at once."""
    from aftersales.channels.base import Stream
    from aftersales.channels.connectors.email.connector import EmailConnector
    from aftersales.channels.context import store_context
    from aftersales.channels.models import StreamCursor
    from aftersales.channels.sync import sync_stream

    store, account = mailbox
    imap.deliver(account, mail()[0])
    sync_stream(store_id=store.pk, stream=Stream.MESSAGES)
    cursor = StreamCursor.objects.get(store=store, stream="messages", key="").cursor
    connector = EmailConnector()
    ctx = store_context(store, connector=connector)
    assert connector.wait_for_mail(ctx, timeout=0.3, cursor=cursor) is False  # nothing new
    imap.deliver(account, mail()[0])  # before anyone waits
    started = time.monotonic()
    assert connector.wait_for_mail(ctx, timeout=10, cursor=cursor) is True
    assert time.monotonic() - started < 2
    # `stop` ends a wait early
    started = time.monotonic()
    assert connector.wait_for_mail(ctx, timeout=30, stop=lambda: time.monotonic() - started > 0.5) is False
    assert time.monotonic() - started < 3


def test_one_watcher_per_mailbox_and_a_stopped_ones_mailbox_is_taken_over(mailbox, imap, running):
    store, account = mailbox
    first = running(MailWatcher(store_ids=[store.pk], settings=FAST))
    until(lambda: first.watching == [store.pk])
    second = running(MailWatcher(store_ids=[store.pk], settings=FAST))
    time.sleep(1.0)  # several scans: the lease is taken
    assert second.watching == []
    assert WorkerLease.objects.get(name=lease_name(store.pk)).holder == first.holder
    first.stop.set()
    until(lambda: second.watching == [store.pk], seconds=10)
    assert WorkerLease.objects.get(name=lease_name(store.pk)).holder == second.holder
    imap.deliver(account, mail(sender="Kim <kim@example.com>", subject="After the takeover")[0])
    until(lambda: Ticket.objects.filter(store=store, subject="After the takeover").exists(), seconds=30)


def test_paused_deactivated_and_imapless_mailboxes_are_not_watched(world, mailbox, running):
    store, _account = mailbox
    other = StoreFactory(organization=world.org, name="No IMAP", platform=Platform.EMAIL, site="")
    other.credentials = {"address": "x@gadgets.example", "smtp_host": "127.0.0.1"}
    other.save()
    assert store.pk in watchable_mailboxes() and other.pk not in watchable_mailboxes()
    assert world.store_us.pk not in watchable_mailboxes()
    watcher = running(MailWatcher(store_ids=[store.pk], settings=FAST))
    until(lambda: watcher.watching == [store.pk])
    StoreSync.objects.update_or_create(store=store, defaults={"paused": True, "paused_reason": "IMAP login refused"})
    until(lambda: watcher.watching == [], seconds=10)
    until(lambda: not lease_holds(name=lease_name(store.pk), holder=watcher.holder))  # released


def test_a_failing_server_is_retried_with_backoff(mailbox, running, caplog):
    from aftersales.channels.sync import sync_stream

    store, _account = mailbox
    sync_stream(store_id=store.pk, stream="messages")  # a cursor: the watcher starts by waiting
    creds = dict(store.credentials)
    creds["imap_port"] = 1  # nothing listens
    store.credentials = creds
    store.save()
    watcher = running(MailWatcher(store_ids=[store.pk], settings=FAST))
    until(lambda: sum("mail watch failed" in r.getMessage() for r in caplog.records) >= 3, seconds=15)
    assert watcher.watching == [store.pk]  # still trying


def test_leases():
    ttl = timedelta(seconds=60)
    assert lease_acquire(name="x", holder="a", ttl=ttl)
    assert lease_acquire(name="x", holder="a", ttl=ttl)  # already ours
    assert not lease_acquire(name="x", holder="b", ttl=ttl)
    assert lease_renew(names=["x"], holder="a", ttl=ttl) == {"x"}
    assert lease_renew(names=["x"], holder="b", ttl=ttl) == set()
    WorkerLease.objects.filter(name="x").update(expires_at=WorkerLease.objects.get(name="x").expires_at - 2 * ttl)
    assert lease_acquire(name="x", holder="b", ttl=ttl)  # expired: taken over
    assert lease_renew(names=["x"], holder="a", ttl=ttl) == set()  # a lost it
    lease_release(name="x", holder="a")  # not a's to release
    assert lease_holds(name="x", holder="b")
    lease_release(name="x", holder="b")
    assert lease_acquire(name="x", holder="c", ttl=ttl)


# --- two real processes on PostgreSQL -------------------------------------------------------------


def _env() -> dict[str, str]:
    s = connection.settings_dict
    url = f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "aftersales.settings.test", "DATABASE_URL": url}


def _watch_process() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aftersales.manage",
            "mail_watch",
            "--all",
            "--scan-every",
            "0.3",
            "--lease-ttl",
            "3",
            "--poll-every",
            "1",
        ],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real watcher processes share PostgreSQL")
def test_two_watcher_processes_never_watch_one_mailbox_at_once(mailbox, imap):
    store, account = mailbox
    name = lease_name(store.pk)
    processes = [_watch_process(), _watch_process()]
    try:
        try:
            until(lambda: WorkerLease.objects.filter(name=name).exclude(holder="").exists(), seconds=60)
        except AssertionError:
            for process in processes:
                process.kill()
                print(process.communicate()[0])  # why the watcher did not start
            raise
        holders: set[str] = set()
        for _ in range(20):  # 2 s of scans by both: always the same single holder
            holders.add(WorkerLease.objects.get(name=name).holder)
            time.sleep(0.1)
        assert len(holders) == 1
        holder = holders.pop()
        pids = {str(p.pid): p for p in processes}
        owner = next(p for pid, p in pids.items() if f":{pid}:" in holder)
        imap.deliver(account, mail(subject="Watched by one")[0])
        until(lambda: Ticket.objects.filter(store=store, subject="Watched by one").exists(), seconds=15)
        # The holder dies without releasing: the other process takes over once the lease expires.
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        until(lambda: WorkerLease.objects.get(name=name).holder not in ("", holder), seconds=20)
        survivor = next(p for p in processes if p is not owner)
        assert f":{survivor.pid}:" in WorkerLease.objects.get(name=name).holder
        imap.deliver(account, mail(sender="Kim <kim@example.com>", subject="After the holder died")[0])
        until(lambda: Ticket.objects.filter(store=store, subject="After the holder died").exists(), seconds=15)
        assert Ticket.objects.filter(store=store).count() == 2
        assert Message.objects.filter(store=store).count() == 2
        # never two runs of the mailbox at the same time
        runs = list(SyncRun.objects.filter(store=store).exclude(status="skipped").order_by("started_at"))
        for earlier, later in itertools.pairwise(runs):
            assert earlier.finished_at is None or earlier.finished_at <= later.started_at
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
