"""The ticket page's Follow-ups panel in a real browser (issue 11 §5): a CSAT survey skipped because the
ticket was outside the sample says so in words, and a warranty reminder that had no conversation to go in
shows on the buyer's later ticket; at 1280 and 390 px, without sideways scrolling or a
Content-Security-Policy violation. SCREENSHOT_DIR=<dir> keeps the screenshots."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.core.clock import now
from aftersales.followups import jobs
from aftersales.followups.models import FollowUpSettings
from aftersales.followups.tests.test_jobs import _reminder
from aftersales.inbox.workflow import TicketStatus
from aftersales.testing.factories import OrderFactory, TicketFactory
from aftersales.testing.personas import build_world

from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_skipped_follow_ups_are_told_on_the_ticket(live_server, page, width):  # type: ignore[no-untyped-def]
    world = build_world()
    FollowUpSettings.objects.create(organization=world.org, csat_enabled=True, csat_sample_percent=0)
    order = OrderFactory(store=world.store_de, organization=world.org)
    _reminder(world, order)
    assert jobs.warranty_reminders_deliver() == 0  # no conversation yet: skipped
    ticket = TicketFactory(
        store=world.store_de,
        order=order,
        customer=order.customer,
        language="de",
        status=TicketStatus.SOLVED,
        resolved_at=now() - timedelta(hours=25),
    )
    assert jobs.csat_surveys_send() == 0  # outside the 0% sample: skipped
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    page.goto(base + "/login/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    page.goto(base + f"/tickets/{ticket.pk}/")
    panel = page.locator("#followups-panel")
    expect(panel).to_contain_text("not in the CSAT sample (the organization surveys 0% of solved tickets)")
    expect(panel).to_contain_text("Not sent: no conversation with the buyer")
    panel.scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    _shot(page, f"ticket-followups-panel-{width}.png")
    assert violations == []
