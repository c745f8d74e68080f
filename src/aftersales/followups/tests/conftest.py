from __future__ import annotations

from datetime import timedelta

import pytest

from aftersales.core.clock import now
from aftersales.followups.models import FollowUpSettings
from aftersales.inbox.workflow import TicketStatus
from aftersales.testing.factories import OrderFactory


@pytest.fixture
def config(world):  # type: ignore[no-untyped-def]
    return FollowUpSettings.objects.create(
        organization=world.org,
        csat_enabled=True,
        csat_delay_hours=24,
        csat_sample_percent=100,
        csat_link_days=14,
        thanks_enabled=True,
        thanks_categories=["complaint"],
        stall_enabled=True,
        stall_days=7,
    )


@pytest.fixture
def solved(world):  # type: ignore[no-untyped-def]
    """A ticket on the eBay DE store (links allowed), solved 25 hours ago."""

    def make(store=None, hours_ago: int = 25, **kw):  # type: ignore[no-untyped-def]
        store = store or world.store_de
        order = OrderFactory(store=store, organization=world.org)
        kw.setdefault("language", "de")
        return world.ticket(
            store=store,
            order=order,
            customer=order.customer,
            status=TicketStatus.SOLVED,
            resolved_at=now() - timedelta(hours=hours_ago),
            **kw,
        )

    return make
