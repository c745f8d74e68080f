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
    assert "data-limits" in body and "lifetime value" in body and "total and lines" in body
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


# ------------------------------------------------------------------ cancel, API, clean-up


def _queued(world: Any, monkeypatch: Any) -> RuleSimulationRun:
    _history(world)
    monkeypatch.setattr(simulation_runs, "FIRST_PAGE_EVENTS", 3)
    monkeypatch.setattr(simulation_runs.events, "publish", lambda event: None)  # no worker: run by hand
    started = simulation_runs.simulation_start(world.admin, document=DOCUMENT, days=7, threshold=5)
    assert started.run is not None
    return started.run


def test_a_cancelled_run_stops_between_pages(world: Any, monkeypatch: Any) -> None:
    run = _queued(world, monkeypatch)
    assert simulation_runs._page(run.pk) is True  # one page replayed
    cancelled = simulation_runs.simulation_run_cancel(world.admin, run.pk)
    assert cancelled.status == SimulationStatus.CANCELLED and cancelled.finished_at is not None
    assert simulation_runs.simulation_run_continue(run.pk) == SimulationStatus.CANCELLED  # no further page
    run.refresh_from_db()
    assert run.events_examined == 6 and run.cursor == ""  # what was replayed is kept
    again = simulation_runs.simulation_run_cancel(world.admin, run.pk)  # idempotent
    assert again.status == SimulationStatus.CANCELLED and again.finished_at == cancelled.finished_at


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [
        ("queued", "running", True),
        ("queued", "cancelled", True),
        ("running", "done", True),
        ("running", "cancelled", True),
        ("done", "cancelled", False),
        ("failed", "running", False),
        ("cancelled", "running", False),
        ("cancelled", "done", False),
    ],
)
def test_run_transitions(old: str, new: str, allowed: bool) -> None:
    from aftersales.core.errors import Conflict

    run = RuleSimulationRun(status=old)
    if allowed:
        assert simulation_runs.run_transition(run, new) == old and run.status == new
    else:
        with pytest.raises(Conflict):
            simulation_runs.run_transition(run, new)
        assert run.status == old


def test_api_lists_shows_and_cancels_runs(world: Any, monkeypatch: Any) -> None:
    from aftersales.api.tests.helpers import ApiClient, assert_error

    run = _queued(world, monkeypatch)
    api = ApiClient(user=world.admin)
    listed = api.request("GET", "/rules/simulation-runs")
    assert listed.status_code == 200, listed.content
    [row] = listed.json()
    assert (row["id"], row["status"], row["events_examined"], row["trigger"]) == (run.pk, "queued", 3, "ticket_created")
    assert "matches" not in row and row["created_by"] == str(world.admin)
    detail = api.request("GET", f"/rules/simulation-runs/{run.pk}").json()
    assert detail["document"]["name"] == "Amazon urgent" and len(detail["matches"]) == run.matched
    assert detail["matches"][0]["changes"][0]["action"] == "set_urgency"
    cancelled = api.request("POST", f"/rules/simulation-runs/{run.pk}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert api.request("POST", f"/rules/simulation-runs/{run.pk}/cancel").json()["status"] == "cancelled"
    RuleSimulationRun.objects.filter(pk=run.pk).update(status="done")
    assert_error(api.request("POST", f"/rules/simulation-runs/{run.pk}/cancel"), 409, field="run_id")
    assert_error(api.request("GET", "/rules/simulation-runs/0"), 422, field="run_id")
    foreign = ApiClient(user=world.foreign_user)
    assert_error(foreign.request("GET", f"/rules/simulation-runs/{run.pk}"), 404, field="run_id")
    assert_error(foreign.request("POST", f"/rules/simulation-runs/{run.pk}/cancel"), 404, field="run_id")
    assert foreign.request("GET", "/rules/simulation-runs").json() == []
    assert ApiClient(user=world.agent).request("GET", "/rules/simulation-runs").status_code == 403


def test_finished_runs_are_pruned_after_their_days(world: Any, monkeypatch: Any) -> None:
    run = _queued(world, monkeypatch)
    simulation_runs.simulation_run_continue(run.pk)
    old = _queued(world, monkeypatch)
    simulation_runs.simulation_run_cancel(world.admin, old.pk)
    running = _queued(world, monkeypatch)
    long_ago = timezone.now() - timedelta(days=simulation_runs.KEEP_DAYS + 1)
    RuleSimulationRun.objects.filter(pk__in=[run.pk, old.pk]).update(finished_at=long_ago, created_at=long_ago)
    RuleSimulationRun.objects.filter(pk=running.pk).update(created_at=long_ago)  # running: kept whatever its age
    fresh = _queued(world, monkeypatch)
    simulation_runs.simulation_run_continue(fresh.pk)  # finished now: kept
    assert simulation_runs.simulation_runs_prune() == 2
    assert simulation_runs.simulation_runs_prune() == 0  # idempotent
    assert set(RuleSimulationRun.objects.values_list("pk", flat=True)) == {running.pk, fresh.pk}


def test_the_progress_block_cancels(world: Any, monkeypatch: Any) -> None:
    run = _queued(world, monkeypatch)
    c = Client()
    c.force_login(world.admin)
    cancel_url = reverse("web:settings_rule_simulation_cancel", args=[run.pk])
    polled = c.get(reverse("web:settings_rule_simulation_status", args=[run.pk])).content.decode()
    assert f'hx-post="{cancel_url}"' in polled and f'data-cancel-run="{run.pk}"' in polled
    swapped = c.post(cancel_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-run-status="cancelled"' in swapped and "every 2s" not in swapped and "data-cancel-run" not in swapped
    assert c.post(cancel_url).status_code == 302  # without htmx: back to the run's page
    teammate = Client()
    teammate.force_login(world.agent)
    assert teammate.post(cancel_url).status_code == 403
