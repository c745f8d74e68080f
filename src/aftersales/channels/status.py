"""Reads of the sync state (no writes but the creation of a store's StoreSync row on first use):
the streams a store's connector pulls, each stream's position and last run, quarantined records,
stores whose sync is paused. Kept apart from sync.py (which imports the inbox's and the returns'
services) so that selectors can use them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from aftersales.catalog.models import Store
from aftersales.core.clock import now

from .base import PULL_CAPABILITY, Capability, ConnectorError, Stream
from .models import RawEvent, RawEventStatus, StoreSync, StreamCursor, SyncRun
from .registry import get_connector


def store_sync_for(store: Store) -> StoreSync:
    sync, _created = StoreSync.objects.get_or_create(store=store)
    return sync


def pull_streams(store: Store) -> list[Stream]:
    """The streams the store's connector pulls (by its declared capabilities)."""
    connector = get_connector(store.platform)
    return [s for s, cap in PULL_CAPABILITY.items() if cap in connector.capabilities]


@dataclass(frozen=True)
class StreamStatus:
    stream: str
    key: str
    cursor: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    running: bool
    backfill_since: datetime | None
    last_run: SyncRun | None


def store_streams_status(store: Store) -> list[StreamStatus]:
    """Per pulled stream (and sub-stream): where it is, when it last ran and succeeded, its error."""
    cursors = {(c.stream, c.key): c for c in StreamCursor.objects.filter(store=store)}
    for pulled in pull_streams(store):
        cursors.setdefault((str(pulled), ""), StreamCursor(store=store, stream=str(pulled), key=""))
    at = now()
    out = []
    for (stream, key), c in sorted(cursors.items()):
        last_run = SyncRun.objects.filter(store=store, stream=stream, key=key).order_by("-started_at", "-pk").first()
        out.append(
            StreamStatus(
                stream=stream,
                key=key,
                cursor=c.cursor,
                last_run_at=c.last_run_at,
                last_success_at=c.last_success_at,
                last_error=c.last_error,
                running=bool(c.claimed_by and c.locked_until and c.locked_until > at),
                backfill_since=c.backfill_since,
                last_run=last_run,
            )
        )
    return out


def quarantined_events(*, organization_id: int, store_id: int | None = None) -> QuerySet[RawEvent]:
    """Records that need a human (newest first): what the seller sees as "could not be imported"."""
    rows = RawEvent.objects.filter(store__organization_id=organization_id, status=RawEventStatus.QUARANTINED)
    if store_id is not None:
        rows = rows.filter(store_id=store_id)
    return rows.select_related("store").order_by("-received_at", "-pk")


def stores_needing_attention(*, organization_id: int) -> QuerySet[StoreSync]:
    """Stores whose sync is paused (by a permanent platform error or a human)."""
    return StoreSync.objects.filter(store__organization_id=organization_id, paused=True).select_related("store")


def capabilities_of(store: Store) -> frozenset[Capability]:
    """What the store's connector supports (the UI offers only these)."""
    try:
        return frozenset(get_connector(store.platform).capabilities)
    except ConnectorError:
        return frozenset()
