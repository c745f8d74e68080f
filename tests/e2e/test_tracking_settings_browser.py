"""Settings → Parcel tracking in a real browser: saving the 17TRACK key (never shown back), the push
address, "Test connection" against the local 17TRACK; no Content-Security-Policy violation; at a
desktop and a phone width. Set SCREENSHOT_DIR to keep the screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.channels.connectors.seventeentrack.fake import FakeSeventeenTrack
from aftersales.testing.personas import build_world
from aftersales.tracking.models import TrackingAccount

from .conftest import open_settings
from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_tracking_settings(live_server, page, settings, width):
    settings.CHANNELS_ALLOW_ENDPOINT_OVERRIDE = True
    world = build_world()
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    open_settings(page, base, "/settings/tracking/")
    expect(page.locator("[data-api-key=not-set]")).to_be_visible()
    page.fill("input[name=api_key]", "two words")
    page.click("#tracking button.btn-primary")
    expect(page.locator(".field-error")).to_be_visible()
    page.fill("input[name=api_key]", "ORG-17-KEY")
    page.click("#tracking button.btn-primary")
    expect(page.locator("[data-api-key=set]")).to_be_visible()
    account = TrackingAccount.objects.get(organization=world.org)
    assert "ORG-17-KEY" not in page.content()
    expect(page.locator("[data-push-url]")).to_contain_text(f"/hooks/tracking/17track/{account.push_token}")

    with FakeSeventeenTrack(token="ORG-17-KEY").running() as fake:
        TrackingAccount.objects.filter(pk=account.pk).update(endpoint_url=fake.url)
        page.click("text=Test connection")
        expect(page.locator("[data-check=ok]")).to_be_visible()
    _shot(page, f"tracking-settings-{width}.png")
    assert violations == []
