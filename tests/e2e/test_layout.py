"""Layout (issue 8, section 3): no horizontal overflow on the inbox and a ticket page at 1280x800 and on
a phone (390x844), with realistic long names (organization, agent, stores, customers, subjects) and
every column of the list; the key controls (the filter Apply button, the reply box, the status
select, the top bar's user name and Log out) lie inside the viewport.

Screenshots of each page and width go to $LAYOUT_SCREENSHOTS when set (to look at them);
$LAYOUT_CSS serves another app.css instead of ours (e.g. the one before the fix, to see the test fail)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.catalog.models import TrackingEvent
from aftersales.inbox.models import Message
from aftersales.testing.factories import (
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ShipmentFactory,
    StoreFactory,
    TicketFactory,
)
from aftersales.testing.personas import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [(1280, 800), (390, 844)]
SHOTS = os.environ.get("LAYOUT_SCREENSHOTS", "")
CSS = os.environ.get("LAYOUT_CSS", "")

OVERFLOW = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1 && getComputedStyle(el).position !== 'fixed') {
      wide.push(`${el.tagName.toLowerCase()}.${el.className}#${el.id} right=${Math.round(box.right)}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide: wide.slice(0, 10)};
}"""


def _scene() -> Any:
    world = build_world()
    world.org.name = "Shenzhen Gadgets Cross-Border Trading Company Limited"
    world.org.save()
    world.agent.display_name = "Alexandrina Konstantinopoulou-Wetherspoon"
    world.agent.save()
    store = StoreFactory(
        organization=world.org, name="Amazon United States Main Marketplace", platform="amazon", site="amazon.com"
    )
    world.agent.teams.first().stores.add(store)
    customer = CustomerFactory(organization=world.org, name="Maximiliane Oberhauser-Schwarzenberg", tier="at_risk")
    order = OrderFactory(
        store=store, customer=customer, external_id="113-1234567-7654321", total_amount=Decimal("1299.00")
    )
    OrderLineFactory(order=order, sku="SZG-PH-A2-64-GRN-EXTENDED", title="SZG A2 Rugged Phone 64GB " * 4, quantity=1)
    shipment = ShipmentFactory(
        order=order, carrier="Yanwen Logistics", tracking_number="UG000000058YP", status="in_transit"
    )
    TrackingEvent.objects.create(
        shipment=shipment, at=order.placed_at, status="info_received", location="Shenzhen, CN",
        description="Shipment information received by Yanwen Logistics, waiting for pick-up at the warehouse",
    )  # fmt: skip
    subject = "Le SZG A2 Rugged Phone 64GB ne s'allume plus après la mise à jour du système " * 2
    ticket = TicketFactory(
        store=store, customer=customer, order=order, subject=subject, language="fr", category="quality_issue",
        urgency="high", is_high_priority=True, assignee=world.agent, is_unreplied=True,
    )  # fmt: skip
    Message.objects.create(
        ticket=ticket, store=store, direction="inbound", channel="amazon", author_name=customer.name,
        body="Bonjour, mon téléphone ne s'allume plus. " * 20 + "https://example.com/" + "x" * 120,
        language="fr", external_id="layout-1",
    )  # fmt: skip
    for i in range(12):
        TicketFactory(
            store=store if i % 2 else world.store_us, customer=customer, subject=f"Commande {i} " + "très " * 12,
            assignee=world.agent, category="not_received", urgency="medium",
        )  # fmt: skip
    return world, ticket


def _check(page: Any, name: str, size: tuple[int, int], controls: list[str]) -> None:
    page.wait_for_load_state("networkidle")
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}-{size[0]}.png", full_page=True)
    measured = page.evaluate(OVERFLOW)
    assert measured["scrollWidth"] <= measured["innerWidth"], (name, size, measured)
    for selector in controls:
        control = page.locator(selector).first
        control.scroll_into_view_if_needed()
        expect(control).to_be_visible()
        box = control.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= size[0] + 0.5, (name, size, selector, box)


@pytest.mark.parametrize("size", VIEWPORTS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_inbox_and_ticket_fit_the_screen(live_server, browser, size):
    world, ticket = _scene()
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    if CSS:
        page.route("**/web/app.css*", lambda route: route.fulfill(path=CSS, content_type="text/css"))
    try:
        page.goto(live_server.url + "/login/")
        page.fill("input[name=username]", world.agent.username)
        page.fill("input[name=password]", "pw-correct-horse")
        page.click("button[type=submit]")
        expect(page.locator("table.tickets")).to_be_visible()
        page.goto(live_server.url + "/?assignee=&status_category=")
        expect(page.locator(f"tr[data-ticket-id='{ticket.pk}']")).to_be_visible()
        inbox_controls = [
            "#filters button[type=submit]",  # Apply
            ".topbar .user",
            ".topbar form button[type=submit]",  # Log out
            f"tr[data-ticket-id='{ticket.pk}'] .pill-status-{ticket.status}",
            f"tr[data-ticket-id='{ticket.pk}'] .col-time",
        ]
        if size[0] >= 1000:
            inbox_controls += ["th.col-status", "th.col-assignee", "th.col-time"]
        _check(page, "inbox", size, inbox_controls)

        page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
        expect(page.locator("#reply-body")).to_be_visible()
        _check(page, "ticket", size, ["#reply-body", "#reply-send", "#prop-status", ".topbar .user", "#order-panel"])
    finally:
        context.close()
