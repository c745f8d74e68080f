"""Two workers at once on PostgreSQL (threads, each with its own connection): every number is
registered once and fetched once, every event stored once (the claims are conditional updates)."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
from django.db import connection

from aftersales.catalog.models import TrackingEvent
from aftersales.channels.connectors.seventeentrack.fake import event
from aftersales.testing.factories import OrderFactory, ShipmentFactory
from aftersales.tracking.models import ShipmentTracking
from aftersales.tracking.services import shipments_register, tracking_poll

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
]


def _twice(work, account_id: int) -> list[object]:
    barrier = threading.Barrier(2)
    results: list[object] = []

    def run() -> None:
        from django.db import connections

        try:
            barrier.wait()
            results.append(work(account_id=account_id))
        except Exception as exc:
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_workers_register_and_poll_each_number_once(world, account, fake):
    numbers = [f"LP{n:014d}" for n in range(60)]
    for number in numbers:
        ShipmentFactory(order=OrderFactory(store=world.store_us), tracking_number=number, carrier="")
    results = _twice(shipments_register, account.pk)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.registered for r in results) == 60  # type: ignore[attr-defined]
    sent = Counter(item["number"] for r in fake.requests_to("/track/v2.2/register") for item in json.loads(r.body))
    assert set(sent) == set(numbers) and set(sent.values()) == {1}
    assert ShipmentTracking.objects.filter(registered_at__isnull=False).count() == 60

    for number in numbers:
        fake.set_tracking(number, "InTransit", "InTransit_Other", [event("2026-11-20T00:00:00Z", "Sorted")])
    results = _twice(tracking_poll, account.pk)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.polled for r in results) == 60  # type: ignore[attr-defined]
    fetched = Counter(
        item["number"] for r in fake.requests_to("/track/v2.2/gettrackinfo") for item in json.loads(r.body)
    )
    assert set(fetched.values()) == {1}
    assert TrackingEvent.objects.count() == 60
