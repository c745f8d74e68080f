"""Stores that only receive pushes (WhatsApp Cloud API, Messenger): nothing is pulled, so their store
page shows how the platform is wired to us instead of "Sync now": the webhook URL and the verify
token to paste into the Meta app's Webhooks settings, and the subscription's state:

- `waiting`: Meta has not verified the address yet (no `hub.mode=subscribe` handshake answered);
- `verified`: Meta verified it (views._handshake records when, per store) and no push came since;
- `receiving`: pushes arrive (the last one's time, from the raw record store).

The handshake time is stored on the store's StoreSync row (`push_verified_at`), so it survives a
restart or a cache flush and every process (web, worker) reads the same state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max

from aftersales.catalog.models import Store
from aftersales.core.clock import now

from .base import ConnectorError
from .context import store_context
from .models import RawEvent, StoreSync
from .registry import get_connector
from .selectors import webhook_path
from .status import pull_streams


@dataclass(frozen=True)
class PushChannelStatus:
    webhook_url: str
    verify_token: str  # what to type into Meta's "Verify token" ("" until the credentials are set)
    state: str  # waiting | verified | receiving
    verified_at: datetime | None
    last_push_at: datetime | None


def push_handshake_record(store: Store) -> None:
    """Meta verified the store's webhook address (the subscription handshake was answered)."""
    StoreSync.objects.update_or_create(store=store, defaults={"push_verified_at": now()})


def is_push_only(store: Store) -> bool:
    """The store's connector pulls nothing and answers Meta's subscription handshake."""
    try:
        connector = get_connector(store.platform)
    except ConnectorError:
        return False
    return callable(getattr(connector, "webhook_handshake", None)) and not pull_streams(store)


def push_channel_status(store: Store) -> PushChannelStatus | None:
    """None for a store that pulls (its page keeps the sync box)."""
    if not is_push_only(store):
        return None
    sync, _created = StoreSync.objects.get_or_create(store=store)
    connector = get_connector(store.platform)
    credentials = store_context(store, connector=connector).credentials or {}
    verified_at = sync.push_verified_at
    last_push = RawEvent.objects.filter(store=store, source="webhook").aggregate(at=Max("received_at"))["at"]
    state = "receiving" if last_push else ("verified" if verified_at else "waiting")
    return PushChannelStatus(
        webhook_url=settings.SITE_URL.rstrip("/") + webhook_path(store.platform, sync.webhook_token),
        verify_token=str(credentials.get("verify_token") or ""),
        state=state,
        verified_at=verified_at,
        last_push_at=last_push,
    )
