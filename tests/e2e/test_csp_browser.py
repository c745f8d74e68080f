"""The Content-Security-Policy in a real browser (issue 7, finding 6): the inbox, a ticket, the
settings and the API docs load without a single CSP violation, htmx still works, and a form that
asks for confirmation (no inline handler any more) still asks."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.accounts.services import api_token_create
from aftersales.inbox.models import Message
from aftersales.testing.factories import CustomerFactory, TicketFactory
from aftersales.testing.personas import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_csp(page: Any) -> list[str]:
    """Collects CSP violations: console messages and the securitypolicyviolation DOM event."""
    violations: list[str] = []

    def on_console(message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            violations.append(text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: violations.append(f"page error: {error}"))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return violations


def test_pages_load_without_csp_violations_and_confirm_still_asks(live_server, page):
    world = build_world()
    customer = CustomerFactory(organization=world.org, name="Hans Müller")
    ticket = TicketFactory(store=world.store_us, customer=customer, subject="Powerbank kaputt", language="de")
    Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="inbound",
        channel="amazon",
        author_name="Hans Müller",
        body="Die Powerbank lädt nicht.",
        language="de",
        external_id="csp-1",
    )
    api_token_create(user=world.agent, name="ERP sync")
    violations = watch_csp(page)
    base = live_server.url

    page.goto(base + "/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    expect(page.locator("table.tickets")).to_be_visible()
    # htmx still runs under the policy: filtering refreshes the list in place
    page.fill("#f-q", "powerbank")
    page.press("#f-q", "Enter")
    expect(page.locator("table.tickets tbody tr[data-ticket-id]")).to_have_count(1)

    page.goto(f"{base}/tickets/{ticket.pk}/")
    expect(page.locator("text=Die Powerbank lädt nicht.")).to_be_visible()

    # Revoking a token asks first: dismissing keeps it, accepting revokes it
    page.goto(base + "/settings/")
    revoke = page.locator("#tokens form[data-confirm] button[type=submit]")
    asked: list[str] = []

    def answer(accept: bool) -> Any:
        def handle(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    page.once("dialog", answer(False))
    revoke.click()
    page.wait_for_timeout(300)
    assert asked and "Revoke this token" in asked[0]
    expect(page.locator("#tokens tbody td", has_text="ERP sync")).to_be_visible()
    page.once("dialog", answer(True))
    revoke.click()
    expect(page.locator("#flash")).to_contain_text("Token revoked")
    expect(page.locator("#tokens tbody td", has_text="ERP sync")).to_have_count(0)

    # The API docs (Swagger UI, files of our origin) render under the same policy
    page.goto(base + "/api/v1/docs")
    # (the first openapi.json of a process builds the whole schema: seconds on a loaded 2-core machine)
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("aftersales API", timeout=30_000)

    assert violations == []
