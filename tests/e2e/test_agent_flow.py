"""An agent's day in a real browser: search and filter the inbox, open a ticket, reply, write a note that
mentions a teammate; the teammate sees the notification and follows it to the ticket."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from aftersales.inbox.models import Message
from aftersales.testing.factories import CustomerFactory, TicketFactory
from aftersales.testing.personas import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_tickets(world):  # type: ignore[no-untyped-def]
    world.team_us.stores.add(world.store_de)  # alice's and bob's team handles both stores here
    specs = {
        "en_amazon": (world.store_us, "en", "Charger stopped working"),
        "de_amazon": (world.store_us, "de", "Ladegerät defekt"),
        "de_ebay": (world.store_de, "de", "Paket nicht angekommen"),
        "fr_ebay": (world.store_de, "fr", "Colis endommagé"),
        "ja_amazon": (world.store_us, "ja", "充電器が壊れました"),
    }
    tickets = {}
    for key, (store, language, subject) in specs.items():
        customer = CustomerFactory(organization=world.org)
        ticket = TicketFactory(store=store, customer=customer, subject=subject, language=language)
        Message.objects.create(
            ticket=ticket,
            store=store,
            direction="inbound",
            channel=store.platform,
            author_name=customer.name,
            body=f"{subject} — please help",
            language=language,
            external_id=f"m-{key}",
        )
        tickets[key] = ticket
    return tickets


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    expect(page.locator("table.tickets")).to_be_visible()


def rows(page):  # type: ignore[no-untyped-def]
    return page.locator("table.tickets tbody tr[data-ticket-id]")


def expect_rows(page, *tickets) -> None:  # type: ignore[no-untyped-def]
    expect(rows(page)).to_have_count(len(tickets))
    shown = {int(v) for v in rows(page).evaluate_all("rs => rs.map(r => r.dataset.ticketId)")}
    assert shown == {t.pk for t in tickets}


def pick(page, filter_name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    page.click(f"details[data-filter={filter_name}] > summary")
    page.locator(f"input[name={filter_name}][value='{value}']").click()
    page.click("h3")  # close the dropdown


def test_agent_flow(live_server, page):
    world = build_world()
    t = make_tickets(world)
    base = live_server.url

    # alice signs in and filters her inbox (htmx refreshes the list only and pushes the URL)
    sign_in(page, base, "alice")
    expect_rows(page, *t.values())
    # search: words without their accents, Japanese by any run of characters
    page.fill("#f-q", "ladegerat")
    page.press("#f-q", "Enter")
    expect_rows(page, t["de_amazon"])
    expect(page).to_have_url(re.compile(r"q=ladegerat"))
    page.fill("#f-q", "充電")
    page.press("#f-q", "Enter")
    expect(page.locator(f"tr[data-ticket-id='{t['ja_amazon'].pk}']")).to_be_visible()  # the list was swapped
    expect_rows(page, t["ja_amazon"])
    page.fill("#f-q", "")
    page.press("#f-q", "Enter")
    expect_rows(page, *t.values())
    pick(page, "platform", "ebay")
    expect_rows(page, t["de_ebay"], t["fr_ebay"])
    expect(page).to_have_url(re.compile(r"platform=ebay"))
    pick(page, "language", "de")
    expect_rows(page, t["de_ebay"])
    pick(page, "platform", "ebay")  # untick: German tickets of every platform
    expect_rows(page, t["de_amazon"], t["de_ebay"])
    # the default view's filters (open, mine and unassigned) stay in the form and the URL
    expect(page).to_have_url(re.compile(r"\?status_category=open&language=de&assignee=me%2Cnone$"))
    expect(page.locator(f"tr[data-ticket-id='{t['de_amazon'].pk}']")).to_contain_text("Amazon")
    page.check("[data-select-all]")  # bulk selection: every row of the page
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    page.uncheck("[data-select-all]")

    # she opens the Amazon ticket and replies
    page.click(f"tr[data-ticket-id='{t['de_amazon'].pk}'] .col-subject a")
    expect(page.locator("#ticket-header h1")).to_contain_text("Ladegerät defekt")
    page.fill("#reply-body", "Wir senden Ihnen heute ein neues Ladegerät.")
    page.click("#reply-send")
    reply = page.locator(".msg-outbound", has_text="Wir senden Ihnen heute ein neues Ladegerät.")
    expect(reply).to_be_visible()
    # no Amazon connector yet: delivery fails permanently, and the agent sees it with a retry button
    expect(reply.locator("[data-delivery-status]")).to_have_attribute("data-delivery-status", "failed")
    expect(reply.get_by_role("button", name="Retry delivery")).to_be_visible()
    expect(page.locator("#reply-body")).to_have_value("")
    # an undeliverable reply does not look sent: the ticket keeps its status (issue 8)
    expect(page.locator("#ticket-props #prop-status")).to_have_value("open")

    # an internal note mentioning bob, picked from the colleague list
    mention = page.locator("[data-mention-for=note-body]")
    mention.fill("bob")
    mention.press("Enter")
    expect(page.locator("#note-body")).to_have_value("@bob ")
    page.locator("#note-body").press_sequentially("please call DHL about the replacement")
    page.click("#note-box button[type=submit]")
    note = page.locator(".msg-note", has_text="please call DHL about the replacement")
    expect(note).to_be_visible()
    expect(note.locator(".mention")).to_have_text("@bob")
    expect(page.locator("#note-box .notice")).to_contain_text("Notified: Bob.")

    # bob signs in: the badge, the notification, and the way to the ticket
    page.click("header.topbar button:has-text('Log out')")
    expect(page.locator("input[name=username]")).to_be_visible()
    sign_in(page, base, "bob")
    expect(page.locator("#unread-badge")).to_have_text("1")
    page.click("nav.mainnav a[href='/notifications/']")
    item = page.locator("li.notification.is-unread")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Mentioned in a note")
    expect(item).to_contain_text("Ladegerät defekt")
    item.locator("a.n-link").click()
    expect(page).to_have_url(f"{base}/tickets/{t['de_amazon'].pk}/")
    expect(page.locator(".msg-note .mention")).to_have_text("@bob")
    expect(page.locator("#unread-badge")).to_have_count(0)
