from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aftersales.channels.connectors.seventeentrack.fake import FakeSeventeenTrack
from aftersales.core import events


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    controlled = Clock()
    monkeypatch.setattr("aftersales.core.clock.now", controlled.now)
    return controlled


@pytest.fixture
def fake():
    with FakeSeventeenTrack(token="ORG-17-KEY").running() as running:
        yield running


@pytest.fixture(autouse=True)
def no_waits(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr("aftersales.tracking.providers.sleep", waits.append)
    return waits


@pytest.fixture
def account(world, fake, settings):
    from aftersales.tracking.models import TrackingAccount

    settings.CHANNELS_ALLOW_ENDPOINT_OVERRIDE = True
    return TrackingAccount.objects.create(
        organization=world.org, credentials={"api_key": "ORG-17-KEY"}, endpoint_url=fake.url
    )


@pytest.fixture
def published(monkeypatch):
    """Every tracking event published (after commit) during the test."""
    from aftersales.tracking.events import ShipmentStatusChanged, TrackingRegistrationRejected

    seen: list[object] = []
    for cls in (ShipmentStatusChanged, TrackingRegistrationRejected):
        monkeypatch.setitem(events._subscribers, cls, [*events._subscribers[cls], seen.append])
    return seen
