"""Settings > Rules > Webhook signing secret in a real browser (issue 11): an admin sees the secret
masked, reveals it with their password, rotates it with a switch-over time (the next secret shown,
the current one still signing) and reads the verification recipe and the audit. At 1280 and 390 px,
no sideways scrolling, no Content-Security-Policy violation. Set SCREENSHOT_DIR to keep screenshots."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from aftersales.notifications.outbox import webhook_secret
from aftersales.testing.personas import build_world

from .test_csp_browser import watch_csp
from .test_followups_browser import _no_sideways_scroll, _shot
from .test_sla_browser import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reveal_rotate_and_audit(live_server, page):  # type: ignore[no-untyped-def]
    world = build_world()
    secret = webhook_secret(world.org.pk)
    violations = watch_csp(page)
    _login(page, live_server, "ada")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/settings/rules/")
    page.get_by_role("link", name="Webhook signing secret").click()
    expect(page.locator("[data-secret=masked]")).to_have_text(f"{secret[:4]}…{secret[-4:]}")
    page.locator("#reveal-form input[name=password]").fill("pw-correct-horse")
    page.locator("#reveal-form button").click()
    expect(page.locator("[data-secret=revealed]")).to_have_text(secret)
    page.locator("#rotate-form input[name=grace_hours]").fill("24")
    page.locator("#rotate-form button").click()
    expect(page.locator("[data-rotated=pending] [data-new-secret]")).to_be_visible()
    expect(page.locator("[data-pending]")).to_be_visible()
    expect(page.locator("[data-audit]")).to_have_count(2)
    assert webhook_secret(world.org.pk) == secret  # still signing until the switch-over
    _no_sideways_scroll(page)
    _shot(page, "webhook-secret-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    _no_sideways_scroll(page)
    _shot(page, "webhook-secret-390.png")
    assert not violations
