"""How long received records are kept raw.

A raw record is the engine's proof that an event was received (its (store, event id) makes a redelivery
a no-op) and the source a quarantined record is retried from. Once processed (or ignored) and older than
CHANNELS_RAW_RETENTION_DAYS, it is deleted: a platform that redelivers such an old event later gets it
processed again, which the upserts make harmless (a message is unique per (store, external id), orders
and returns are compared with what is stored). Quarantined records and records not processed yet are
never deleted here: they wait for a human or for the worker."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction

from aftersales.core.clock import now

from .models import RawEvent, RawEventStatus

PRUNED_STATUSES = (RawEventStatus.PROCESSED, RawEventStatus.IGNORED)


def raw_events_prune(*, older_than: timedelta | None = None, batch_size: int = 2000, max_batches: int = 500) -> int:
    """Delete processed and ignored raw records processed before now - `older_than` (default
    CHANNELS_RAW_RETENTION_DAYS), in batches of `batch_size` rows (each its own short transaction, so
    SQLite's writer lock is never held long). Safe to run twice or concurrently. Returns the rows deleted."""
    if older_than is None:
        older_than = timedelta(days=settings.CHANNELS_RAW_RETENTION_DAYS)
    cutoff = now() - older_than
    deleted = 0
    for _ in range(max_batches):
        ids = list(
            RawEvent.objects.filter(status__in=PRUNED_STATUSES, processed_at__lt=cutoff)
            .order_by("processed_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        with transaction.atomic():
            count, _ = RawEvent.objects.filter(pk__in=ids, status__in=PRUNED_STATUSES).delete()
        deleted += count
    return deleted
