"""Settings > Rules in a real browser (issue 11 §1): an admin builds a rule with the condition builder
(htmx adds and removes rows and groups in place, no inline script), sees a refusal on the row it names,
runs the dry run over the last days, saves, edits the raw JSON, checks conflicts, enables rules in a
batch, starts an A/B experiment and reads its results; the ticket page shows what rules did. At 1280
and 390 px, without sideways scrolling or a Content-Security-Policy violation. Set SCREENSHOT_DIR to
keep the screenshots."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from aftersales.inbox.models import Ticket
from aftersales.rules.models import Rule, RuleExecution
from aftersales.rules.services import rule_create
from aftersales.testing.personas import build_world

from .test_csp_browser import watch_csp
from .test_followups_browser import _shot
from .test_sla_browser import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _settle(page):  # type: ignore[no-untyped-def]
    """Wait for the builder's htmx refresh (a field, operator or action type changed) to land."""
    page.wait_for_load_state("networkidle")
    expect(page.locator(".htmx-request, .htmx-settling, .htmx-swapping")).to_have_count(0)


def test_build_simulate_save_enable_and_experiment(live_server, page):  # type: ignore[no-untyped-def]
    world = build_world()
    ticket = world.ticket(subject="Screen arrived cracked")
    Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(days=2))
    rule_create(
        user=world.admin,
        data={
            "name": "Everything low",
            "trigger": "ticket_created",
            "enabled": True,
            "conditions": {"all": []},
            "actions": [{"type": "set_urgency", "params": {"urgency": "low"}}],
        },
    )
    violations = watch_csp(page)
    _login(page, live_server, "ada")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/settings/rules/new/")
    form = page.locator("#rule-form")
    form.locator("input[name=name]").fill("Amazon urgent")
    # values are typed by the field: a choice field with "eq" offers its choices, "in" several
    form.locator("select[name='n:r.0:field']").select_option("ticket.platform")
    _settle(page)
    expect(form.locator("input[name='n:r.0:widget']")).to_have_value("select")
    form.locator("select[name='n:r.0:op']").select_option("in")
    _settle(page)
    expect(form.locator("select[name='n:r.0:values']")).to_be_visible()
    form.locator("select[name='n:r.0:op']").select_option("eq")
    _settle(page)
    expect(form.locator("select[name='n:r.0:value']")).to_be_visible()
    form.locator("select[name='n:r.0:value']").select_option("amazon")
    # action parameters are form fields of the action's type, not JSON
    form.locator("select[name='a:0:type']").select_option("set_urgency")
    _settle(page)
    expect(form.locator("select[name='a:0:p:urgency']")).to_be_visible()
    form.locator("select[name='a:0:p:urgency']").select_option("high")
    # htmx: a group with its first row appears in place, the typed values survive; then it goes away
    form.locator("button[value='add-group:r']").click()
    _settle(page)
    expect(page.locator("[data-node='r.1.0']")).to_be_visible()
    expect(form.locator("select[name='n:r.0:value']")).to_have_value("amazon")
    expect(form.locator("select[name='a:0:p:urgency']")).to_have_value("high")
    # a number field gets a number input, days_since a comparison and days
    form.locator("select[name='n:r.1.0:field']").select_option("customer.return_count")
    _settle(page)
    expect(form.locator("input[name='n:r.1.0:widget']")).to_have_value("number")
    form.locator("select[name='n:r.1.0:op']").select_option("gte")
    _settle(page)
    expect(form.locator("input[name='n:r.1.0:value'][type=number]")).to_be_visible()
    form.locator("select[name='n:r.1.0:field']").select_option("ticket.created_at")
    _settle(page)
    expect(form.locator("input[name='n:r.1.0:widget']")).to_have_value("datetime")  # re-rendered: an instant
    form.locator("select[name='n:r.1.0:op']").select_option("days_since")
    _settle(page)
    expect(form.locator("select[name='n:r.1.0:cmp']")).to_be_visible()
    form.locator("select[name='a:0:type']").select_option("notify_webhook")
    _settle(page)
    expect(form.locator("input[name='a:0:p:url']")).to_be_visible()
    _shot(page, "rules-builder-typed-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "rules-builder-typed-390.png")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.set_viewport_size({"width": 1280, "height": 900})
    form.locator("select[name='a:0:type']").select_option("set_urgency")
    _settle(page)
    form.locator("select[name='a:0:p:urgency']").select_option("high")
    form.locator("button[value='remove:r.1']").click()
    expect(page.locator("[data-node='r.1']")).to_have_count(0)

    # a refusal names its row: "gt" does not apply to the platform
    form.locator("select[name='n:r.0:op']").select_option("gt")
    _settle(page)
    form.locator("button[name=mode][value=builder]").first.click()
    expect(page.locator("[data-node='r.0'] .field-error")).to_contain_text("gt")
    assert not Rule.objects.filter(name="Amazon urgent").exists()
    page.locator("#rule-form select[name='n:r.0:op']").select_option("eq")
    _settle(page)

    # the dry run: the cracked-screen ticket would get high urgency; nothing changes
    page.locator("#rule-form input[name=days]").fill("7")
    page.locator("#rule-form button", has_text="Simulate").first.click()
    expect(page.locator("#rule-simulation")).to_contain_text("Screen arrived cracked")
    expect(page.locator("#rule-simulation")).to_contain_text("medium → high")
    assert Ticket.objects.get(pk=ticket.pk).urgency == "medium"
    page.locator("#rule-form button", has_text="Check conflicts").click()
    expect(page.locator("[data-conflict='ticket.urgency']")).to_contain_text("Everything low")
    _shot(page, "rules-editor-1280.png")
    page.locator("#rule-form button[name=mode][value=builder]").first.click()
    expect(page.locator("#rule-editor h2")).to_contain_text("v1")
    rule = Rule.objects.get(name="Amazon urgent")

    # the raw JSON editor: a new priority (no new version: the content is the same)
    page.locator("#rule-json summary").click()
    document = json.loads(page.locator("textarea[name=document_json]").input_value())
    page.locator("textarea[name=document_json]").fill(json.dumps({**document, "priority": 7}))
    page.locator("button[name=mode][value=json]", has_text="Save the JSON").click()
    expect(page.locator(".alert-success, .flash, [role=status]").first).to_be_visible()
    rule.refresh_from_db()
    assert rule.priority == 7

    # batch: enable it from the list
    page.goto(live_server.url + "/settings/rules/")
    page.locator(f"input[name=rule_ids][value='{rule.pk}']").check()
    page.locator("button", has_text="Enable selected").click()
    expect(page.locator("[data-rule='Amazon urgent'] [data-enabled]")).to_have_attribute("data-enabled", "yes")
    _shot(page, "rules-list-1280.png")

    # an experiment and its results
    page.goto(live_server.url + f"/settings/rules/{rule.pk}/")
    page.locator("#rule-experiments input[name=treatment_percent]").fill("30")
    page.locator("#rule-experiments button", has_text="Start an experiment").click()
    page.locator("#rule-experiments a", has_text="Results").click()
    expect(page.locator("[data-arm=treatment]")).to_be_visible()
    expect(page.locator("[data-arm=control]")).to_be_visible()
    _shot(page, "rules-experiment-1280.png")

    # the ticket page shows the rule log (loaded by htmx)
    RuleExecution.objects.create(
        organization=world.org,
        rule=rule,
        version=rule.current_version,
        trigger="ticket_created",
        event_key=f"ticket_created:{ticket.pk}",
        ticket=ticket,
        matched=[{"field": "ticket.platform", "op": "eq", "seen": "amazon", "result": True}],
        actions=[{"type": "set_urgency", "params": {"urgency": "high"}, "status": "ok"}],
    )
    page.goto(live_server.url + f"/tickets/{ticket.pk}/")
    expect(page.locator("#ticket-rules")).to_contain_text("Amazon urgent")

    for path, name in (
        (f"/settings/rules/{rule.pk}/", "rules-editor-390.png"),
        ("/settings/rules/", "rules-list-390.png"),
        (f"/tickets/{ticket.pk}/", "rules-ticket-390.png"),
    ):
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(live_server.url + path)
        if path.startswith("/tickets/"):
            expect(page.locator("#ticket-rules")).to_contain_text("Amazon urgent")
        _shot(page, name)
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id)"
        )
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (path, wide)
    assert violations == []
