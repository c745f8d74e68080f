"""Platform access scopes granted to our app, compared with what the store's features need
(Shopify today: connectors/shopify/scopes.py).

A connector that can tell offers `granted_scopes(ctx) -> frozenset[str]` and `scope_needs`
(Capability -> scope handles). `store_scopes_refresh` reads the grant and keeps it on the store's
StoreSync (`granted_scopes`, `scopes_checked_at`); `scope_gaps` lists the features the grant
disables (the store page shows them); `require_scopes` (called by the connector with the
grant its context reads lazily) refuses such a feature with a permanent ConnectorError naming the
missing scopes, before any call. A grant never read (None) refuses
nothing: the platform's own answer decides then."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from aftersales.catalog.models import Store
from aftersales.core.clock import now

from .base import Capability, ConnectorError, StoreContext
from .context import store_context
from .models import StoreSync
from .registry import get_connector
from .selectors import CAPABILITY_LABELS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScopeGap:
    capability: str
    label: str  # the feature, in the seller's words (the store page's capability list)
    missing: tuple[str, ...]


def _needs(platform: str) -> Mapping[Capability, tuple[str, ...]]:
    try:
        connector = get_connector(platform)
    except ConnectorError:
        return {}
    return getattr(connector, "scope_needs", None) or {}


def store_scopes_refresh(store: Store) -> frozenset[str] | None:
    """Read the scopes the platform granted and store them; None when the connector cannot tell.
    A failed read is logged and leaves the last known grant (the sync reports the platform error)."""
    try:
        connector = get_connector(store.platform)
    except ConnectorError:
        return None
    reader = getattr(connector, "granted_scopes", None)
    if not callable(reader):
        return None
    try:
        granted = frozenset(reader(store_context(store, connector=connector)))
    except ConnectorError as exc:
        logger.warning("granted scopes not read", extra={"store_id": store.pk, "error": str(exc)[:300]})
        return None
    StoreSync.objects.update_or_create(
        store=store, defaults={"granted_scopes": sorted(granted), "scopes_checked_at": now()}
    )
    return granted


def scope_gaps(platform: str, granted: list[str] | None) -> list[ScopeGap]:
    """The features the grant disables, each with the scopes it lacks (none when never read)."""
    if granted is None:
        return []
    have = set(granted)
    return [
        ScopeGap(
            capability=str(capability),
            label=str(CAPABILITY_LABELS.get(capability, capability)),
            missing=tuple(s for s in scopes if s not in have),
        )
        for capability, scopes in _needs(platform).items()
        if not set(scopes) <= have
    ]


def require_scopes(ctx: StoreContext, needs: Mapping[Capability, tuple[str, ...]], capability: Capability) -> None:
    """Refuse `capability` when the store's last read grant (ctx.granted_scopes) lacks a scope it
    needs: a permanent ConnectorError (code "scope") naming them, before any platform call."""
    needed = needs.get(capability)
    granted = ctx.granted_scopes() if needed else None
    if granted is None:
        return
    missing = [s for s in needed or () if s not in set(granted)]
    if missing:
        raise ConnectorError(
            _(
                "The platform has not granted this app the access scope(s) %(scopes)s, which this action "
                "needs; connect the store again from its page and accept them."
            )
            % {"scopes": ", ".join(missing)},
            permanent=True,
            code="scope",
        )
