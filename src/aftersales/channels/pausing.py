"""Pausing a store's sync, kept apart from sync.py (which imports the inbox's, returns' and warranty
services) so that the inbox's reply delivery can pause a store whose token the platform refused."""

from __future__ import annotations

import logging

from aftersales.catalog.models import Store
from aftersales.core.actors import Actor
from aftersales.core.clock import now

from .models import StoreSync
from .status import store_sync_for

logger = logging.getLogger(__name__)


def store_sync_pause(*, store: Store, reason: str, actor: Actor) -> StoreSync:
    """Stop syncing a store (a human's decision, or a permanent platform error with the platform's
    own words in `reason`)."""
    sync = store_sync_for(store)
    StoreSync.objects.filter(pk=sync.pk).update(
        paused=True,
        paused_reason=reason[:5000],
        paused_at=now(),
        paused_by=f"{actor.kind}:{actor.id}"[:80],
        updated_at=now(),
    )
    sync.refresh_from_db()
    logger.warning("store sync paused", extra={"store_id": store.pk, "reason": reason[:200]})
    return sync


def store_sync_pause_by_connector(*, store: Store, reason: str) -> StoreSync:
    """The store paused by its own connector (a permanent refusal of its credentials)."""
    return store_sync_pause(
        store=store, reason=reason, actor=Actor.connector(store_id=store.pk, platform=store.platform)
    )
