"""Two workers running the same follow-up job at once on PostgreSQL (threads, each with its own
connection): every ticket gets one message, every coupon goes to one buyer. The unique key of the
follow-up row, created in the reply's transaction, and the conditional UPDATE of the coupon make it so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from aftersales.core.clock import now
from aftersales.followups import jobs
from aftersales.followups.models import Coupon, FollowUp, FollowUpOutcome
from aftersales.inbox.models import Message, MessageDirection
from aftersales.testing.threads import run_together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
]


def _together(*work: Callable[[], Any]) -> list[Any]:
    return run_together(*work, timeout=120)


def test_two_workers_send_each_survey_once(world, config, solved):
    tickets = [solved() for _ in range(4)]
    results = _together(jobs.csat_surveys_send, jobs.csat_surveys_send, jobs.csat_surveys_send)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 4
    for ticket in tickets:
        assert Message.objects.filter(ticket=ticket, direction=MessageDirection.OUTBOUND).count() == 1
    assert FollowUp.objects.filter(outcome=FollowUpOutcome.SENT).count() == 4


def test_two_workers_hand_out_each_coupon_once(world, config, solved):
    for n in range(3):
        Coupon.objects.create(organization=world.org, code=f"C-{n}", imported_at=now())
    tickets = [solved(category="complaint") for _ in range(3)]
    results = _together(jobs.complaint_thanks_send, jobs.complaint_thanks_send)
    assert not [r for r in results if isinstance(r, Exception)], results
    codes = [FollowUp.objects.get(ticket=t).coupon_code for t in tickets]
    assert sorted(codes) == ["C-0", "C-1", "C-2"]
    assert Coupon.objects.filter(used_at__isnull=True).count() == 0
    assert Message.objects.filter(direction=MessageDirection.OUTBOUND).count() == 3
