"""The demo opens a handful of RMAs through the RMA services, in different statuses."""

from __future__ import annotations

import pytest
from django.utils import timezone

from aftersales.demo.generator import generate
from aftersales.returns.models import Rma, RmaEvent

pytestmark = pytest.mark.django_db


def test_demo_has_rmas_in_several_statuses() -> None:
    result = generate(tickets=60, seed=3, now=timezone.now())
    rmas = Rma.objects.filter(organization=result.organization)
    statuses = set(rmas.values_list("status", flat=True))
    assert rmas.count() >= 4, statuses
    assert {"approved", "rejected"} <= statuses or {"label_issued", "rejected"} <= statuses, statuses
    assert RmaEvent.objects.filter(rma__in=rmas, actor_user__username="admin").exists()
