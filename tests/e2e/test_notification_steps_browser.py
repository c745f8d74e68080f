"""Settings > Customer notifications in a real browser (issue 10 §7): an admin turns the "refund paid"
step on and "cancelled" off; the page shows the recent change; at 1280 and 390 px, without sideways
scrolling or a Content-Security-Policy violation. SCREENSHOT_DIR=<dir> keeps the screenshots."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from aftersales.accounts.models import OrgSettingChange
from aftersales.returns.notify_settings import step_enabled
from aftersales.testing.personas import build_world

from .conftest import open_settings
from .test_csp_browser import watch_csp
from .test_routing_settings_browser import _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_notification_steps_settings(live_server, page, width):  # type: ignore[no-untyped-def]
    world = build_world()
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    open_settings(page, base, "/settings/notifications/")
    refund = page.locator("input[name=enabled][value=refund_paid]")
    expect(refund).not_to_be_checked()
    expect(page.locator("input[name=enabled][value=in_transit]")).to_be_checked()
    refund.check()
    page.uncheck("input[name=enabled][value=cancelled]")
    page.click("#notification-steps button[type=submit]")
    expect(page.locator("input[name=enabled][value=refund_paid]")).to_be_checked()
    expect(page.locator("input[name=enabled][value=cancelled]")).not_to_be_checked()
    expect(page.locator("#notification-step-changes li")).to_have_count(2)
    assert step_enabled(world.org.pk, "refund_paid") and not step_enabled(world.org.pk, "cancelled")
    assert (
        OrgSettingChange.objects.filter(
            setting__startswith="customer_notification.", via="web", actor=world.admin
        ).count()
        == 2
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    _shot(page, f"notification-steps-{width}.png")
    assert violations == []
