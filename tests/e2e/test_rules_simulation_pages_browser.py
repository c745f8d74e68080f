"""The dry run by pages in a real browser (issue 11 §1): the first page shows its matches at once
with a progress bar, the next pages load by themselves (htmx posts the form with the cursor) and
append their rows until the window is done, each ticket evaluated as it was then. At 1280 and 390 px,
no sideways scrolling, no Content-Security-Policy violation. Set SCREENSHOT_DIR to keep screenshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from aftersales.inbox.models import Ticket, TicketEvent
from aftersales.testing.personas import build_world
from aftersales.web.views import settings_rules

from .test_csp_browser import watch_csp
from .test_followups_browser import _no_sideways_scroll, _shot
from .test_rules_browser import _settle
from .test_sla_browser import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_simulation_pages_load_until_done(live_server, page, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(settings_rules, "SIMULATION_PAGE_EVENTS", 3)
    world = build_world()
    for i in range(8):
        ticket = world.ticket(subject=f"Parcel never came {i}", category="logistics")
        Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(days=6 - i * 0.5))
        # re-filed later: the rule asks for the category the tickets had when they were created
        TicketEvent.objects.create(
            ticket=ticket,
            type="category_changed",
            payload={"old": "not_received", "new": "logistics"},
            at=timezone.now() - timedelta(hours=1),
        )
    violations = watch_csp(page)
    _login(page, live_server, "ada")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/settings/rules/new/")
    form = page.locator("#rule-form")
    form.locator("input[name=name]").fill("Not received")
    form.locator("select[name='n:r.0:field']").select_option("ticket.category")
    _settle(page)
    form.locator("select[name='n:r.0:op']").select_option("eq")
    _settle(page)
    form.locator("select[name='n:r.0:value']").select_option("not_received")
    form.locator("select[name='a:0:type']").select_option("set_urgency")
    _settle(page)
    form.locator("select[name='a:0:p:urgency']").select_option("high")
    form.locator("input[name=days]").fill("7")
    form.locator("button", has_text="Simulate").first.click()
    # the first page is there at once, with the progress of the replay
    expect(page.locator("#sim-rows tr[data-match]").first).to_be_visible()
    _shot(page, "rules-simulation-first-page-1280.png")
    # then the next pages, one after another, until the 8 tickets are there
    expect(page.locator("#sim-rows tr[data-match]")).to_have_count(8, timeout=30_000)
    expect(page.locator("#sim-more")).to_have_count(0)
    expect(page.locator("#sim-summary")).to_have_attribute("data-simulation", "8")
    expect(page.locator("#sim-summary progress")).to_have_count(0)
    expect(page.locator("#rule-simulation")).to_contain_text("Parcel never came 0")
    _no_sideways_scroll(page)
    _shot(page, "rules-simulation-done-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    _no_sideways_scroll(page)
    _shot(page, "rules-simulation-done-390.png")
    assert not violations
