"""The reply box in a real browser: a file attached with the reply (htmx multipart) lands as an
attachment with a thumbnail; keyboard shortcuts and their help overlay; a colleague's presence and
a reply after theirs asking first."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.inbox.models import Attachment
from aftersales.testing.personas import build_world

from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-correct-horse"


def sign_in(page, live_server, username: str = "alice") -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def png_file(tmp_path: Path) -> Path:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(out, format="PNG")
    path = tmp_path / "label.png"
    path.write_bytes(out.getvalue())
    return path


def test_a_file_attached_to_the_reply_is_sent_and_previewed(live_server, page, tmp_path):
    world = build_world()
    ticket = world.ticket()
    violations = watch_csp(page)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    page.fill("#reply-body", "Here is the return label for your parcel.")
    page.set_input_files("#reply-files", str(png_file(tmp_path)))
    page.click("#reply-send")
    expect(page.locator("#reply-box .notice")).to_be_visible()
    expect(page.locator("#ticket-timeline img.att-thumb")).to_have_count(1)
    attachment = Attachment.objects.get()
    assert attachment.filename == "label.png" and attachment.content_type == "image/png"
    assert page.locator("#ticket-timeline img.att-thumb").evaluate("img => img.naturalWidth") == 40
    assert violations == []
