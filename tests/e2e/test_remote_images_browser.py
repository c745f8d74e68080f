"""Remote images in a real browser (issue 7, finding 6): opening a ticket fetches nothing from the
sender's servers; "Load images" shows the message in a sandboxed frame that fetches them without a
referrer, and the ticket page itself stays free of CSP violations."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.testing.personas import build_world

from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_remote_images_load_only_on_request(live_server, page):
    world = build_world()
    result = message_ingest(
        inbound=InboundMessage(
            store=world.store_us,
            external_id="pixel-1",
            body="The box was crushed.",
            body_html='<p>The box was crushed.</p><img src="https://tracker.example/open.gif?buyer=7" width="1">',
            customer_external_id="B7",
        )
    )
    remote: list[Any] = []
    page.context.on("request", lambda r: remote.append(r) if "tracker.example" in r.url else None)
    violations = watch_csp(page)

    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/tickets/{result.ticket.pk}/")
    expect(page.locator(".msg-body p", has_text="The box was crushed.")).to_be_visible()
    expect(page.locator(".img-blocked")).to_have_count(1)
    page.wait_for_timeout(300)
    assert remote == []

    page.click("[data-load-images]")
    frame = page.locator("iframe[data-message-frame]")
    expect(frame).to_be_visible()
    expect(page.frame_locator("iframe[data-message-frame]").locator("text=The box was crushed.")).to_be_visible()
    page.wait_for_timeout(500)
    assert [r.url for r in remote] == ["https://tracker.example/open.gif?buyer=7"]
    assert not remote[0].headers.get("referer")  # no-referrer: the sender does not learn the ticket URL
    assert violations == []
