"""Follow-ups in a real browser (issue 11 section 5): the buyer's one-click rating page in Arabic (right
to left) and German, a re-rating, a tampered link; Settings > Follow-ups saved by an admin; the CSAT on the
ticket page. At 1280 and 390 px, without sideways scrolling or a Content-Security-Policy violation. Set
SCREENSHOT_DIR to keep the screenshots."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.core.clock import now
from aftersales.followups import jobs
from aftersales.followups.models import CsatResponse, FollowUpSettings
from aftersales.inbox.models import Message, MessageDirection
from aftersales.inbox.workflow import TicketStatus
from aftersales.testing.factories import OrderFactory
from aftersales.testing.personas import build_world

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


def _surveyed(world, language: str):  # type: ignore[no-untyped-def]
    order = OrderFactory(store=world.store_de, organization=world.org)
    ticket = world.ticket(
        store=world.store_de,
        order=order,
        customer=order.customer,
        language=language,
        status=TicketStatus.SOLVED,
        resolved_at=now() - timedelta(hours=25),
        assignee=world.admin,
    )
    jobs.csat_surveys_send()
    body = Message.objects.get(ticket=ticket, direction=MessageDirection.OUTBOUND).body
    return ticket, re.search(r"(/r/[^ /]+/)", body).group(1)  # type: ignore[union-attr]


@pytest.mark.parametrize("width", [1280, 390])
def test_rating_page_and_settings(live_server, page, width):  # type: ignore[no-untyped-def]
    world = build_world()
    FollowUpSettings.objects.create(organization=world.org, csat_enabled=True, csat_sample_percent=100)
    arabic, arabic_path = _surveyed(world, "ar")
    german, german_path = _surveyed(world, "de")
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url

    page.goto(base + arabic_path)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("h1")).to_have_text("كيف كانت خدمتنا؟")
    _no_sideways_scroll(page)
    _shot(page, f"csat-ar-{width}.png")
    page.fill("textarea[name=comment]", "خدمة سريعة، شكرًا")
    page.click("button[data-rating='5']")
    expect(page.locator("[data-saved]")).to_be_visible()
    expect(page.locator("button[data-rating='5']")).to_have_attribute("aria-pressed", "true")
    _shot(page, f"csat-ar-rated-{width}.png")
    assert CsatResponse.objects.get(ticket=arabic).rating == 5

    page.goto(base + german_path)
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    page.click("button[data-rating='2']")
    page.click("button[data-rating='4']")  # changed her mind
    expect(page.locator("[data-current='4']")).to_be_visible()
    _no_sideways_scroll(page)
    _shot(page, f"csat-de-{width}.png")
    rated = CsatResponse.objects.get(ticket=german)
    assert (rated.rating, rated.changes) == (4, 1)

    page.goto(base + german_path[:-4] + "xyz/")
    expect(page.locator("[data-notice=invalid]")).to_be_visible()
    _shot(page, f"csat-invalid-{width}.png")

    open_settings(page, base, "/settings/followups/")
    page.fill("input[name=coupon_pattern]", "NO-PLACEHOLDER")
    page.click("#followup-settings button.btn-primary")
    expect(page.locator("[data-error=coupon_pattern]")).to_be_visible()
    page.fill("input[name=csat_sample_percent]", "40")
    page.check("input[name=stall_enabled]")
    page.check("input[name=thanks_enabled]")
    page.fill("input[name=coupon_pattern]", "SORRY-{code}")
    page.click("#followup-settings button.btn-primary")
    expect(page.locator(".alert-success")).to_be_visible()
    _no_sideways_scroll(page)
    _shot(page, f"followups-settings-{width}.png")
    saved = FollowUpSettings.objects.get(organization=world.org)
    assert (saved.csat_sample_percent, saved.stall_enabled, saved.coupon_pattern) == (40, True, "SORRY-{code}")

    page.goto(f"{base}/tickets/{arabic.pk}/")
    expect(page.locator("#followups-panel [data-csat='5']")).to_be_visible()
    _no_sideways_scroll(page)
    _shot(page, f"followups-ticket-panel-{width}.png")
    assert violations == []
