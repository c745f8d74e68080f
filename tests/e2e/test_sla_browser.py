"""SLA in a real browser: an admin adds a business calendar with split shifts and a policy in Settings >
SLA and tries the deadlines; the ticket page shows our clocks and the marketplace's, an overdue one
marked, at 1280 and 390 px without sideways scrolling. E2E_SCREENSHOTS=<dir> keeps screenshots."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.core.clock import now
from aftersales.inbox.models import Message, MessageDirection
from aftersales.sla.models import BusinessCalendar, SlaPolicy
from aftersales.sla.services import ticket_sla_recompute
from aftersales.testing.personas import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def _login(page, live_server, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")


def test_sla_settings_and_ticket_clocks(live_server, page):  # type: ignore[no-untyped-def]
    world = build_world()
    _login(page, live_server, "ada")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/settings/sla/")
    form = page.locator("#sla-calendars form.sla-calendar-form").last
    form.locator("input[name=name]").fill("Shenzhen office")
    form.locator("input[name=timezone]").fill("Asia/Shanghai")
    for day in ("mon", "tue", "wed", "thu", "fri"):
        form.locator(f"input[name=day_{day}]").fill("09:00-12:00, 13:30-18:30")
    form.locator("input[name=day_sat]").fill("10:00-14:00")
    form.locator("textarea[name=holidays]").fill("2027-01-01")
    form.locator("button[type=submit]").click()
    expect(page.locator('[data-calendar="Shenzhen office"]')).to_be_visible()
    cal = BusinessCalendar.objects.get()
    policy_form = page.locator("#sla-policy-form")
    policy_form.locator("input[name=name]").fill("Standard")
    policy_form.locator("input[name=first_response_minutes]").fill("30")
    policy_form.locator("input[name=resolution_minutes]").fill("720")
    policy_form.locator("select[name=calendar_id]").select_option(str(cal.pk))
    policy_form.locator("button[type=submit]").click()
    expect(page.locator('[data-policy="Standard"]')).to_be_visible()
    assert SlaPolicy.objects.get().calendar_id == cal.pk
    preview = page.locator("#sla-preview form")
    preview.locator("input[name=arrival]").fill("2026-12-11T17:45:00+08:00")
    preview.locator("select[name=platform]").select_option("amazon")
    preview.locator("button[type=submit]").click()
    expect(page.locator("#sla-preview-result [data-due=first_response]")).to_contain_text("2026-12-11 18:15")
    _shot(page, "sla-settings-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/settings/sla/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    _shot(page, "sla-settings-390.png")

    # a ticket whose first response is overdue (the calendar here: around the clock for the team's ticket)
    SlaPolicy.objects.update(calendar=None)
    ticket = world.ticket(assignee=world.agent)
    Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction=MessageDirection.INBOUND,
        channel="amazon",
        body="My phone screen arrived broken",
        sent_at=now() - timedelta(hours=2),
    )
    ticket_sla_recompute(ticket_id=ticket.pk)
    page.context.clear_cookies()
    _login(page, live_server, "alice")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
        panel = page.locator("#sla-panel")
        expect(panel.locator('[data-clock="first_response"]')).to_have_attribute("data-state", "overdue")
        expect(panel.locator('[data-clock="marketplace"]')).to_have_attribute("data-state", "running")
        expect(panel).to_contain_text("Overdue")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(page, f"sla-ticket-{width}.png")
