"""Cancelling a background dry run in a real browser (issue 11 §1): the run's page shows the progress
with a Cancel button; a click swaps the block (htmx) for the cancelled state, polling stops, the worker
replays no further page. At 1280 and 390 px, without sideways scrolling or a Content-Security-Policy
violation. Set SCREENSHOT_DIR to keep the screenshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from aftersales.inbox.models import Ticket
from aftersales.rules import simulation_runs
from aftersales.rules.simulation_run_models import RuleSimulationRun, SimulationStatus
from aftersales.testing.personas import build_world

from .test_csp_browser import watch_csp
from .test_followups_browser import _shot
from .test_sla_browser import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCUMENT = {
    "name": "Parcels",
    "trigger": "ticket_created",
    "conditions": {"all": [{"field": "ticket.subject", "op": "contains", "value": "Parcel"}]},
    "actions": [{"type": "set_urgency", "params": {"urgency": "high"}}],
}


def test_cancel_a_background_dry_run(live_server, page, monkeypatch):  # type: ignore[no-untyped-def]
    world = build_world()
    for i in range(12):
        ticket = world.ticket(subject=f"Parcel {i}")
        Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(days=6, hours=-i * 8))
    monkeypatch.setattr(simulation_runs, "FIRST_PAGE_EVENTS", 3)
    monkeypatch.setattr(simulation_runs.events, "publish", lambda event: None)  # the worker comes later
    started = simulation_runs.simulation_start(world.admin, document=DOCUMENT, days=7, threshold=5)
    assert started.run is not None
    page.set_default_timeout(60_000)  # a loaded shared machine: the pages are slow, not wrong
    violations = watch_csp(page)
    _login(page, live_server, "ada")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/settings/rules/simulations/{started.run.pk}/")
        expect(page.locator("[data-run-status]")).to_have_attribute("data-run-status", "queued")
        expect(page.locator("[data-cancel-run]")).to_be_visible()
        _shot(page, f"rules-dry-run-cancel-{width}.png")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.locator("[data-cancel-run]").click()
    expect(page.locator("[data-run-status]")).to_have_attribute("data-run-status", "cancelled")
    expect(page.locator("[data-run-status]")).to_contain_text("Cancelled: 3 events were replayed")
    expect(page.locator("[data-cancel-run]")).to_have_count(0)
    _shot(page, "rules-dry-run-cancelled-390.png")
    assert simulation_runs.simulation_run_continue(started.run.pk) == SimulationStatus.CANCELLED
    assert RuleSimulationRun.objects.get(pk=started.run.pk).events_examined == 3
    assert violations == []
