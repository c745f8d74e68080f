"""A dry run over a big window in a real browser (issue 11 §1): the editor replays the first page, hands
the rest to the worker and polls its progress (htmx every 2 s) until it is done, then links to the run's
page, kept for the organization. The worker is played by the test (the run stays queued until then).
At 1280 and 390 px, without sideways scrolling or a Content-Security-Policy violation. Set
SCREENSHOT_DIR to keep the screenshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from aftersales.inbox.models import Ticket
from aftersales.rules import simulation_runs
from aftersales.rules.simulation_run_models import RuleSimulationRun
from aftersales.testing.personas import build_world
from aftersales.web.views import settings_rules

from .test_csp_browser import watch_csp
from .test_followups_browser import _shot
from .test_rules_browser import _settle
from .test_sla_browser import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_background_dry_run_progress_and_result(live_server, page, monkeypatch):  # type: ignore[no-untyped-def]
    world = build_world()
    for i in range(12):
        ticket = world.ticket(subject=f"Parcel {i}")
        Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(days=6, hours=-i * 8))
    monkeypatch.setattr(settings_rules, "SIMULATION_PAGE_EVENTS", 3)
    monkeypatch.setattr(simulation_runs, "FIRST_PAGE_EVENTS", 3)
    monkeypatch.setattr(simulation_runs, "BACKGROUND_THRESHOLD", 5)
    monkeypatch.setattr(simulation_runs.events, "publish", lambda event: None)  # the worker comes later
    violations = watch_csp(page)
    _login(page, live_server, "ada")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/settings/rules/new/")
    form = page.locator("#rule-form")
    form.locator("input[name=name]").fill("Parcels")
    form.locator("select[name='n:r.0:field']").select_option("ticket.subject")
    _settle(page)
    form.locator("select[name='n:r.0:op']").select_option("contains")
    _settle(page)
    form.locator("input[name='n:r.0:value']").fill("Parcel")
    form.locator("select[name='a:0:type']").select_option("set_urgency")
    _settle(page)
    form.locator("select[name='a:0:p:urgency']").select_option("high")
    form.locator("input[name=days]").fill("7")
    expect(form.locator("input[name='n:r.0:value']")).to_have_value("Parcel")
    form.locator("button[formaction$='/settings/rules/simulate/']").first.click()
    status = page.locator("[data-run-status]")
    expect(status).to_have_attribute("data-run-status", "queued")
    expect(page.locator("#rule-simulation [data-limits]")).to_contain_text("total and lines")
    expect(page.locator("#sim-rows tr[data-match]")).to_have_count(3)
    _shot(page, "rules-dry-run-background-1280.png")

    run = RuleSimulationRun.objects.get(organization=world.org)
    simulation_runs.simulation_run_continue(run.pk)  # the worker
    expect(page.locator("[data-run-status]")).to_have_attribute("data-run-status", "done", timeout=10_000)
    expect(page.locator("[data-run-status]")).to_contain_text("12 events replayed, 12 would have matched")
    page.locator("[data-run-status] a").click()
    expect(page.locator("#rule-simulation-run tr[data-match]")).to_have_count(12)
    expect(page.locator("#rule-simulation-runs tr[data-run]")).to_have_count(1)
    _shot(page, "rules-dry-run-result-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _shot(page, "rules-dry-run-result-390.png")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert violations == []
