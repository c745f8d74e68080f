"""Background jobs of the sync engine (Huey). Every task is safe to run twice: a stream is claimed
(StreamCursor.claimed_by) before it is pulled, so a second worker running the same sync skips it."""

from __future__ import annotations

import logging

from django.core.cache import cache
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from aftersales.catalog.models import Store
from aftersales.core.clock import now

from .base import ConnectorError, Stream
from .message_templates import templates_refresh
from .models import StoreSync
from .registry import get_connector
from .retention import raw_events_prune
from .scopes import store_scopes_refresh
from .shipping import shipment_mark_shipped_task  # noqa: F401 (registered with the worker)
from .status import store_sync_for
from .sync import pull_streams, raw_events_process_pending, sync_runs_mark_abandoned, sync_stream
from .writeback import writebacks_mark_unknown

logger = logging.getLogger(__name__)


@db_task()
def sync_store_stream(store_id: int, stream: str) -> str:
    status = sync_stream(store_id=store_id, stream=Stream(stream)).status
    if stream == Stream.ORDERS and status == "succeeded":  # once per sync round: the scopes still granted
        store = Store.objects.filter(pk=store_id, is_active=True).select_related("organization").first()
        if store is not None:
            store_scopes_refresh(store)
    return status


def _syncable_stores() -> list[Store]:
    """Active, unpaused stores that were connected. A store without credentials was never connected
    (e.g. added for its tickets before its connector existed): it is not synced, so it is not paused
    for "missing credentials" and does not land in the needs-a-human list."""
    paused = set(StoreSync.objects.filter(paused=True).values_list("store_id", flat=True))
    stores = Store.objects.filter(is_active=True).exclude(pk__in=paused).order_by("pk")
    return [store for store in stores if store.credentials]


def stores_to_sync() -> list[tuple[int, str]]:
    """(store id, stream) of every active, unpaused store whose connector pulls streams."""
    work: list[tuple[int, str]] = []
    for store in _syncable_stores():
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


def poll_notifications() -> int:
    """Connectors whose platform queues notifications for us to fetch (Amazon's ORDER_CHANGE in SQS)
    declare `notification_poll(store)`; it is called for each active, unpaused store of theirs, at most
    once a minute per store (a cache claim; the records it receives are deduplicated by the engine
    anyway). A ConnectorError is recorded as the store's last error. Returns the stores polled."""
    polled = 0
    for store in _syncable_stores():
        try:
            poll = getattr(get_connector(store.platform), "notification_poll", None)
        except ConnectorError:
            continue
        if not callable(poll) or not cache.add(f"channels:notification-poll:{store.pk}", 1, timeout=50):
            continue
        try:
            poll(store)
        except ConnectorError as exc:
            logger.warning("notification poll failed", extra={"store_id": store.pk, "error": str(exc)[:200]})
            sync = store_sync_for(store)
            StoreSync.objects.filter(pk=sync.pk).update(last_error=str(exc)[:5000], last_error_at=now())
        polled += 1
    return polled


@db_periodic_task(crontab(minute="*"))
def poll_store_notifications() -> int:
    return poll_notifications()


@db_periodic_task(crontab(minute="41"))
def refresh_message_templates() -> int:
    """Hourly: every syncable store whose connector lists message templates (WhatsApp) gets the
    platform's current approved ones (store_sync.templates_refresh); a refusal is logged and the
    stored list kept. Returns how many stores were refreshed."""
    done = 0
    for store in _syncable_stores():
        try:
            connector = get_connector(store.platform)
        except ConnectorError:
            continue
        if not hasattr(connector, "list_templates"):
            continue
        try:
            templates_refresh(store, connector)
            done += 1
        except ConnectorError as exc:
            logger.warning("templates not refreshed", extra={"store_id": store.pk, "error": str(exc)[:300]})
    return done


@db_periodic_task(crontab(hour="3", minute="17"))
def prune_raw_events() -> int:
    """Daily: processed and ignored raw records past CHANNELS_RAW_RETENTION_DAYS (channels/retention.py)."""
    return raw_events_prune()
