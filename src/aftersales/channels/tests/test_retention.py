"""Retention of raw records: processed and ignored ones past the retention are deleted in batches;
quarantined and not-yet-processed ones stay; a redelivered pruned event is processed again harmlessly."""

from __future__ import annotations

from datetime import timedelta

from aftersales.channels.base import RawRecord, Stream
from aftersales.channels.models import RawEvent, RawEventStatus
from aftersales.channels.retention import raw_events_prune
from aftersales.channels.sync import receive_records
from aftersales.core.clock import now
from aftersales.inbox.models import Message

from .test_sync import msg


def _raw(shop, event_id: str, status: str, processed_days_ago: float | None):  # type: ignore[no-untyped-def]
    at = now() - timedelta(days=processed_days_ago or 0)
    return RawEvent.objects.create(
        store=shop,
        stream="messages",
        event_id=event_id,
        payload={},
        status=status,
        received_at=at,
        processed_at=at if processed_days_ago is not None else None,
    )


def test_only_old_processed_and_ignored_records_are_deleted(shop, settings):
    settings.CHANNELS_RAW_RETENTION_DAYS = 30
    _raw(shop, "old-processed", RawEventStatus.PROCESSED, 40)
    _raw(shop, "old-ignored", RawEventStatus.IGNORED, 31)
    _raw(shop, "old-quarantined", RawEventStatus.QUARANTINED, 400)
    _raw(shop, "old-received", RawEventStatus.RECEIVED, None)
    _raw(shop, "recent-processed", RawEventStatus.PROCESSED, 29)
    assert raw_events_prune(batch_size=1) == 2  # several batches
    assert set(RawEvent.objects.values_list("event_id", flat=True)) == {
        "old-quarantined",
        "old-received",
        "recent-processed",
    }
    assert raw_events_prune() == 0  # safe twice


def test_a_redelivered_pruned_event_changes_nothing(shop):
    record = RawRecord(stream=Stream.MESSAGES, event_id="msg-77", payload=msg(77))
    [first] = receive_records(store=shop, records=[record], source="webhook")
    assert first.action == "new_ticket"
    RawEvent.objects.filter(event_id="msg-77").update(processed_at=now() - timedelta(days=365))
    assert raw_events_prune(older_than=timedelta(days=90)) == 1
    [again] = receive_records(store=shop, records=[record], source="webhook")
    assert again.action == "duplicate"  # message_ingest knows the (store, external id)
    assert Message.objects.filter(store=shop, ticket_id=first.ticket_id).count() == 1
