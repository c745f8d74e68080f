"""Background dry runs (rules.simulation_runs): a window estimated above the threshold is replayed by
the worker from the first page's cursor, with the same result as replaying it inline; a small one
stays inline; the run's row is its checkpoint (a second task counts nothing twice); the editor shows
the progress (htmx polling) and the result page is kept for the organization, admins only."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aftersales.inbox.models import Ticket
from aftersales.rules import simulate, simulation_runs
from aftersales.rules.simulation_run_models import RuleSimulationRun, SimulationStatus
from aftersales.rules.tests.test_web import builder_post

pytestmark = pytest.mark.django_db

DOCUMENT = {
    "name": "Amazon urgent",
    "trigger": "ticket_created",
    "conditions": {"all": [{"field": "ticket.subject", "op": "contains", "value": "Parcel"}]},
    "actions": [{"type": "set_urgency", "params": {"urgency": "high"}}],
}


def _history(world: Any, n: int = 12) -> None:
    for i in range(n):
        ticket = world.ticket(subject=f"{'Parcel' if i % 3 else 'Other'} {i}")
        Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(days=6, hours=-i * 8))


def _inline_all(world: Any) -> simulate.SimulationResult:
    return simulate.rule_simulate(world.admin, document=DOCUMENT, days=7, row_cap=20_000)


def test_background_equals_inline(world: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any) -> None:
    _history(world)
    monkeypatch.setattr(simulation_runs, "FIRST_PAGE_EVENTS", 3)
    with django_capture_on_commit_callbacks(execute=True):  # Huey in immediate mode: the task runs
        started = simulation_runs.simulation_start(world.admin, document=DOCUMENT, days=7, threshold=5)
    assert started.run is not None and started.result.events_examined == 3
    run = RuleSimulationRun.objects.get(pk=started.run.pk)
    inline = _inline_all(world)
    assert run.status == SimulationStatus.DONE and run.progress == 1.0 and run.cursor == ""
    assert (run.events_examined, run.matched) == (inline.events_examined, inline.matched) == (12, 8)
    assert run.change_counts == dict(inline.change_counts)
    assert [m.event_key for m in simulation_runs.stored_matches(run)] == [m.event_key for m in inline.matches]
    stored = simulation_runs.stored_matches(run)[0]
    assert stored.at == inline.matches[0].at and stored.changes[0].label == str(inline.matches[0].changes[0].label)
    # a second task (a retry, a second worker) finds nothing left: no double count
    assert simulation_runs.simulation_run_continue(run.pk) == SimulationStatus.DONE
    run.refresh_from_db()
    assert run.events_examined == 12


def test_small_windows_stay_inline(world: Any, monkeypatch: Any) -> None:
    _history(world, 4)
    started = simulation_runs.simulation_start(world.admin, document=DOCUMENT, days=7)
    assert started.run is None and started.result.next_cursor is None
    monkeypatch.setattr(simulation_runs, "FIRST_PAGE_EVENTS", 2)
    started = simulation_runs.simulation_start(world.admin, document=DOCUMENT, days=7, threshold=100)
    assert started.run is None and started.result.next_cursor is not None  # the editor's inline pages go on
    assert not RuleSimulationRun.objects.exists()


def test_the_run_resumes_from_its_checkpoint(world: Any, monkeypatch: Any) -> None:
    _history(world)
    monkeypatch.setattr(simulation_runs, "FIRST_PAGE_EVENTS", 3)
    monkeypatch.setattr(simulation_runs.events, "publish", lambda event: None)  # no worker: run by hand
    started = simulation_runs.simulation_start(world.admin, document=DOCUMENT, days=7, threshold=5)
    assert started.run is not None
    assert simulation_runs._page(started.run.pk) is True  # one page, then the worker "dies"
    run = RuleSimulationRun.objects.get(pk=started.run.pk)
    assert run.status == SimulationStatus.RUNNING and run.events_examined == 6 and 0 < run.progress < 1
    assert simulation_runs.simulation_run_continue(run.pk) == SimulationStatus.DONE
    run.refresh_from_db()
    assert (run.events_examined, run.matched) == (12, 8)


def test_editor_polls_and_the_result_page_is_kept(
    world: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from aftersales.web.views import settings_rules

    _history(world)
    monkeypatch.setattr(settings_rules, "SIMULATION_PAGE_EVENTS", 3)
    monkeypatch.setattr(simulation_runs, "FIRST_PAGE_EVENTS", 3)
    monkeypatch.setattr(simulation_runs, "BACKGROUND_THRESHOLD", 5)
    monkeypatch.setattr(simulation_runs.events, "publish", lambda event: None)  # the worker is late
    c = Client()
    c.force_login(world.admin)
    body = c.post(reverse("web:settings_rule_simulate"), builder_post(days="7")).content.decode()
    run = RuleSimulationRun.objects.get(organization=world.org)
    status_url = reverse("web:settings_rule_simulation_status", args=[run.pk])
    assert f'hx-get="{status_url}"' in body and 'hx-trigger="every 2s"' in body and 'id="sim-more"' not in body
    assert "data-limits" in body and "lifetime value" in body
    polled = c.get(status_url).content.decode()
    assert 'data-run-status="queued"' in polled and "every 2s" in polled
    simulation_runs.simulation_run_continue(run.pk)
    polled = c.get(status_url).content.decode()
    assert 'data-run-status="done"' in polled and "every 2s" not in polled
    page = c.get(reverse("web:settings_rule_simulation", args=[run.pk])).content.decode()
    assert len(re.findall(r"data-match=", page)) == RuleSimulationRun.objects.get(pk=run.pk).matched
    assert c.get(reverse("web:settings_rule_simulation", args=[run.pk + 1000])).status_code == 404
    teammate = Client()
    teammate.force_login(world.agent)
    assert teammate.get(reverse("web:settings_rule_simulation", args=[run.pk])).status_code == 403
