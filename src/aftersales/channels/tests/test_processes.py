"""Acceptance of the sync engine with real processes on PostgreSQL:

- a sync process killed with SIGKILL in the middle of a page (inside a record's transaction, after
  the page was stored raw, before its cursor was persisted) and restarted loses nothing and
  duplicates nothing;
- two worker processes syncing one store's stream at once, while two more replay the same records
  as webhooks, create no duplicate (message, order, return, ticket or raw record)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

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

    def stalling_orders(store, records):  # a page's order versions at once count one per record
        if count[0] < stall_at <= count[0] + len(records):
            stall()
        count[0] += len(records)
        return original_orders(store, records)

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


def _env() -> dict[str, str]:
    s = connection.settings_dict
    url = f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "aftersales.settings.test", "DATABASE_URL": url}


def _worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, *args],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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
        marker = Path(tempfile.mkdtemp()) / "stalled"
        victim = _worker("stall", str(store.pk), str(marker), "13")  # the 3rd record of page 3
        deadline = time.monotonic() + 240  # the first classification of a fresh checkout builds the triage model
        while not marker.exists() and time.monotonic() < deadline and victim.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), victim.stderr.read() if victim.poll() is not None else "worker never stalled"
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        # Killed mid-page: page 3 is stored raw, its processing (one transaction) rolled back with the
        # connection, its cursor not persisted.
        cursor = StreamCursor.objects.get(store=store, stream="messages")
        assert cursor.cursor == "10" and cursor.claimed_by.split(":")[1] == str(victim.pid)
        assert RawEvent.objects.filter(store=store).count() == 15
        assert RawEvent.objects.filter(store=store, status=RawEventStatus.RECEIVED).count() == 5
        restarted = _worker("sync", str(store.pk))
        out, err = restarted.communicate(timeout=300)
        assert restarted.returncode == 0, err
        result = json.loads(out.strip().splitlines()[-1])
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
        workers = [
            _worker("sync", str(store.pk)),
            _worker("sync", str(store.pk)),
            _worker("replay", str(store.pk), fake.url),
            _worker("replay", str(store.pk), fake.url),
        ]
        results = []
        for worker in workers:
            out, err = worker.communicate(timeout=180)
            assert worker.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        statuses = sorted(r["status"] for r in results[:2])
        assert statuses in (["skipped", "succeeded"], ["succeeded", "succeeded"])
        _assert_exactly_once(store, n_buyers, items)
