"""Background jobs of the sync engine (Huey). Every task is safe to run twice: a stream is claimed
(StreamCursor.claimed_by) before it is pulled, so a second worker running the same sync skips it."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from aftersales.catalog.models import Store

from .base import ConnectorError, Stream
from .models import StoreSync
from .sync import pull_streams, raw_events_process_pending, sync_runs_mark_abandoned, sync_stream
from .writeback import writebacks_mark_unknown

logger = logging.getLogger(__name__)


@db_task()
def sync_store_stream(store_id: int, stream: str) -> str:
    return sync_stream(store_id=store_id, stream=Stream(stream)).status


def stores_to_sync() -> list[tuple[int, str]]:
    """(store id, stream) of every active, unpaused store whose connector pulls streams."""
    paused = set(StoreSync.objects.filter(paused=True).values_list("store_id", flat=True))
    work: list[tuple[int, str]] = []
    for store in Store.objects.filter(is_active=True).exclude(pk__in=paused).order_by("pk"):
        try:
            streams = pull_streams(store)
        except ConnectorError:  # no connector installed for the platform: nothing to pull
            logger.debug("no connector for store", extra={"store_id": store.pk, "platform": store.platform})
            continue
        work.extend((store.pk, stream.value) for stream in streams)
    return work


@db_periodic_task(crontab(minute="*/5"))
def sync_all_stores() -> int:
    """Every five minutes: one task per (store, stream); overlapping runs skip a claimed stream."""
    work = stores_to_sync()
    for store_id, stream in work:
        sync_store_stream(store_id, stream)
    return len(work)


@db_periodic_task(crontab(minute="*/5"))
def process_pending_raw_events() -> int:
    """Records a dead worker stored but did not process; runs it left `running`."""
    sync_runs_mark_abandoned()
    return raw_events_process_pending()


@db_periodic_task(crontab(minute="*/5"))
def sweep_stale_writebacks() -> int:
    return writebacks_mark_unknown()
