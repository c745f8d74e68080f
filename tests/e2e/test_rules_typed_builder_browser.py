"""The condition builder's typed values in a real browser (issue 11 §1): an admin of an organization in
Europe/Berlin edits a date condition (a datetime-local input in Berlin time) and a list condition
(one value per line, numbers stay numbers), saves, and the rule's JSON holds the instant with its
offset and the typed list; a local time the clocks skip is refused on its row. At 1280 and 390 px,
without sideways scrolling or a Content-Security-Policy violation. Set SCREENSHOT_DIR to keep the
screenshots."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from aftersales.rules.models import Rule
from aftersales.rules.services import rule_create
from aftersales.testing.personas import build_world

from .test_csp_browser import watch_csp
from .test_followups_browser import _shot
from .test_rules_browser import _settle
from .test_sla_browser import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_edit_a_date_and_a_list_condition_and_save(live_server, page):  # type: ignore[no-untyped-def]
    world = build_world()
    world.org.timezone = "Europe/Berlin"
    world.org.save(update_fields=["timezone"])
    rule = rule_create(
        user=world.admin,
        data={
            "name": "11.11 big orders",
            "trigger": "ticket_created",
            "conditions": {
                "all": [
                    {"field": "ticket.created_at", "op": "gte", "value": "2026-11-11T00:00:00+08:00"},
                    {"field": "order.total", "op": "in", "value": [99, 199.5]},
                ]
            },
            "actions": [{"type": "set_urgency", "params": {"urgency": "high"}}],
        },
    )
    violations = watch_csp(page)
    _login(page, live_server, "ada")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + f"/settings/rules/{rule.pk}/")
    form = page.locator("#rule-form")
    when = form.locator("input[name='n:r.0:value']")
    expect(when).to_have_attribute("type", "datetime-local")
    expect(when).to_have_value("2026-11-10T17:00")  # 00:00 in Shanghai is 17:00 the day before in Berlin
    expect(form.locator("[data-node='r.0']")).to_contain_text("Europe/Berlin")
    amounts = form.locator("textarea[name='n:r.1:value']")
    expect(amounts).to_have_value("99\n199.5")
    _shot(page, "rules-typed-builder-1280.png")

    # saving unchanged keeps the document (no new version)
    form.locator("button[name=mode][value=builder]").first.click()
    expect(page.locator(".messages, body")).to_contain_text("version 1")

    # a local time the clocks skip in Berlin is refused on its row, nothing saved
    form = page.locator("#rule-form")
    form.locator("input[name='n:r.0:value']").fill("2026-03-29T02:30")
    form.locator("button[name=mode][value=builder]").first.click()
    expect(page.locator("[data-error='conditions.all[0]']")).to_contain_text("does not exist")
    rule.refresh_from_db()
    assert rule.current_version.number == 1

    # an edited date and list, then a new condition whose field is a list of texts
    form = page.locator("#rule-form")
    form.locator("input[name='n:r.0:value']").fill("2026-11-11T00:00")
    form.locator("textarea[name='n:r.1:value']").fill("99\n249.99\n12")
    form.locator("button[value='add-leaf:r']").click()
    _settle(page)
    form.locator("select[name='n:r.2:field']").select_option("message.language")
    _settle(page)
    form.locator("select[name='n:r.2:op']").select_option("not_in")
    _settle(page)
    expect(form.locator("textarea[name='n:r.2:value']")).to_be_visible()
    # the typed values survived the htmx refreshes
    expect(form.locator("input[name='n:r.0:value']")).to_have_value("2026-11-11T00:00")
    expect(form.locator("textarea[name='n:r.1:value']")).to_have_value("99\n249.99\n12")
    form.locator("textarea[name='n:r.2:value']").fill("de\nzh-Hans")
    form.locator("select[name='n:r.3:field'], select[name='n:r.2:field']").first.scroll_into_view_if_needed()
    _shot(page, "rules-typed-builder-edited-1280.png")
    form.locator("button[name=mode][value=builder]").first.click()
    expect(page.locator("body")).to_contain_text("version 2")
    rule = Rule.objects.get(pk=rule.pk)
    assert rule.current_version.conditions == {
        "all": [
            {"field": "ticket.created_at", "op": "gte", "value": "2026-11-11T00:00:00+01:00"},
            {"field": "order.total", "op": "in", "value": [99, 249.99, 12]},
            {"field": "message.language", "op": "not_in", "value": ["de", "zh-Hans"]},
        ]
    }
    # the raw JSON shows what was saved
    page.locator("#rule-json summary").click()
    expect(page.locator("textarea[name=document_json]")).to_contain_text("2026-11-11T00:00:00+01:00")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + f"/settings/rules/{rule.pk}/")
    expect(page.locator("input[name='n:r.0:value']")).to_have_value("2026-11-11T00:00")
    _shot(page, "rules-typed-builder-390.png")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
        ".slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id)"
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), wide
    assert violations == []
