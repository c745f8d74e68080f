"""Connecting a Microsoft 365 / Gmail style mailbox with OAuth in a real browser, at 1280 and 390 px:
"Connect the mailbox" goes to the (local) OAuth provider, which consents and sends the browser back
to the callback; the store page then says "Connected". No CSP violation, no sideways scrolling.
Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from aftersales.catalog.models import Store
from aftersales.channels.store_sync import mailbox_oauth_redirect_uri
from aftersales.testing.factories import StoreFactory
from aftersales.testing.fake_oauth import FakeOAuthProvider
from aftersales.testing.personas import build_world

from .conftest import sign_in
from .test_csp_browser import watch_csp
from .test_store_connection_browser import _no_horizontal_scroll, _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider() -> Iterator[FakeOAuthProvider]:
    fake = FakeOAuthProvider(user="support@example.com")
    with fake.running():
        yield fake


def test_connect_a_mailbox_with_oauth(live_server, page, provider, settings):  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    provider.redirect_uris.add(mailbox_oauth_redirect_uri())
    world = build_world()
    store = StoreFactory(
        organization=world.org,
        name="Support (Microsoft 365)",
        platform="email",
        site="",
        credentials={
            "address": "support@example.com",
            "imap_host": "127.0.0.1",
            "imap_port": 1143,
            "imap_ssl": False,
            "auth": "oauth2",
            "oauth_provider": "custom",
            "oauth_client_id": provider.client_id,
            "oauth_client_secret": provider.client_secret,
            "oauth_authorize_url": f"{provider.url}/authorize",
            "oauth_token_url": f"{provider.url}/token",
            "oauth_scopes": ["mail.imap", "mail.smtp", "offline_access"],
        },
    )
    violations = watch_csp(page)
    base = live_server.url
    sign_in(page, base)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/settings/stores/{store.pk}/connection/")
        expect(page.locator("[data-oauth-redirect]")).to_have_value(mailbox_oauth_redirect_uri())
        page.locator("#oauth button[type=submit]").click()  # -> the provider -> back to our callback
        assert "not connected:" not in page.content(), page.locator(".messages, .alert, [role=alert]").all_inner_texts()
        expect(page.locator('[data-oauth="connected"]')).to_be_visible()
        _no_horizontal_scroll(page)
        _shot(page, f"mailbox-oauth-{width}")
    credentials = Store.objects.get(pk=store.pk).credentials
    assert credentials["oauth_refresh_token"].startswith("rt-")
    assert len(provider.requests_to("/authorize")) == 2
    assert violations == []
