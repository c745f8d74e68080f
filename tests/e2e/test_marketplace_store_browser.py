"""The connection page of a Shopee, TikTok Shop, AliExpress and Wish store in a real browser, at 1280
and 390 px (issue 12): the streams synced from the platform's fake, the capabilities it offers and
those it does not, the credentials form (secrets only as set), the webhook address where the
platform pushes, "Test connection" answered by the platform; a store whose authorisation was
withdrawn shows the sync paused with the platform's words. No Content-Security-Policy violation, no
horizontal scrolling. Screenshots go to $SCREENSHOT_DIR when set. One test per platform, one body."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.channels.base import Stream
from aftersales.channels.connectors.aliexpress.fake import AliExpressFake
from aftersales.channels.connectors.aliexpress.tests import conftest as aliexpress
from aftersales.channels.connectors.shopee.fake import ShopeeFake
from aftersales.channels.connectors.shopee.tests import conftest as shopee
from aftersales.channels.connectors.tiktok.fake import TikTokFake
from aftersales.channels.connectors.tiktok.tests import conftest as tiktok
from aftersales.channels.connectors.wish.fake import WishFake, iso_ago
from aftersales.channels.connectors.wish.tests import conftest as wish
from aftersales.channels.sync import sync_stream
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
THREE = (Stream.ORDERS, Stream.MESSAGES, Stream.RETURNS)


def _ago(minutes: int) -> int:
    return int((datetime.now(UTC) - timedelta(minutes=minutes)).timestamp())


def _seed_shopee(fake: Any) -> None:
    fake.add_order({**shopee.load("order.json"), "update_time": _ago(30)})
    chat = shopee.load("conversation.json")
    chat["messages"][0]["created_timestamp"], chat["messages"][1]["created_timestamp"] = _ago(20), _ago(19)
    fake.add_conversation(chat["conversation"], chat["messages"])
    fake.add_return({**shopee.load("return.json"), "update_time": _ago(10)})


def _seed_tiktok(fake: Any) -> None:
    fake.add_order({**tiktok.load("order.json"), "update_time": _ago(30)})
    chat = tiktok.load("conversation.json")
    for n, message in enumerate(chat["messages"]):
        message["create_time"] = _ago(20 - n)
    fake.add_conversation(chat["conversation"], chat["messages"])
    fake.add_return({**tiktok.load("return.json"), "update_time": _ago(10)})


def _seed_aliexpress(fake: Any) -> None:
    fake.add_order({**aliexpress.load("order.json"), "gmt_update": aliexpress.pacific_ago(30)})
    chat = aliexpress.load("conversation.json")
    for n, message in enumerate(chat["messages"]):
        fake.add_message(chat["relation"], {**message, "gmt_create": aliexpress.ms_ago(20 - n)})
    fake.add_issue({**aliexpress.load("issue.json"), "gmt_modified": aliexpress.pacific_ago(10)})


def _seed_wish(fake: Any) -> None:
    fake.add_order({**wish.load("order.json"), "updated_at": iso_ago(30)})
    fake.add_ticket({**wish.load("ticket.json"), "updated_at": iso_ago(20)})


@dataclass(frozen=True)
class Platform:
    fake_class: type[Any]
    platform: str
    name: str
    site: str
    currency: str
    seed: Callable[[Any], None]
    external_id: Callable[[Any], str]
    credentials: Callable[[Any], dict[str, Any]]
    counts: dict[str, str]  # stream -> "seen / created / updated / quarantined" as shown
    supported: tuple[str, ...]
    unsupported: tuple[str, ...]
    secrets: tuple[str, ...]  # credential fields shown only as "set"
    paused_words: str
    check_words: str
    secret: Callable[[Any], str]  # a secret that must never reach the page
    streams: tuple[Stream, ...] = THREE
    webhooks: bool = False


PLATFORMS = {
    "shopee": Platform(
        ShopeeFake,
        "shopee",
        "Shopee SG",
        "shopee.sg",
        "SGD",
        _seed_shopee,
        lambda fake: str(fake.shop_id),
        lambda fake: fake.credentials(dispute_email="ops@gadgets.example"),
        {"orders": "1 / 0 / 0 / 0", "messages": "2 / 0 / 0 / 0", "returns": "1 / 0 / 0 / 0"},
        ("pull_orders", "pull_messages", "pull_returns", "send_message", "decide_return", "mark_shipped"),
        (),
        ("partner_key", "refresh_token"),
        "The shop authorization has been cancelled",
        "Shopee answered: shop Gadgets SG (SG)",
        lambda fake: fake.partner_key,
        webhooks=True,
    ),
    "tiktok": Platform(
        TikTokFake,
        "tiktok",
        "TikTok Shop US",
        "shop.tiktok.com/us",
        "USD",
        _seed_tiktok,
        lambda fake: fake.shop_id,
        lambda fake: fake.credentials(),
        {"orders": "1 / 0 / 0 / 0", "messages": "3 / 0 / 0 / 0", "returns": "1 / 0 / 0 / 0"},
        ("pull_orders", "pull_messages", "pull_returns", "send_message", "decide_return", "mark_shipped"),
        (),
        ("app_secret", "refresh_token"),
        "The seller has deauthorized the app",
        "TikTok Shop answered: shop Gadgets US (US)",
        lambda fake: fake.app_secret,
        webhooks=True,
    ),
    "aliexpress": Platform(
        AliExpressFake,
        "aliexpress",
        "AliExpress",
        "aliexpress.com",
        "USD",
        _seed_aliexpress,
        lambda fake: fake.seller_login_id,
        lambda fake: fake.credentials(),
        {"orders": "1 / 0 / 0 / 0", "messages": "2 / 0 / 0 / 0", "returns": "1 / 0 / 0 / 0"},
        ("pull_orders", "pull_messages", "pull_returns", "send_message", "issue_refund", "mark_shipped"),
        ("webhooks",),
        ("app_secret", "refresh_token"),
        "The specified refresh token is invalid or expired",
        "AliExpress answered the order list",
        lambda fake: fake.app_secret,
    ),
    "wish": Platform(
        WishFake,
        "wish",
        "Wish",
        "wish.com",
        "USD",
        _seed_wish,
        lambda fake: fake.merchant_id,
        lambda fake: fake.credentials(),
        {"orders": "1 / 0 / 0 / 0", "messages": "1 / 0 / 0 / 0"},
        ("send_message", "issue_refund", "mark_shipped"),
        ("decide_return",),
        ("client_secret",),
        "The merchant has revoked this app's authorization",
        "Wish answered the ticket list",
        lambda fake: fake.client_secret,
        streams=(Stream.ORDERS, Stream.MESSAGES),
    ),
}


def _shot(page: Any, name: str) -> None:
    if folder := os.environ.get("SCREENSHOT_DIR"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("key", sorted(PLATFORMS))
def test_marketplace_store_page(live_server, page, monkeypatch, key):  # type: ignore[no-untyped-def]
    spec = PLATFORMS[key]
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda seconds: None)
    world = build_world()
    with spec.fake_class().running() as fake, spec.fake_class().running() as revoked:

        def store(server: Any, name: str, **fields: Any) -> Any:
            return StoreFactory(
                organization=world.org,
                name=name,
                platform=spec.platform,
                site=spec.site,
                currency=spec.currency,
                endpoint_url=server.url,
                credentials=spec.credentials(server),
                **fields,
            )

        spec.seed(fake)
        shop = store(fake, spec.name, external_id=spec.external_id(fake))
        for stream in spec.streams:
            assert sync_stream(store_id=shop.pk, stream=stream).status == "succeeded"
        revoked.revoked = True
        cancelled = store(revoked, f"{spec.name} (old app)")
        assert sync_stream(store_id=cancelled.pk, stream=Stream.ORDERS).status == "paused"

        violations = watch_csp(page)
        base = live_server.url
        sign_in(page, base)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/settings/stores/{shop.pk}/connection/")
            for stream, shown in spec.counts.items():
                expect(page.locator(f'#streams [data-stream="{stream}"]')).to_contain_text(shown)
            for capability in spec.supported:
                expect(page.locator(f'[data-capability="{capability}"]')).to_have_attribute("data-supported", "yes")
            for capability in spec.unsupported:
                expect(page.locator(f'[data-capability="{capability}"]')).to_have_attribute("data-supported", "no")
            for field in spec.secrets:
                expect(page.locator(f'[data-credential="{field}"] [data-set="set"]')).to_be_visible()
            if spec.webhooks:
                hook = f"{base}/hooks/{spec.platform}/{shop.sync.webhook_token}"
                expect(page.locator("[data-webhook]")).to_have_value(hook)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            _shot(page, f"{key}-store-{width}")
            page.goto(f"{base}/settings/stores/{cancelled.pk}/connection/")
            expect(page.locator("#paused")).to_contain_text(spec.paused_words)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            _shot(page, f"{key}-paused-{width}")

        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{base}/settings/stores/{shop.pk}/connection/")
        page.locator("#connection button[type=submit]").click()
        expect(page.locator('[data-check="ok"]')).to_contain_text(spec.check_words)
        _shot(page, f"{key}-test-connection-1280")
        assert spec.secret(fake).encode() not in page.content().encode()
        assert violations == []
