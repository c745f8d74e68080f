"""The condition builder typed per field (web/rule_builder.py, issue 11 §1): instants as local date
and time in the organization's zone (DST edges, round trip raw JSON -> builder -> raw JSON
unchanged), in/not_in as a list editor giving a JSON list of the field's type, between as two typed
inputs; refusals by the same service as the API, naming the condition's path."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from aftersales.rules.models import Rule
from aftersales.web.rule_builder import (
    conditions_from_tree,
    instant_to_local,
    leaf_widget,
    local_to_instant,
    parse_tree,
    tree_from_conditions,
    value_json,
)

BERLIN = "Europe/Berlin"


# --------------------------------------------------------------------------- instants, pure


@pytest.mark.parametrize(
    ("instant", "tz", "local"),
    [
        ("2026-11-11T00:00:00+08:00", BERLIN, "2026-11-10T17:00"),
        ("2026-11-11T00:00:00+08:00", "Asia/Shanghai", "2026-11-11T00:00"),
        ("2026-03-29T00:59:59+00:00", BERLIN, "2026-03-29T01:59:59"),  # the second before the gap
        ("2026-03-29T01:00:00+00:00", BERLIN, "2026-03-29T03:00"),  # the gap's end
        ("2026-10-25T00:30:00+00:00", BERLIN, "2026-10-25T02:30"),  # repeated hour, first time (+02:00)
        ("2026-10-25T01:30:00+00:00", BERLIN, "2026-10-25T02:30"),  # repeated hour, second time (+01:00)
        ("2026-03-08T07:00:00Z", "America/New_York", "2026-03-08T03:00"),
    ],
)
def test_instant_shown_in_the_organization_zone(instant: str, tz: str, local: str) -> None:
    assert instant_to_local(instant, tz) == local


def test_local_time_to_instant_at_dst_edges() -> None:
    assert local_to_instant("2026-11-11T00:00", "Asia/Shanghai") == "2026-11-11T00:00:00+08:00"
    assert local_to_instant("2026-03-29T01:59:59", BERLIN) == "2026-03-29T01:59:59+01:00"
    assert local_to_instant("2026-03-29T03:00", BERLIN) == "2026-03-29T03:00:00+02:00"
    # the hour the clocks repeat: the first occurrence (summer time)
    assert local_to_instant("2026-10-25T02:30", BERLIN) == "2026-10-25T02:30:00+02:00"
    assert local_to_instant("2026-10-25T03:00", BERLIN) == "2026-10-25T03:00:00+01:00"
    for skipped, tz in (("2026-03-29T02:30", BERLIN), ("2026-03-08T02:00", "America/New_York")):
        with pytest.raises(ValueError, match="does not exist"):
            local_to_instant(skipped, tz)
    for bad in ("2026-13-01T00:00", "tomorrow", "2026-11-11", ""):
        with pytest.raises(ValueError):
            local_to_instant(bad, BERLIN)


def test_widgets_per_field_type() -> None:
    w = leaf_widget("ticket.created_at", "gte", "2026-11-11T00:00:00+08:00", tz=BERLIN)
    assert (w.kind, w.low, w.orig, w.tz) == ("datetime", "2026-11-10T17:00", "2026-11-11T00:00:00+08:00", BERLIN)
    w = leaf_widget("order.placed_at", "between", "2026-11-10T16:00:00Z, 2026-11-12T16:00:00Z", tz="Asia/Shanghai")
    assert (w.kind, w.low, w.high) == ("datetime_range", "2026-11-11T00:00", "2026-11-13T00:00")
    assert leaf_widget("ticket.created_at", "gte", "next week", tz=BERLIN).kind == "text"  # shown as typed
    assert leaf_widget("ticket.created_at", "days_since", "gte 3").kind == "days"
    assert leaf_widget("order.total", "in", "1\n19.99").kind == "lines"
    assert leaf_widget("message.language", "not_in", "de\nfr").kind == "lines"
    assert leaf_widget("customer.tier", "in", "vip").kind == "multi"
    assert leaf_widget("message.triage.intent", "eq", "").kind == "select"
    assert leaf_widget("ticket.urgency", "ne", "").kind == "select"


def test_list_editor_values_keep_the_field_type() -> None:
    assert value_json("order.total", "in", "10\n19.99\n 0.5 \n\n") == [10, 19.99, 0.5]
    assert value_json("customer.return_count", "not_in", "1\n2") == [1, 2]
    assert value_json("message.language", "in", "de\nzh-Hans") == ["de", "zh-Hans"]
    assert value_json("ticket.subject", "in", "broken, cracked\nlate") == ["broken, cracked", "late"]
    # a decimal a float cannot print back stays an exact decimal text (the service reads it as such)
    assert value_json("order.total", "in", "0.10000000000000001") == ["0.10000000000000001"]


# --------------------------------------------------------------------------- a browser's post, simulated


class _FormFields(HTMLParser):
    """What a browser posts from the page's #rule-form (no submit buttons; checked boxes only)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._select: tuple[str, list[str], str | None] | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "rule-form":
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select = (a["name"], [], None)
            self._multiple = "multiple" in a
        elif tag == "option" and self._select is not None:
            name, chosen, first = self._select
            value = a.get("value", "")
            if "selected" in a:
                chosen.append(value)
            self._select = (name, chosen, first if first is not None else value)
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
        elif tag == "select" and self._select is not None:
            name, chosen, first = self._select
            if not chosen and not self._multiple and first is not None:
                chosen = [first]
            self.fields.extend((name, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._text[1:] if self._text.startswith("\n") else self._text
            self.fields.append((self._textarea, text))
            self._textarea = None


def _current(rule: Rule) -> Any:
    rule.refresh_from_db()
    assert rule.current_version is not None
    return rule.current_version


def page_form(html: str, **changes: str) -> dict[str, Any]:
    parser = _FormFields()
    parser.feed(html)
    post: dict[str, list[str]] = {}
    for name, value in parser.fields:
        post.setdefault(name, []).append(value)
    for name, value in changes.items():
        post[name] = [value]
    return post


DOCUMENT: dict[str, Any] = {
    "name": "11.11 VIPs",
    "trigger": "ticket_created",
    "priority": 10,
    "enabled": False,
    "stop_further": False,
    "conditions": {
        "all": [
            {"field": "ticket.created_at", "op": "gte", "value": "2026-11-11T00:00:00+08:00"},
            {"field": "order.placed_at", "op": "lt", "value": "2026-10-25T02:30:00+01:00"},  # repeated hour, 2nd
            {"field": "message.created_at", "op": "lte", "value": "2026-11-12T23:59:59.500000+08:00"},
            {"field": "now", "op": "between", "value": ["2026-03-29T00:59:59Z", "2026-03-29T01:00:00+00:00"]},
            {"field": "order.total", "op": "in", "value": [10, 19.99]},
            {"field": "ticket.subject", "op": "not_in", "value": ["broken, cracked", "late"]},
            {"field": "customer.return_count", "op": "not_in", "value": [3, 4]},
            {"field": "ticket.platform", "op": "in", "value": ["amazon", "shopee"]},
            {"field": "order.delivered_at", "op": "days_since", "value": {"gte": 3}},
            {"field": "customer.tier", "op": "eq", "value": "vip"},
        ]
    },
    "actions": [{"type": "set_urgency", "params": {"urgency": "high"}}],
    "scope": {},
    "schedule": {},
}


@pytest.mark.django_db
def test_raw_json_to_builder_to_raw_json_unchanged(world: Any) -> None:
    world.org.timezone = BERLIN
    world.org.save(update_fields=["timezone"])
    c = Client()
    c.force_login(world.admin)
    r = c.post(reverse("web:settings_rule_save"), {"mode": "json", "document_json": json.dumps(DOCUMENT)})
    assert r.status_code == 302, r.content.decode()[:2000]
    rule = Rule.objects.get(organization=world.org, name="11.11 VIPs")
    assert _current(rule).number == 1
    page = c.get(r["Location"]).content.decode()
    # instants shown as Berlin local time, with the instant they show kept beside them
    assert 'type="datetime-local"' in page and 'value="2026-11-10T17:00"' in page
    assert 'value="2026-10-25T02:30"' in page and 'value="2026-10-25T02:30:00+01:00"' in page
    assert "rule-lines" in page
    # saved back from the builder as the browser posts it: the same document, no new version
    post = page_form(page, mode="builder")
    r = c.post(reverse("web:settings_rule_save"), post)
    assert r.status_code == 302, r.content.decode()[:3000]
    rule.refresh_from_db()
    assert _current(rule).conditions == DOCUMENT["conditions"]
    assert _current(rule).document() == rule.versions.get(number=1).document()
    assert _current(rule).number == 1
    # the same through the builder's own functions (what the page's form is made of)
    tree = tree_from_conditions(DOCUMENT["conditions"], tz="America/New_York")
    assert conditions_from_tree(tree) == DOCUMENT["conditions"]


@pytest.mark.django_db
def test_edited_local_time_and_list_become_typed_json(world: Any) -> None:
    world.org.timezone = BERLIN
    world.org.save(update_fields=["timezone"])
    c = Client()
    c.force_login(world.admin)
    r = c.post(reverse("web:settings_rule_save"), {"mode": "json", "document_json": json.dumps(DOCUMENT)})
    rule = Rule.objects.get(organization=world.org, name="11.11 VIPs")
    page = c.get(r["Location"]).content.decode()
    post = page_form(
        page,
        **{
            "mode": "builder",
            "n:r.0:value": "2026-11-11T00:00",  # Berlin local, winter time
            "n:r.3:high": "2026-10-25T02:30",  # the repeated hour typed anew: the first occurrence
            "n:r.4:value": "5\n12.5\n",
            "n:r.6:value": "7",
        },
    )
    r = c.post(reverse("web:settings_rule_save"), post)
    assert r.status_code == 302, r.content.decode()[:3000]
    rule.refresh_from_db()
    conditions = _current(rule).conditions["all"]
    assert _current(rule).number == 2
    assert conditions[0]["value"] == "2026-11-11T00:00:00+01:00"
    assert conditions[3]["value"] == ["2026-03-29T00:59:59Z", "2026-10-25T02:30:00+02:00"]
    assert conditions[4]["value"] == [5, 12.5]
    assert conditions[6]["value"] == [7]
    assert conditions[1:3] == DOCUMENT["conditions"]["all"][1:3]  # untouched rows unchanged


@pytest.mark.django_db
def test_refusals_name_the_condition_path(world: Any) -> None:
    world.org.timezone = BERLIN
    world.org.save(update_fields=["timezone"])
    c = Client()
    c.force_login(world.admin)
    r = c.post(reverse("web:settings_rule_save"), {"mode": "json", "document_json": json.dumps(DOCUMENT)})
    rule = Rule.objects.get(organization=world.org, name="11.11 VIPs")
    page = c.get(r["Location"]).content.decode()
    # a local time the clocks skip in the organization's zone
    post = page_form(page, **{"mode": "builder", "n:r.0:value": "2026-03-29T02:30"})
    r = c.post(reverse("web:settings_rule_save"), post)
    body = r.content.decode()
    assert r.status_code == 422
    assert 'data-error="conditions.all[0]"' in body and "conditions.all[0].value" in body and "does not exist" in body
    # a list value of the wrong type: refused by the service the API uses, naming the item
    post = page_form(page, **{"mode": "builder", "n:r.6:value": "3\nfour"})
    r = c.post(reverse("web:settings_rule_save"), post)
    body = r.content.decode()
    assert r.status_code == 422 and "conditions.all[6].value[1]" in body and 'data-error="conditions.all[6]"' in body
    rule.refresh_from_db()
    assert _current(rule).number == 1  # nothing half-written


def test_parse_tree_reads_the_typed_inputs() -> None:
    q = QueryDict(mutable=True)
    q.update({"n:r:mode": "all", "n:r.0:field": "ticket.created_at", "n:r.0:op": "gt", "n:r.0:widget": "datetime"})
    q.update({"n:r.0:value": "2026-07-01T09:30", "n:r.0:orig": ""})
    q.update({"n:r.1:field": "message.language", "n:r.1:op": "in", "n:r.1:widget": "lines"})
    q.update({"n:r.1:value": "de\r\nfr\r\n"})
    assert conditions_from_tree(parse_tree(q, tz=BERLIN)) == {
        "all": [
            {"field": "ticket.created_at", "op": "gt", "value": "2026-07-01T09:30:00+02:00"},
            {"field": "message.language", "op": "in", "value": ["de", "fr"]},
        ]
    }
