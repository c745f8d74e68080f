"""The dry run in the editor by pages: the first page renders with its results and a loader that
posts the form again with the cursor; each next page appends its rows and updates the running
summary out of band; a cursor for another document is refused on the summary, nothing else."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales.inbox.models import Ticket
from aftersales.rules.tests.test_web import builder_post, client_for
from aftersales.web.views import settings_rules

pytestmark = pytest.mark.django_db


def carried(body: str) -> dict[str, str]:
    """What the loader row posts with the form (its hx-vals)."""
    found = re.search(r"id=\"sim-more\"[^>]*hx-vals='([^']+)'", body)
    assert found is not None, body[-2000:]
    return dict(json.loads(found.group(1).replace("&quot;", '"')))


def test_pages_load_one_after_another(world: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(settings_rules, "SIMULATION_PAGE_EVENTS", 2)
    for i in range(5):
        ticket = world.ticket(subject=f"Parcel {i}")
        Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(days=5 - i * 0.5))
    c = client_for(world.admin)
    r = c.post(reverse("web:settings_rule_simulate"), builder_post(days="7"))
    body = r.content.decode()
    assert r.status_code == 200 and body.count("data-match=") == 2 and 'id="sim-more"' in body
    assert "<progress" in body and 'data-simulation="2"' in body
    seen = re.findall(r'data-match="([^"]+)"', body)
    for _page in range(3):
        carry = carried(body)
        assert carry["sim_examined"] == str(len(seen))
        r = c.post(reverse("web:settings_rule_simulate_page"), {**builder_post(days="7"), **carry})
        body = r.content.decode()
        assert r.status_code == 200 and 'hx-swap-oob="true"' in body
        seen += re.findall(r'data-match="([^"]+)"', body)
        if 'id="sim-more"' not in body:
            break
    assert len(seen) == len(set(seen)) == 5
    assert 'data-simulation="5"' in body and 'data-progress="100"' in body and "<progress" not in body
    # the form changed under the cursor: refused on the summary, named
    first = c.post(reverse("web:settings_rule_simulate"), builder_post(days="7")).content.decode()
    carry = carried(first)
    changed = builder_post(days="7", **{"n:r.0:value": "ebay"})
    r = c.post(reverse("web:settings_rule_simulate_page"), {**changed, **carry})
    assert r.status_code == 422 and 'data-error="cursor"' in r.content.decode()
