"""The sync engine against the testshop fake (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import dataclasses
import os
import socket
from datetime import timedelta

import pytest

from aftersales.catalog.models import Order, Shipment, TrackingEvent
from aftersales.channels.base import RawRecord, Stream
from aftersales.channels.models import RawEvent, RawEventStatus, StoreSync, StreamCursor, SyncRun, SyncRunStatus
from aftersales.channels.sync import (
    RUN_CURSOR_CHARS,
    quarantined_events,
    raw_event_retry,
    raw_events_process_pending,
    receive_records,
    store_backfill_from,
    store_context,
    store_streams_status,
    store_sync_resume,
    sync_runs_mark_abandoned,
    sync_stream,
)
from aftersales.channels.tests import testshop
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.inbox.models import DeliveryStatus, Message, MessageDirection, Ticket
from aftersales.returns.models import ReturnRequest, ReturnRequestEvent
from aftersales.testing.factories import OrderFactory, ShipmentFactory, StoreFactory

pytestmark = pytest.mark.django_db

T0 = "2026-11-01T10:00:00+00:00"


def msg(n: int, *, buyer: str = "b1", conversation: str = "", **extra: object) -> dict:
    return {
        "id": f"msg-{n}",
        "type": "message",
        "body": f"Hello {n}",
        "sent_at": T0,
        "buyer": {"id": buyer, "name": "Bea Buyer", "email": f"{buyer}@example.com"},
        "conversation": conversation or f"conv-{buyer}",
        **extra,
    }


def order(n: int, *, updated: str = T0, status: str = "paid", **extra: object) -> dict:
    return {
        "id": f"order-{n}@{updated}",
        "type": "order",
        "order": f"O-{n}",
        "placed_at": T0,
        "updated_at": updated,
        "status": status,
        "total": "25.00",
        "buyer": {"id": "b1", "name": "Bea Buyer", "email": "b1@example.com"},
        "lines": [{"id": f"L{n}", "sku": "SKU-1", "qty": 1, "price": "25.00"}],
        "shipments": [{"carrier": "dhl", "tracking": f"TRK{n}"}],
        **extra,
    }


def ret(n: int, *, status: str = "OPEN", updated: str = T0, **extra: object) -> dict:
    return {
        "id": f"return-{n}@{status}",
        "type": "return",
        "return": f"R-{n}",
        "kind": "return",
        "status": status,
        "created_at": T0,
        "updated_at": updated,
        "order": "O-1",
        "buyer": {"id": "b1"},
        "reason": "DAMAGED",
        "comment": "arrived broken",
        "amount": "25.00",
        "currency": "USD",
        "respond_by": "2026-11-04T10:00:00+00:00",
        **extra,
    }


# --- cursors, idempotency ----------------------------------------------------------------------


def test_pull_pages_persist_the_cursor_and_a_rerun_duplicates_nothing(shop, fake, no_sleep):
    fake.add("messages", *[msg(n, buyer=f"b{n}") for n in range(1, 6)])  # 3 pages of 2
    run = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES, max_pages=2)
    assert run.status == SyncRunStatus.PARTIAL
    assert (run.pages, run.records, run.created) == (2, 4, 4)
    cursor = StreamCursor.objects.get(store=shop, stream="messages")
    assert cursor.cursor == "4" and cursor.claimed_by == ""
    run = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES)
    assert run.status == SyncRunStatus.SUCCEEDED
    assert (run.pages, run.created, run.cursor_before, run.cursor_after) == (1, 1, "4", "5")
    assert Ticket.objects.filter(store=shop).count() == 5
    # From the start again (a backfill): every record is known, nothing is created twice.
    run = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES, since=now() - timedelta(days=30))
    assert (run.records, run.duplicates, run.created) == (5, 5, 0)
    assert Message.objects.filter(store=shop).count() == 5
    assert RawEvent.objects.filter(store=shop).count() == 5


def test_a_long_cursor_stays_whole_on_the_stream_and_bounded_on_the_run(shop, fake, no_sleep, monkeypatch):
    # An eBay cursor carries the closed-return ids (up to ~30 KB): the run row records its start and length,
    # the StreamCursor keeps it whole and the next run resumes from the whole of it.
    padding = "|" + "x" * 30_000
    seen: list[str | None] = []
    original = testshop.TestShopConnector.pull

    def pull(self, ctx, stream, cursor, since):  # type: ignore[no-untyped-def]
        seen.append(cursor)
        if cursor is not None:
            assert cursor.endswith(padding)
            cursor = cursor.removesuffix(padding)
        page = original(self, ctx, stream, cursor, since)
        return dataclasses.replace(page, next_cursor=f"{page.next_cursor}{padding}")

    monkeypatch.setattr(testshop.TestShopConnector, "pull", pull)
    fake.add("messages", *[msg(n, buyer=f"b{n}") for n in range(1, 6)])  # 3 pages of 2
    run = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES, max_pages=1)
    stored = StreamCursor.objects.get(store=shop, stream="messages").cursor
    assert stored == "2" + padding
    assert run.cursor_before == "" and len(run.cursor_after) < RUN_CURSOR_CHARS + 100
    assert run.cursor_after.startswith("2|xxx") and "30,002 characters" in run.cursor_after
    run = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES)
    assert seen[1] == "2" + padding  # resumed from the whole cursor
    assert run.status == SyncRunStatus.SUCCEEDED and run.created == 3
    assert len(run.cursor_before) < RUN_CURSOR_CHARS + 100
    assert Ticket.objects.filter(store=shop).count() == 5


def test_receive_records_threads_and_answers_duplicate_with_the_earlier_ticket(shop):
    records = [RawRecord(Stream.MESSAGES, m["id"], m) for m in (msg(1), msg(2))]
    first, second = receive_records(store=shop, records=records, source="webhook")
    assert first.action == "new_ticket" and second.action == "thread"
    assert first.ticket_id == second.ticket_id and first.message_id != second.message_id
    (again,) = receive_records(store=shop, records=records[:1], source="webhook")
    assert again.action == "duplicate" and again.ticket_id == first.ticket_id
    row = RawEvent.objects.get(store=shop, event_id="msg-1")
    assert row.status == RawEventStatus.PROCESSED and row.source == "webhook" and row.payload["body"] == "Hello 1"


def test_raw_bytes_are_stored_and_a_record_without_event_id_gets_a_content_hash(shop):
    record = RawRecord(Stream.MESSAGES, "", msg(7), raw=b"From: x\r\n\r\nbody")
    (outcome,) = receive_records(store=shop, records=[record], source="imap")
    assert outcome.event_id.startswith("sha256:") and outcome.action == "new_ticket"
    assert bytes(RawEvent.objects.get(store=shop).raw) == b"From: x\r\n\r\nbody"
    (again,) = receive_records(store=shop, records=[record], source="imap")
    assert again.action == "duplicate"


# --- quarantine ---------------------------------------------------------------------------------


def test_a_bad_record_is_quarantined_and_the_rest_of_the_page_goes_on(shop, fake, no_sleep):
    bad = msg(2)
    del bad["body"]
    fake.add("messages", msg(1), bad, msg(3, buyer="b3"), {"id": "x-4", "type": "martian"})
    run = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES)
    assert run.status == SyncRunStatus.SUCCEEDED
    assert (run.records, run.created, run.quarantined) == (4, 2, 2)
    quarantined = {e.event_id: e for e in quarantined_events(organization_id=shop.organization_id)}
    assert set(quarantined) == {"msg-2", "x-4"}
    assert (quarantined["msg-2"].reason, quarantined["msg-2"].field) == ("body is missing", "body")
    assert quarantined["x-4"].field == "type"
    # Re-received: still known (a duplicate), the quarantine says why.
    (again,) = receive_records(store=shop, records=[RawRecord(Stream.MESSAGES, "msg-2", bad)], source="pull")
    assert again.action == "duplicate" and "body is missing" in again.reason


def test_a_quarantined_record_is_retried_after_a_fix(shop, monkeypatch):
    bad = msg(2)
    bad["body"] = ""
    (outcome,) = receive_records(store=shop, records=[RawRecord(Stream.MESSAGES, "msg-2", bad)], source="pull")
    assert outcome.action == "quarantined"
    row = RawEvent.objects.get(store=shop, event_id="msg-2")
    # The fix: a newer connector maps an empty body to a placeholder text.
    original = testshop.map_item

    def fixed(payload):  # type: ignore[no-untyped-def]
        return original({**payload, "body": payload.get("body") or "(empty message)"})

    monkeypatch.setattr(testshop, "map_item", fixed)
    outcome = raw_event_retry(raw_event_id=row.pk, actor=Actor.system("test"))
    assert outcome.action == "new_ticket"
    row.refresh_from_db()
    assert row.status == RawEventStatus.PROCESSED and row.attempts == 2 and row.ticket_id == outcome.ticket_id
    with pytest.raises(Exception, match="only a quarantined record"):
        raw_event_retry(raw_event_id=row.pk, actor=Actor.system("test"))


def test_a_message_for_a_store_of_another_organization_is_quarantined(shop):
    stranger = StoreFactory(platform="email")
    record = RawRecord(Stream.MESSAGES, "msg-9", msg(9, target_store=stranger.pk))
    (outcome,) = receive_records(store=shop, records=[record], source="imap")
    assert outcome.action == "quarantined"
    assert RawEvent.objects.get(event_id="msg-9").field == "target_store_id"
    assert not Message.objects.exists()


def test_a_message_for_another_store_of_the_organization_lands_there(shop):
    amazon = StoreFactory(organization=shop.organization, platform="amazon")
    (outcome,) = receive_records(
        store=shop, records=[RawRecord(Stream.MESSAGES, "msg-9", msg(9, target_store=amazon.pk))], source="imap"
    )
    assert outcome.action == "new_ticket"
    assert Ticket.objects.get(pk=outcome.ticket_id).store_id == amazon.pk


# --- errors from the platform --------------------------------------------------------------------


def test_429_with_retry_after_is_honoured(shop, fake, no_sleep):
    fake.add("messages", msg(1))
    fake.throttle_next(r"/v1/feeds/.*", retry_after=7)
    run = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES)
    assert run.status == SyncRunStatus.SUCCEEDED and run.created == 1
    assert 7.0 in no_sleep
    assert len(fake.requests_to(r"/v1/feeds/messages")) == 2


def test_5xx_is_retried_with_backoff(shop, fake, no_sleep):
    fake.add("messages", msg(1))
    fake.fail_next(r"/v1/feeds/.*", status=503, times=2, body={"message": "busy"})
    run = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES)
    assert run.status == SyncRunStatus.SUCCEEDED and run.created == 1
    assert len(fake.requests_to(r"/v1/feeds/messages")) == 3


def test_transient_errors_that_do_not_stop_fail_the_run_and_keep_the_cursor(shop, fake, no_sleep, settings):
    settings.CHANNELS_HTTP_MAX_ATTEMPTS = 2
    settings.CHANNELS_SYNC_MAX_ATTEMPTS = 2
    fake.add("messages", msg(1))
    fake.fail_next(r"/v1/feeds/.*", status=502, times=10)
    run = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES)
    assert run.status == SyncRunStatus.FAILED and run.errors == 2
    assert not StoreSync.objects.get(store=shop).paused
    assert StreamCursor.objects.get(store=shop).cursor == ""
    assert StreamCursor.objects.get(store=shop).claimed_by == ""


def test_a_permanent_error_pauses_the_store_with_the_platforms_message(shop, fake, no_sleep):
    fake.add("messages", msg(1))
    fake.token = "rotated"  # the seller revoked our token
    run = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES)
    assert run.status == SyncRunStatus.PAUSED and run.error == "access token revoked"
    sync = StoreSync.objects.get(store=shop)
    assert sync.paused and sync.paused_reason == "access token revoked" and sync.paused_by.startswith("connector:")
    assert len(fake.requests_to(r"/v1/feeds/messages")) == 1  # not retried
    skipped = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES)
    assert skipped.status == SyncRunStatus.SKIPPED
    fake.token = testshop.TOKEN
    store_sync_resume(store=shop, actor=Actor.system("test"))
    assert sync_stream(store_id=shop.pk, stream=Stream.MESSAGES).created == 1


# --- one worker per stream ---------------------------------------------------------------------


def test_a_stream_claimed_by_a_live_worker_is_skipped(shop, fake):
    fake.add("messages", msg(1))
    cursor = StreamCursor.objects.create(store=shop, stream="messages")
    holder = f"{socket.gethostname()}:{os.getppid()}:other"  # our parent process: alive
    StreamCursor.objects.filter(pk=cursor.pk).update(claimed_by=holder, locked_until=now() + timedelta(minutes=5))
    run = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES)
    assert run.status == SyncRunStatus.SKIPPED and not Message.objects.exists()
    assert StreamCursor.objects.get(pk=cursor.pk).claimed_by == holder


def test_a_claim_left_by_a_killed_process_is_taken_over(shop, fake):
    fake.add("messages", msg(1))
    cursor = StreamCursor.objects.create(store=shop, stream="messages")
    dead = f"{socket.gethostname()}:{2**22 + 12345}:dead"  # no such pid
    StreamCursor.objects.filter(pk=cursor.pk).update(claimed_by=dead, locked_until=now() + timedelta(minutes=5))
    run = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES)
    assert run.status == SyncRunStatus.SUCCEEDED and run.created == 1


def test_an_expired_lease_is_taken_over(shop, fake):
    fake.add("messages", msg(1))
    cursor = StreamCursor.objects.create(store=shop, stream="messages")
    StreamCursor.objects.filter(pk=cursor.pk).update(
        claimed_by="elsewhere:1:x", locked_until=now() - timedelta(seconds=1)
    )
    assert sync_stream(store_id=shop.pk, stream=Stream.MESSAGES).status == SyncRunStatus.SUCCEEDED


# --- what records do ---------------------------------------------------------------------------


def test_orders_are_upserted_with_change_detection(shop):
    def receive(*items):  # type: ignore[no-untyped-def]
        return [
            o.action
            for o in receive_records(
                store=shop, records=[RawRecord(Stream.ORDERS, i["id"], i) for i in items], source="pull"
            )
        ]

    assert receive(order(1)) == ["created"]
    placed = Order.objects.get(store=shop, external_id="O-1")
    assert placed.customer is not None and placed.customer.email == "b1@example.com"
    line = placed.lines.get()
    assert (line.external_line_id, line.sku, str(line.unit_price_amount)) == ("L1", "SKU-1", "25.00")
    assert placed.shipments.get().tracking_number == "TRK1"
    # The same version under another event id (amounts and instants written differently): nothing changes.
    same = {**order(1), "id": "order-1-again", "total": "25", "placed_at": "2026-11-01T12:00:00+02:00"}
    same["lines"] = [{"id": "L1", "sku": "SKU-1", "qty": 1, "price": "25.0"}]
    assert receive(same) == ["unchanged"]
    later = "2026-11-02T10:00:00+00:00"
    assert receive(order(1, updated=later, status="shipped")) == ["updated"]
    assert Order.objects.get(pk=placed.pk).status == "shipped"
    # An older version arriving late changes nothing.
    assert receive({**order(1, status="paid"), "id": "order-1-old", "updated_at": "2026-11-01T12:00:00+00:00"}) == [
        "unchanged"
    ]
    assert Order.objects.get(pk=placed.pk).status == "shipped"
    assert Order.objects.filter(store=shop).count() == 1


def test_a_buyers_messages_and_orders_share_one_customer(shop):
    receive_records(store=shop, records=[RawRecord(Stream.ORDERS, "o", order(1))], source="pull")
    (outcome,) = receive_records(
        store=shop, records=[RawRecord(Stream.MESSAGES, "m", msg(1, order="O-1"))], source="pull"
    )
    ticket = Ticket.objects.get(pk=outcome.ticket_id)
    assert ticket.order.external_id == "O-1" and ticket.customer_id == ticket.order.customer_id


def test_a_return_opens_a_ticket_and_status_changes_are_recorded(shop):
    receive_records(store=shop, records=[RawRecord(Stream.ORDERS, "o", order(1))], source="pull")
    (outcome,) = receive_records(store=shop, records=[RawRecord(Stream.RETURNS, "r1", ret(1))], source="pull")
    assert outcome.action == "new_ticket"
    request = ReturnRequest.objects.get(store=shop, external_id="R-1")
    assert request.ticket_id == outcome.ticket_id and request.order.external_id == "O-1"
    assert str(request.requested_amount) == "25.00" and request.respond_by.day == 4
    ticket = request.ticket
    assert ticket.category == "return" and "arrived broken" in ticket.messages.get().body
    later = "2026-11-02T10:00:00+00:00"
    (updated,) = receive_records(
        store=shop, records=[RawRecord(Stream.RETURNS, "r1b", ret(1, status="CLOSED", updated=later))], source="pull"
    )
    assert updated.action == "updated"
    request.refresh_from_db()
    assert request.platform_status == "CLOSED"
    types = list(ReturnRequestEvent.objects.filter(return_request=request).values_list("type", flat=True))
    assert types == ["received", "status_changed"]
    (same,) = receive_records(
        store=shop, records=[RawRecord(Stream.RETURNS, "r1c", ret(1, status="CLOSED", updated=later))], source="pull"
    )
    assert same.action == "unchanged"


def test_an_unknown_return_kind_is_quarantined(shop):
    (outcome,) = receive_records(
        store=shop, records=[RawRecord(Stream.RETURNS, "r", ret(1, kind="exchange_maybe"))], source="pull"
    )
    assert outcome.action == "quarantined" and RawEvent.objects.get(event_id="r").field == "kind"


def test_tracking_updates_the_shipment_and_dedupes_events(shop):
    shipment = ShipmentFactory(order=OrderFactory(store=shop, organization=shop.organization), tracking_number="T1")
    item = {
        "id": "t1",
        "type": "tracking",
        "tracking": "T1",
        "status": "delivered",
        "events": [
            {"at": "2026-11-01T10:00:00+00:00", "status": "in_transit"},
            {"at": "2026-11-02T10:00:00+00:00", "status": "delivered"},
        ],
    }
    (outcome,) = receive_records(store=shop, records=[RawRecord(Stream.TRACKING, "t1", item)], source="pull")
    assert outcome.action == "updated"
    shipment = Shipment.objects.get(pk=shipment.pk)
    assert shipment.status == "delivered" and shipment.delivered_at is not None
    (again,) = receive_records(store=shop, records=[RawRecord(Stream.TRACKING, "t1b", item)], source="pull")
    assert again.action == "unchanged"
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 2
    (unknown,) = receive_records(
        store=shop, records=[RawRecord(Stream.TRACKING, "t2", {**item, "tracking": "NOPE"})], source="pull"
    )
    assert unknown.action == "ignored"


def test_autoreplies_are_ignored_and_bounces_fail_our_reply(shop):
    (first,) = receive_records(store=shop, records=[RawRecord(Stream.MESSAGES, "m1", msg(1))], source="imap")
    ticket = Ticket.objects.get(pk=first.ticket_id)
    reply = Message.objects.create(
        ticket=ticket,
        store=shop,
        direction=MessageDirection.OUTBOUND,
        channel=shop.platform,
        external_id="<as.1.abc@example.com>",
        body="Our answer",
        delivery_status=DeliveryStatus.SENT,
    )
    Ticket.objects.filter(pk=ticket.pk).update(is_unreplied=False)
    items = [
        {"id": "a1", "type": "autoreply", "subject": "Out of office"},
        {"id": "b1", "type": "bounce", "original": ["as.1.abc@example.com"], "reason": "550 mailbox unavailable"},
    ]
    ignored, bounce = receive_records(
        store=shop, records=[RawRecord(Stream.MESSAGES, i["id"], i) for i in items], source="imap"
    )
    assert ignored.action == "ignored" and ignored.reason.startswith("autoreply")
    assert bounce.action == "bounce" and bounce.message_id == reply.pk
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED and "550" in reply.delivery_error
    assert Ticket.objects.get(pk=ticket.pk).is_unreplied
    assert RawEvent.objects.get(event_id="a1").status == RawEventStatus.IGNORED


def test_a_seller_message_joins_the_thread_without_reopening(shop):
    (first,) = receive_records(store=shop, records=[RawRecord(Stream.MESSAGES, "m1", msg(1))], source="pull")
    ticket = Ticket.objects.get(pk=first.ticket_id)
    later = "2026-11-01T11:00:00+00:00"
    seller = {**msg(2), "from_seller": True, "sent_at": later, "body": "We shipped it"}
    (outcome,) = receive_records(store=shop, records=[RawRecord(Stream.MESSAGES, "m2", seller)], source="pull")
    assert outcome.action == "thread" and outcome.ticket_id == ticket.pk
    message = Message.objects.get(pk=outcome.message_id)
    assert message.direction == MessageDirection.OUTBOUND and message.delivery_status == DeliveryStatus.SENT
    after = Ticket.objects.get(pk=ticket.pk)
    assert after.status == ticket.status and not after.is_unreplied
    lonely = {**msg(3, buyer="nobody"), "from_seller": True}
    (none,) = receive_records(store=shop, records=[RawRecord(Stream.MESSAGES, "m3", lonely)], source="pull")
    assert none.action == "ignored" and Ticket.objects.count() == 1


# --- services for the store pages ---------------------------------------------------------------


def test_backfill_restarts_streams_from_a_date_and_status_shows_them(shop, fake, no_sleep):
    fake.add("messages", msg(1))
    sync_stream(store_id=shop.pk, stream=Stream.MESSAGES)
    assert store_backfill_from(store=shop, since=now() - timedelta(days=90), actor=Actor.system("t")) == 4
    run = sync_stream(store_id=shop.pk, stream=Stream.MESSAGES)
    assert run.cursor_before == "" and run.duplicates == 1
    assert StreamCursor.objects.get(store=shop, stream="messages").backfill_since is None
    status = {s.stream: s for s in store_streams_status(shop)}
    assert set(status) == {"orders", "messages", "returns", "tracking"}
    assert status["messages"].cursor == "1" and status["messages"].last_run.status == "succeeded"
    assert SyncRun.objects.filter(store=shop).count() == 2


def test_store_context_uses_the_override_only_on_loopback(shop, settings):
    assert store_context(shop).base_url == shop.endpoint_url
    settings.CHANNELS_ALLOW_ENDPOINT_OVERRIDE = False
    assert store_context(shop).base_url == "https://api.testshop.invalid"
    settings.CHANNELS_ALLOW_ENDPOINT_OVERRIDE = True
    shop.endpoint_url = "https://evil.example.com"
    assert store_context(shop).base_url == "https://api.testshop.invalid"


def test_save_credentials_merges_under_the_row_lock_and_updates_the_context(shop):
    ctx = store_context(shop)
    ctx.save_credentials({"token": "new", "refresh_token": "r2"})
    shop.refresh_from_db()
    assert shop.credentials == {"token": "new", "refresh_token": "r2", "webhook_secret": testshop.WEBHOOK_SECRET}
    assert ctx.credentials["token"] == "new" and ctx.credentials["refresh_token"] == "r2"


def test_records_left_received_and_runs_left_running_by_a_dead_worker_are_swept(shop):
    RawEvent.objects.create(
        store=shop, stream="messages", event_id="msg-1", payload=msg(1), received_at=now() - timedelta(hours=1)
    )
    RawEvent.objects.create(
        store=shop, stream="messages", event_id="msg-2", payload=msg(2, buyer="b2"), received_at=now()
    )
    assert raw_events_process_pending() == 1  # the recent one may still be in a live worker's hands
    assert RawEvent.objects.get(event_id="msg-1").status == RawEventStatus.PROCESSED
    assert RawEvent.objects.get(event_id="msg-2").status == RawEventStatus.RECEIVED
    old = SyncRun.objects.create(store=shop, stream="messages", started_at=now() - timedelta(hours=2))
    live = SyncRun.objects.create(store=shop, stream="orders", started_at=now() - timedelta(hours=2))
    StreamCursor.objects.create(
        store=shop, stream="orders", claimed_by="elsewhere:1:x", locked_until=now() + timedelta(minutes=5)
    )
    assert sync_runs_mark_abandoned() == 1
    assert SyncRun.objects.get(pk=old.pk).status == SyncRunStatus.FAILED
    assert SyncRun.objects.get(pk=live.pk).status == SyncRunStatus.RUNNING


def test_a_page_aborted_by_the_database_is_processed_again_record_by_record(shop, monkeypatch, settings):
    from django.db import OperationalError

    from aftersales.channels import sync as engine

    settings.CHANNELS_SYNC_BATCH_MESSAGES = False  # record by record (the batched page: the next test)

    original = engine.apply_record
    calls = []

    def deadlocking_once(store, record):  # type: ignore[no-untyped-def]
        calls.append(record)
        if len(calls) == 2:
            raise OperationalError("deadlock detected")
        return original(store, record)

    monkeypatch.setattr(engine, "apply_record", deadlocking_once)
    records = [RawRecord(Stream.MESSAGES, f"msg-{n}", msg(n, buyer=f"b{n}")) for n in (1, 2, 3)]
    outcomes = receive_records(store=shop, records=records, source="pull")
    assert [o.action for o in outcomes] == ["new_ticket"] * 3
    assert len(calls) == 5  # 2 in the aborted page, then 3 one by one
    assert Message.objects.filter(store=shop).count() == 3
    assert not RawEvent.objects.exclude(status=RawEventStatus.PROCESSED).exists()


def test_a_batched_page_aborted_by_the_database_is_processed_again_record_by_record(shop, monkeypatch, settings):
    settings.CHANNELS_SYNC_BATCH_MESSAGES = True  # (the default)
    from django.db import OperationalError

    from aftersales.channels import sync as engine

    original = engine.message_ingest_many
    calls = []

    def deadlocking_once(*, inbounds):  # type: ignore[no-untyped-def]
        calls.append(len(inbounds))
        if len(calls) == 1:
            original(inbounds=inbounds)  # writes, then the database aborts the page
            raise OperationalError("deadlock detected")
        return original(inbounds=inbounds)

    monkeypatch.setattr(engine, "message_ingest_many", deadlocking_once)
    records = [RawRecord(Stream.MESSAGES, f"msg-{n}", msg(n, buyer=f"b{n}")) for n in (1, 2, 3)]
    outcomes = receive_records(store=shop, records=records, source="pull")
    assert [o.action for o in outcomes] == ["new_ticket"] * 3
    assert calls == [3]  # one page call, then the records one by one through apply_record
    assert Message.objects.filter(store=shop).count() == 3
    assert not RawEvent.objects.exclude(status=RawEventStatus.PROCESSED).exists()
