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


@pytest.fixture(autouse=True, scope="module")
def _language_detector_loaded():  # type: ignore[no-untyped-def]
    """The wrong-language guard detects the reply's language: load lingua's models (seconds, once
    per process) before the live server is timed by the assertions."""
    from aftersales.language.detect import detector

    detector()


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
    page.locator("#ticket-timeline img.att-thumb").scroll_into_view_if_needed()
    page.wait_for_function(  # the thumbnail loads through the checked download view
        "() => { const i = document.querySelector('#ticket-timeline img.att-thumb');"
        " return i && i.naturalWidth === 40; }"
    )
    assert violations == []


def test_keyboard_shortcuts_and_their_help(live_server, page):
    world = build_world()
    tickets = [world.ticket() for _ in range(3)]  # newest first in the default list: 3, 2, 1
    violations = watch_csp(page)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/?status=open")
    page.keyboard.press("?")
    help_box = page.locator("#shortcut-help")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("Keyboard shortcuts")
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator("tr.is-current")).to_have_attribute("data-ticket-id", str(tickets[1].pk))
    page.keyboard.press("o")
    page.wait_for_url(f"**/tickets/{tickets[1].pk}/?in=status%3Dopen")
    page.keyboard.press("r")
    expect(page.locator("#reply-body")).to_be_focused()
    page.keyboard.type("jk?")  # typing in a field fires no shortcut
    expect(page.locator("#reply-body")).to_have_value("jk?")
    expect(help_box).to_be_hidden()
    page.keyboard.press("Escape")  # leaves the field
    page.keyboard.press("n")
    expect(page.locator("#note-body")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("j")  # the next ticket of the list the agent came from
    page.wait_for_url(f"**/tickets/{tickets[0].pk}/?in=status%3Dopen")
    page.keyboard.press("k")
    page.wait_for_url(f"**/tickets/{tickets[1].pk}/?in=status%3Dopen")
    page.keyboard.press("u")
    page.wait_for_url(f"{live_server.url}/?status=open")
    assert violations == []


def test_the_help_overlay_speaks_chinese(live_server, page):
    world = build_world()
    world.agent.language = "zh-hans"
    world.agent.save(update_fields=["language"])
    sign_in(page, live_server)
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help h2")).to_have_text("键盘快捷键")


def test_presence_and_a_reply_after_a_colleagues_asks_first(live_server, browser):
    world = build_world()
    ticket = world.ticket()
    alice_tab = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US").new_page()
    bob_tab = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US").new_page()
    try:
        sign_in(alice_tab, live_server, "alice")
        sign_in(bob_tab, live_server, "bob")
        alice_tab.goto(f"{live_server.url}/tickets/{ticket.pk}/")
        expect(alice_tab.locator("#ticket-presence")).to_have_attribute("hx-trigger", "every 20s")  # heartbeat sent
        bob_tab.goto(f"{live_server.url}/tickets/{ticket.pk}/")
        expect(bob_tab.locator("#ticket-presence")).to_contain_text(f"{world.agent} is also viewing this ticket")
        # bob replies while alice has the page open; alice's reply then asks first
        bob_tab.fill("#reply-body", "We have sent you a new charger today.")
        bob_tab.click("#reply-send")
        expect(bob_tab.locator("#reply-box .notice")).to_be_visible()
        alice_tab.fill("#reply-body", "A replacement charger will be sent to you.")
        alice_tab.click("#reply-send")
        warning = alice_tab.locator("#newer-reply-warning")
        expect(warning).to_contain_text(str(world.teammate))
        expect(alice_tab.locator("#ticket-timeline")).to_contain_text("We have sent you a new charger today.")
        alice_tab.check("input[name=confirm_newer]")
        alice_tab.click("#reply-send")
        expect(alice_tab.locator("#reply-box .notice")).to_be_visible()
        expect(alice_tab.locator("#ticket-timeline")).to_contain_text("A replacement charger will be sent to you.")
    finally:
        alice_tab.context.close()
        bob_tab.context.close()
