"""Triage and routing settings in a real browser (issue 11): an admin turns auto-routing on in Settings >
Triage and routing, gives an agent skills and a team the round-robin strategy; at 1280 and 390 px, without
sideways scrolling or a Content-Security-Policy violation. SCREENSHOT_DIR=<dir> keeps the screenshots."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.accounts.models import Membership, Team, User
from aftersales.core.clock import now
from aftersales.sla.models import TicketSla
from aftersales.testing.personas import build_world
from aftersales.triage.selectors import triage_settings_of

from .conftest import open_settings
from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", [1280, 390])
def test_triage_routing_settings_skills_and_strategy(live_server, page, width):  # type: ignore[no-untyped-def]
    world = build_world()
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    open_settings(page, base, "/settings/triage/")
    expect(page.locator("input[name=apply_results]")).to_be_checked()
    page.check("input[name=auto_route]")
    _no_sideways_scroll(page)
    _shot(page, f"triage-settings-{width}.png")
    page.click("#triage-settings button[type=submit]")
    expect(page.locator("input[name=auto_route]")).to_be_checked()
    assert triage_settings_of(world.org.pk).auto_route is True

    page.goto(base + f"/settings/users/{world.outsider.pk}/")
    page.check("input[name=skill_languages][value=de]")
    page.check("input[name=skill_categories][value=refund]")
    _no_sideways_scroll(page)
    _shot(page, f"user-skills-{width}.png")
    page.click("#user form.stack button[type=submit]")
    expect(page).to_have_url(base + "/settings/users/")
    carol = User.objects.get(pk=world.outsider.pk)
    assert (carol.skill_languages, carol.skill_categories) == (["de"], ["refund"])

    page.goto(base + f"/settings/teams/{world.team_de.pk}/")
    page.select_option("select[name=routing_strategy]", "round_robin")
    page.check(f"input[name=lead_ids][value='{world.outsider.pk}']")
    _no_sideways_scroll(page)
    _shot(page, f"team-strategy-{width}.png")
    page.click("#team form.stack button[type=submit]")
    expect(page).to_have_url(base + "/settings/teams/")
    assert Team.objects.get(pk=world.team_de.pk).routing_strategy == "round_robin"
    assert Membership.objects.get(team=world.team_de, user=world.outsider).is_lead
    assert violations == []


@pytest.mark.parametrize("width", [1280, 390])
def test_inbox_rows_show_both_clocks(live_server, page, width):  # type: ignore[no-untyped-def]
    world = build_world()
    at = now()
    late = world.ticket(subject="Parcel never arrived")
    answered = world.ticket(subject="Refund for a broken hinge")
    for ticket, fields in (
        (late, {"first_response_due": at - timedelta(hours=2), "marketplace_due": at + timedelta(hours=5)}),
        (answered, {"first_response_at": at - timedelta(hours=3), "resolution_due": at + timedelta(hours=20)}),
    ):
        TicketSla.objects.create(
            ticket=ticket, organization=world.org, started_at=at - timedelta(hours=4), computed_at=at, **fields
        )
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    page.goto(base + "/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    page.goto(base + "/")
    row = page.locator(f"tr[data-ticket-id='{late.pk}']")
    expect(row.locator("[data-clock=first_response][data-state=overdue]")).to_be_visible()
    expect(row.locator("[data-clock=marketplace][data-state=running]")).to_be_visible()
    expect(page.locator(f"tr[data-ticket-id='{answered.pk}'] [data-clock=resolution]")).to_be_visible()
    _no_sideways_scroll(page)
    _shot(page, f"inbox-clocks-{width}.png")
    assert violations == []
