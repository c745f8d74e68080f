"""Helpers of the connector tests: a StoreContext that records what a connector did through it
(and, like the engine's, keeps the credentials it saved), retry waits recorded instead of slept,
and the row counts a sync changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from aftersales.channels.base import StoreContext, Stream


@dataclass
class Recorder:
    saved: list[dict[str, Any]] = field(default_factory=list)
    throttled: list[str] = field(default_factory=list)

    def context(
        self, *, platform: str, site: str, seller_id: str, currency: str, credentials: dict[str, Any], base_url: str
    ) -> StoreContext:
        creds = dict(credentials)

        def save(updates: dict[str, Any]) -> None:
            self.saved.append(updates)
            creds.update(updates)

        return StoreContext(
            store_id=1,
            organization_id=1,
            platform=platform,
            site=site,
            seller_id=seller_id,
            currency=currency,
            credentials=creds,
            base_url=base_url,
            save_credentials=save,
            throttle=lambda bucket, cost: self.throttled.append(bucket),
        )


def record_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry-After and backoff waits of the engine's HTTP client and sync, recorded, not slept."""
    waits: list[float] = []
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", waits.append)
    monkeypatch.setattr("aftersales.channels.sync.wait_seconds", waits.append)
    return waits


def store_rows(store: Any) -> tuple[int, int, int, int, int]:
    """(tickets, messages, orders, return requests, raw events) of a store."""
    from aftersales.catalog.models import Order
    from aftersales.channels.models import RawEvent
    from aftersales.inbox.models import Message, Ticket
    from aftersales.returns.models import ReturnRequest

    return tuple(  # type: ignore[return-value]
        model.objects.filter(store=store).count() for model in (Ticket, Message, Order, ReturnRequest, RawEvent)
    )


def sync_streams(
    store: Any, streams: tuple[Stream, ...] = (Stream.ORDERS, Stream.MESSAGES, Stream.RETURNS)
) -> dict[Stream, Any]:
    from aftersales.channels.sync import sync_stream

    return {s: sync_stream(store_id=store.pk, stream=s) for s in streams}


def without_connector(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    """Make `platform` a platform with no connector and no credentials schema for one test (every
    platform of catalog.Platform has a connector now; tests of that case pick one and unplug it)."""
    from aftersales.channels import credentials, registry

    monkeypatch.delitem(registry._CONNECTORS, platform, raising=False)
    monkeypatch.delitem(registry._instances, platform, raising=False)
    monkeypatch.delitem(credentials.PLATFORM_CREDENTIALS, platform, raising=False)  # type: ignore[attr-defined]


def unplugged(platform: str) -> Any:
    """An autouse fixture for a test module: `platform` has no connector in that module's tests
    (`_no_wish = unplugged("wish")` at module level)."""

    @pytest.fixture(autouse=True)
    def _unplugged(monkeypatch: pytest.MonkeyPatch) -> None:
        without_connector(monkeypatch, platform)

    return _unplugged
