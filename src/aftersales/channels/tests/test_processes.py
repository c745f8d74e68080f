"""Acceptance of the sync engine with real processes on PostgreSQL:

- a sync process killed with SIGKILL in the middle of a page (inside a record's transaction, after
  the page was stored raw, before its cursor was persisted) and restarted loses nothing and
  duplicates nothing;
- two worker processes syncing one store's stream at once, while two more replay the same records
  as webhooks, create no duplicate (message, order, return, ticket or raw record).

Waiting (a loaded 2-core CI machine, where a worker process may get a tenth of a core): no fixed
sleep or timeout per step. A wait fails only when nothing observable moved for PROCESS_TEST_STALL_SECONDS
(default 300: the store's raw rows by status, its cursor, its messages, the workers' output) or after
PROCESS_TEST_LIMIT_SECONDS in all (default 1800), with what it waited for, the load average and the
workers' stderr. A worker that exits with an error fails the wait at once. The triage model is built
(or loaded) once by the test process before the workers start, so they do not each train it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count

from aftersales.catalog.models import Order
from aftersales.channels.models import RawEvent, RawEventStatus, StreamCursor, SyncRun
from aftersales.channels.tests import testshop
from aftersales.inbox.models import Message, Ticket
from aftersales.returns.models import ReturnRequest
from aftersales.testing.factories import StoreFactory

from .test_sync import T0, msg

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real worker processes share PostgreSQL"),
]

WORKER = r"""
import json, os, sys, time
import django
django.setup()
from aftersales.channels.tests import testshop
testshop.install()
from aftersales.channels import sync as engine

mode, store_id = sys.argv[1], int(sys.argv[2])
print("started", flush=True)  # progress the parent sees: the process is up (django.setup done)
if mode == "stall":
    marker, stall_at = sys.argv[3], int(sys.argv[4])
    original = engine.apply_record
    count = [0]

    def stall():
        with open(marker, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(600)  # killed here, inside the page's transaction

    def stalling(store, record):
        count[0] += 1
        if count[0] == stall_at:
            stall()
        return original(store, record)

    original_many = engine.message_ingest_many

    def stalling_many(*, inbounds, **kw):  # a page's buyer messages and new returns' messages: one per record
        if count[0] < stall_at <= count[0] + len(inbounds):
            stall()
        count[0] += len(inbounds)
        return original_many(inbounds=inbounds, **kw)

    original_orders = engine.orders_apply_many

    def stalling_orders(store, records, *args):  # a page's order versions at once count one per record
        if count[0] < stall_at <= count[0] + len(records):
            stall()
        count[0] += len(records)
        return original_orders(store, records, *args)

    engine.apply_record = stalling
    engine.message_ingest_many = stalling_many
    engine.orders_apply_many = stalling_orders
if mode in ("sync", "stall"):
    run = engine.sync_stream(store_id=store_id, stream="messages")
    print(json.dumps({"status": run.status, "created": run.created, "duplicates": run.duplicates}))
elif mode == "replay":
    import httpx
    from aftersales.catalog.models import Store
    from aftersales.channels.base import RawRecord, Stream
    store = Store.objects.get(pk=store_id)
    url, after, actions = sys.argv[3], 0, []
    while True:
        data = httpx.get(f"{url}/v1/feeds/messages", params={"after": after, "limit": 7},
                         headers={"Authorization": f"Bearer {testshop.TOKEN}"}).json()
        records = [RawRecord(Stream.MESSAGES, item["id"], item) for item in data["items"]]
        actions += [o.action for o in engine.receive_records(store=store, records=records, source="webhook")]
        after = data["next"]
        if not data["has_more"]:
            break
    print(json.dumps({"actions": len(actions)}))
"""


STALL_SECONDS = float(os.environ.get("PROCESS_TEST_STALL_SECONDS", "300"))
LIMIT_SECONDS = float(os.environ.get("PROCESS_TEST_LIMIT_SECONDS", "1800"))


@pytest.fixture(scope="module", autouse=True)
def _triage_model_built() -> None:
    """The workers classify the buyer messages: the first process of a fresh checkout would train the
    model (about a minute of CPU); built here once, each worker loads the file (~1 s)."""
    from aftersales.triage.artifacts import build

    build()


def _env() -> dict[str, str]:
    s = connection.settings_dict
    url = f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "aftersales.settings.test", "DATABASE_URL": url}


class _Worker:
    """A worker process whose stdout and stderr go to files (a pipe nobody reads could fill up and
    block it while the test waits on something else)."""

    def __init__(self, folder: Path, name: str, *args: str) -> None:
        self.name = name
        self.out_path, self.err_path = folder / f"{name}.out", folder / f"{name}.err"
        with self.out_path.open("w") as out, self.err_path.open("w") as err:
            self.proc = subprocess.Popen([sys.executable, "-c", WORKER, *args], env=_env(), stdout=out, stderr=err)
        self.pid = self.proc.pid

    def output_size(self) -> int:
        return self.out_path.stat().st_size + self.err_path.stat().st_size

    def stderr_tail(self) -> str:
        return self.err_path.read_text(errors="replace")[-3000:]

    def result(self) -> dict:  # type: ignore[type-arg]
        assert self.proc.returncode == 0, f"{self.name} exited with {self.proc.returncode}: {self.stderr_tail()}"
        return json.loads(self.out_path.read_text().strip().splitlines()[-1])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _progress(store) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    """What a working sync or replay visibly changes (read from another connection: committed rows)."""
    return (
        tuple(sorted(RawEvent.objects.filter(store=store).values_list("status").annotate(n=Count("id")))),
        tuple(StreamCursor.objects.filter(store=store).values_list("cursor", "claimed_by")),
        Message.objects.filter(store=store).count(),
    )


def _wait(workers: list[_Worker], store, what: str, until: Callable[[], bool] | None = None) -> None:  # type: ignore[no-untyped-def]
    """Wait until `until()` holds (default: every worker has exited). Fails when a worker exits with an
    error (before `until` holds), when nothing observable moved for STALL_SECONDS, or after
    LIMIT_SECONDS in all; the message says what was awaited, the load and the workers' stderr."""
    started = moved = time.monotonic()
    seen: tuple | None = None  # type: ignore[type-arg]
    while True:
        if until is not None and until():
            return
        exited = [w for w in workers if w.proc.poll() is not None]
        failed = [w for w in exited if w.proc.returncode != 0]
        if failed or (until is not None and len(exited) == len(workers)):
            tails = "; ".join(f"{w.name} (exit {w.proc.returncode}): {w.stderr_tail()}" for w in exited)
            raise AssertionError(f"{what}: a worker stopped first: {tails}")
        if until is None and len(exited) == len(workers):
            return
        at = time.monotonic()
        state = (_progress(store), tuple(w.output_size() for w in workers))
        if state != seen:
            seen, moved = state, at
        if at - moved > STALL_SECONDS or at - started > LIMIT_SECONDS:
            tails = "; ".join(f"{w.name}: {w.stderr_tail()[-800:]}" for w in workers)
            raise AssertionError(
                f"{what}: nothing moved for {at - moved:.0f} s ({at - started:.0f} s in all, limits "
                f"{STALL_SECONDS:.0f} / {LIMIT_SECONDS:.0f} s; load average {os.getloadavg()}); "
                f"last progress {seen}; stderr: {tails}"
            )
        time.sleep(0.25)


def _mixed_feed(n_buyers: int) -> list[dict]:
    """Per buyer: two messages of one conversation, an order, a return of that order."""
    items: list[dict] = []
    for b in range(n_buyers):
        buyer = {"id": f"buyer-{b}", "name": f"Buyer {b}", "email": f"buyer{b}@example.com"}
        items.append({**msg(2 * b, buyer=f"buyer-{b}"), "buyer": buyer, "order": f"O-{b}"})
        items.append(
            {
                "id": f"order-{b}",
                "type": "order",
                "order": f"O-{b}",
                "placed_at": T0,
                "updated_at": T0,
                "total": "19.99",
                "buyer": buyer,
                "lines": [{"id": f"L{b}", "sku": "SKU-1", "price": "19.99"}],
            }
        )
        items.append({**msg(2 * b + 1, buyer=f"buyer-{b}"), "buyer": buyer, "order": f"O-{b}"})
        items.append(
            {
                "id": f"return-{b}",
                "type": "return",
                "return": f"R-{b}",
                "kind": "return",
                "status": "OPEN",
                "created_at": T0,
                "order": f"O-{b}",
                "buyer": buyer,
                "reason": "DAMAGED",
            }
        )
    return items


def _assert_exactly_once(store, n_buyers: int, items: list[dict]) -> None:  # type: ignore[no-untyped-def]
    assert RawEvent.objects.filter(store=store).count() == len(items)
    assert not RawEvent.objects.filter(store=store).exclude(status=RawEventStatus.PROCESSED).exists()
    # Each buyer's messages: 2 inbound + the return's summary, all on one ticket per buyer.
    assert Message.objects.filter(store=store).count() == 3 * n_buyers
    assert Order.objects.filter(store=store).count() == n_buyers
    assert ReturnRequest.objects.filter(store=store).count() == n_buyers
    assert Ticket.objects.filter(store=store).count() == n_buyers
    for ticket in Ticket.objects.filter(store=store):
        assert ticket.messages.count() == 3


def test_a_sync_killed_mid_page_and_restarted_loses_and_duplicates_nothing(world):
    fake = testshop.TestShopFake()
    fake.page_size = 5
    n_buyers = 6
    items = _mixed_feed(n_buyers)  # 24 records, 5 pages
    fake.add("messages", *items)
    with fake.running():
        store = StoreFactory(
            organization=world.org,
            platform=testshop.PLATFORM,
            endpoint_url=fake.url,
            credentials={"token": testshop.TOKEN},
        )
        folder = Path(tempfile.mkdtemp())
        marker = folder / "stalled"
        victim = _Worker(folder, "victim", "stall", str(store.pk), str(marker), "13")  # 3rd record of page 3
        try:
            _wait([victim], store, "the worker reaching the 13th record", until=marker.exists)
            os.kill(victim.pid, signal.SIGKILL)
            victim.proc.wait(timeout=LIMIT_SECONDS)
        finally:
            victim.kill()
        # Killed mid-page: page 3 is stored raw, its processing (one transaction) rolled back with the
        # connection, its cursor not persisted.
        cursor = StreamCursor.objects.get(store=store, stream="messages")
        assert cursor.cursor == "10" and cursor.claimed_by.split(":")[1] == str(victim.pid)
        assert RawEvent.objects.filter(store=store).count() == 15
        assert RawEvent.objects.filter(store=store, status=RawEventStatus.RECEIVED).count() == 5
        restarted = _Worker(folder, "restarted", "sync", str(store.pk))
        try:
            _wait([restarted], store, "the restarted sync")
        finally:
            restarted.kill()
        result = restarted.result()
        assert result["status"] == "succeeded"
        assert result["duplicates"] == 0  # page 3's records found raw, still `received`: processed now
        _assert_exactly_once(store, n_buyers, items)
        assert StreamCursor.objects.get(store=store, stream="messages").cursor == str(len(items))
        assert SyncRun.objects.filter(store=store, status="running").count() == 1  # the killed run's row


def test_two_workers_syncing_one_store_at_once_create_no_duplicates(world):
    fake = testshop.TestShopFake()
    fake.page_size = 4
    n_buyers = 10
    items = _mixed_feed(n_buyers)  # 40 records
    fake.add("messages", *items)
    with fake.running():
        store = StoreFactory(
            organization=world.org,
            platform=testshop.PLATFORM,
            endpoint_url=fake.url,
            credentials={"token": testshop.TOKEN},
        )
        folder = Path(tempfile.mkdtemp())
        workers = [
            _Worker(folder, "sync-1", "sync", str(store.pk)),
            _Worker(folder, "sync-2", "sync", str(store.pk)),
            _Worker(folder, "replay-1", "replay", str(store.pk), fake.url),
            _Worker(folder, "replay-2", "replay", str(store.pk), fake.url),
        ]
        try:
            _wait(workers, store, "two syncs and two webhook replays of one store")
        finally:
            for worker in workers:
                worker.kill()
        results = [worker.result() for worker in workers]
        statuses = sorted(r["status"] for r in results[:2])
        assert statuses in (["skipped", "succeeded"], ["succeeded", "succeeded"])
        _assert_exactly_once(store, n_buyers, items)
