"""Settings → a store's connection and "needs a human" in a real browser, at 1280 and 390 px: the
page shows the streams of a synced store, "Test connection" comes back with the platform's answer,
a quarantined payload opens as escaped JSON, the nav carries the count; no Content-Security-Policy
violation and no horizontal scrolling of the page. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.channels.base import RawRecord, Stream
from aftersales.channels.models import StoreSync, WriteBack
from aftersales.channels.sync import receive_records, sync_stream
from aftersales.channels.tests import testshop
from aftersales.core.clock import now
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MESSAGE = {"type": "message", "sent_at": "2026-11-01T10:00:00+00:00", "buyer": {"id": "b1"}, "conversation": "c1"}


@pytest.fixture
def fake() -> Iterator[testshop.TestShopFake]:
    platform = testshop.TestShopFake()
    testshop.install()
    with platform.running():
        yield platform  # type: ignore[misc]
    testshop.uninstall()


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _no_horizontal_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_store_page_and_needs_a_human(live_server, page, fake):  # type: ignore[no-untyped-def]
    world = build_world()
    shop = StoreFactory(
        organization=world.org,
        name="Test shop",
        platform=testshop.PLATFORM,
        endpoint_url=fake.url,
        credentials={"token": testshop.TOKEN, "webhook_secret": testshop.WEBHOOK_SECRET},
    )
    fake.add("messages", {**MESSAGE, "id": "m-1", "body": "Where is my parcel?"})
    fake.add("messages", {**MESSAGE, "id": "m-2", "note": "<b>not bold</b>"})  # no body: quarantined
    sync_stream(store_id=shop.pk, stream=Stream.MESSAGES)
    receive_records(
        store=shop, records=[RawRecord(Stream.ORDERS, "x-1", {"id": "x-1", "type": "martian"})], source="pull"
    )
    StoreSync.objects.filter(store=world.store_us).update_or_create(
        store=world.store_us,
        defaults={"paused": True, "paused_at": now(), "paused_reason": "invalid_grant: the refresh token was revoked"},
    )
    WriteBack.objects.create(
        organization=world.org, store=shop, kind="issue_refund", idempotency_key="r-1", status="unknown",
        detail="the worker stopped during the call", started_at=now(),
    )  # fmt: skip

    mailbox = StoreFactory(
        organization=world.org,
        name="Support mailbox",
        platform="email",
        site="",
        credentials={"address": "support@example.com", "imap_host": "imap.example.com", "password": "pw-secret"},
    )
    violations = watch_csp(page)
    base = live_server.url
    page.goto(base + "/login/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/settings/stores/{shop.pk}/connection/")
        expect(page.locator('#streams [data-stream="messages"]')).to_contain_text("1 / 0 / 0 / 1")
        expect(page.locator("[data-attention]")).to_have_text("4")
        _no_horizontal_scroll(page)
        _shot(page, f"store-{width}")
        page.goto(f"{base}/settings/attention/")
        expect(page.locator(f'[data-paused-store="{world.store_us.pk}"]')).to_contain_text("refresh token was revoked")
        expect(page.locator(f'[data-quarantined-store="{shop.pk}"]')).to_contain_text("2")
        _no_horizontal_scroll(page)
        _shot(page, f"attention-{width}")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/settings/stores/{mailbox.pk}/connection/")
    expect(page.locator('[data-credential="password"] [data-set="set"]')).to_be_visible()
    page.fill("input[name=smtp_host]", "smtp://mail.example.com:25")
    page.locator("#credentials button[type=submit]").click()
    expect(page.locator('[data-error="credentials.smtp_host"]')).to_be_visible()
    _shot(page, "mailbox-1280")
    page.goto(f"{base}/settings/stores/{shop.pk}/connection/")
    page.locator("#connection button[type=submit]").click()
    expect(page.locator('[data-check="ok"]')).to_be_visible()
    page.goto(f"{base}/settings/stores/{shop.pk}/quarantine/")
    record = page.locator('[data-record]:has-text("m-2")')
    record.locator("summary").click()
    expect(record.locator("pre")).to_contain_text('"note": "<b>not bold</b>"')
    assert record.locator("pre b").count() == 0  # shown as text, never as markup
    _shot(page, "quarantine-1280")
    assert violations == []
