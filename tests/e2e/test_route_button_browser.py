"""The "Route by skill" button on the ticket page in a real browser (issue 11 §4): an admin routes a German
eBay ticket; the notice and the timeline say why (least loaded, skills matched, team scope), at 1280 and
390 px, without sideways scrolling or a Content-Security-Policy violation. SCREENSHOT_DIR=<dir> keeps the
screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.inbox.models import Ticket
from aftersales.testing.factories import TicketFactory
from aftersales.testing.personas import build_world

from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_route_by_skill_button_and_the_reason_on_the_timeline(live_server, page, width):  # type: ignore[no-untyped-def]
    world = build_world()
    world.team_de.languages = ["de"]
    world.team_de.save()
    world.outsider.skill_languages = ["de"]
    world.outsider.save()
    ticket = TicketFactory(store=world.store_de, language="de", status="new", subject="Display kaputt angekommen")
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    page.goto(base + "/login/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")

    page.goto(base + f"/tickets/{ticket.pk}/")
    button = page.get_by_role("button", name="Route by skill")
    expect(button).to_be_visible()
    button.click()
    expect(page.locator("#ticket-props .notice")).to_contain_text("Routed by skill")
    expect(page.locator("#ticket-timeline")).to_contain_text("Routing by skill: least loaded of 1 agent(s)")
    expect(page.locator("#ticket-timeline")).to_contain_text("skills matched: language de")
    current = Ticket.objects.get(pk=ticket.pk)
    assert (current.team_id, current.assignee_id) == (world.team_de.pk, world.outsider.pk)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    _shot(page, f"ticket-route-by-skill-{width}.png")
    assert violations == []
