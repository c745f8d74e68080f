"""A store as a connector sees it: `store_context(store)` (decrypted credentials, the endpoint,
token persistence, the store's rate limiter). Kept apart from sync.py so that the inbox's delivery
can build one without importing the engine (which imports the inbox)."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from aftersales.catalog.models import Store

from .base import Connector, StoreContext
from .marketplace_apps import effective_credentials
from .ratelimit import Limiter
from .registry import get_connector

logger = logging.getLogger(__name__)


def is_loopback_url(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_base_url(connector: Any, site: str) -> str:
    default = getattr(connector, "default_base_url", "")
    if callable(default):
        return str(default(site))
    return str(default or "")


def store_base_url(store: Store, connector: Any) -> str:
    """The store's endpoint_url when overrides are allowed (settings.CHANNELS_ALLOW_ENDPOINT_OVERRIDE)
    and it points at this machine (the local fakes); otherwise the connector's default endpoint."""
    override = (store.endpoint_url or "").strip()
    if override:
        if getattr(settings, "CHANNELS_ALLOW_ENDPOINT_OVERRIDE", False) and is_loopback_url(override):
            return override.rstrip("/")
        logger.warning("store endpoint override ignored", extra={"store_id": store.pk})
    return default_base_url(connector, store.site).rstrip("/")


def store_credentials_save(*, store_id: int, updates: dict[str, Any]) -> None:
    """Merge refreshed credentials (OAuth tokens) into the store's encrypted credentials. Locks the
    store row, so two workers refreshing at once both keep their keys and neither loses the other's."""
    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=store_id)
        merged = dict(store.credentials or {})
        merged.update(updates)
        store.credentials = merged
        store.save(update_fields=["credentials", "updated_at"])


def store_credentials_refresh(
    *, store_id: int, refresh: Callable[[Mapping[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    """`refresh(the stored credentials)` under the store's row lock (it may call the platform: a token
    refresh), its answer merged and saved in the same transaction. Two workers refreshing a rotating
    refresh token at once: the second sees the first one's tokens and need not refresh again."""
    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=store_id)
        current = dict(store.credentials or {})
        updates = refresh(current)
        if updates:
            store.credentials = {**current, **updates}
            store.save(update_fields=["credentials", "updated_at"])
        return {**current, **updates}


def store_context(
    store: Store, *, connector: Connector | None = None, sleep: Callable[[float], None] | None = None
) -> StoreContext:
    """What a connector gets for one store: decrypted credentials (never log them; the
    organization's marketplace app keys included unless the store has its own), the endpoint,
    `save_credentials` (merges and persists refreshed tokens, encrypted, under the store's row lock)
    and `throttle(bucket, cost)` (the store's token buckets, by the connector's `rate_limits`)."""
    connector = connector or get_connector(store.platform)
    limits = getattr(connector, "rate_limits", None) or {}
    limiter = Limiter(store.pk, limits, sleep=sleep) if sleep else Limiter(store.pk, limits)
    store_id = store.pk
    # The organization's marketplace app keys under the store's own (marketplace_apps.py).
    credentials = effective_credentials(store)

    def save_credentials(updates: dict[str, Any]) -> None:
        store_credentials_save(store_id=store_id, updates=updates)
        # The context's own view too: the next page of this run uses the refreshed token (a rotating
        # refresh token used twice would be refused, and the store paused).
        credentials.update(updates)

    def throttle(bucket: str, cost: float = 1.0) -> None:
        limiter.throttle(bucket, cost)

    def refresh_credentials(refresh: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Mapping[str, Any]:
        updates = store_credentials_refresh(store_id=store_id, refresh=refresh)
        credentials.update(updates)
        return dict(credentials)

    return StoreContext(
        store_id=store.pk,
        organization_id=store.organization_id,
        platform=store.platform,
        site=store.site,
        seller_id=store.external_id,
        currency=store.currency,
        credentials=credentials,
        base_url=store_base_url(store, connector),
        save_credentials=save_credentials,
        throttle=throttle,
        refresh_credentials=refresh_credentials,
        granted_scopes=lambda: _granted_scopes(store.pk),
    )


def _granted_scopes(store_id: int) -> list[str] | None:
    from .models import StoreSync

    return StoreSync.objects.filter(store_id=store_id).values_list("granted_scopes", flat=True).first()
