"""Settings > Rules (web/views/settings_rules.py, web/rule_builder.py): the list and batch enabling,
the builder (htmx add/remove, refusals shown on the row they name), the raw JSON editor, conflicts,
the dry run, experiments, and a ticket's rule log."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aftersales.inbox.models import Ticket
from aftersales.rules.experiment_models import RuleExperiment
from aftersales.rules.models import Rule, RuleExecution
from aftersales.web.rule_builder import (
    conditions_from_tree,
    flatten,
    parse_tree,
    tree_from_conditions,
    value_json,
    value_text,
)

pytestmark = pytest.mark.django_db

TREE = {
    "all": [
        {"field": "ticket.platform", "op": "in", "value": ["amazon", "ebay"]},
        {
            "not": {
                "any": [
                    {"field": "customer.return_count", "op": "gte", "value": 3},
                    {"field": "ticket.is_unreplied", "op": "eq", "value": True},
                ]
            }
        },
        {"not": {"field": "order.placed_at", "op": "days_since", "value": {"gte": 30}}},
        {"field": "message.body", "op": "is_empty", "value": False},
    ]
}


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def builder_post(**extra: Any) -> dict[str, Any]:
    """A builder form: trigger ticket_created, one condition (platform = amazon), urgency high."""
    return {
        "name": "Amazon urgent",
        "trigger": "ticket_created",
        "priority": "10",
        "n:r:mode": "all",
        "n:r.0:field": "ticket.platform",
        "n:r.0:op": "eq",
        "n:r.0:value": "amazon",
        "a:0:type": "set_urgency",
        "a:0:params": '{"urgency": "high"}',
        "mode": "builder",
        **extra,
    }


def test_builder_round_trip() -> None:
    tree = tree_from_conditions(TREE)
    assert conditions_from_tree(tree) == {
        "all": [
            TREE["all"][0],
            {
                "not": {
                    "any": [
                        {"field": "customer.return_count", "op": "gte", "value": 3},
                        TREE["all"][1]["not"]["any"][1],
                    ]
                }
            },
            {"not": {"all": [TREE["all"][2]["not"]]}},
            TREE["all"][3],
        ]
    }
    post = {}
    for node in flatten(tree):
        if node.kind == "group":
            post[f"n:{node.id}:mode"] = node.mode
            if node.negate:
                post[f"n:{node.id}:negate"] = "on"
        else:
            post.update(
                {f"n:{node.id}:field": node.field, f"n:{node.id}:op": node.op, f"n:{node.id}:value": node.value}
            )
    assert conditions_from_tree(parse_tree(post)) == conditions_from_tree(tree)
    assert value_text("ticket.platform", "in", ["a", "b"]) == "a\nb"
    assert value_json("customer.return_count", "in", "1\n2") == [1, 2]
    assert value_json("order.placed_at", "days_since", "lt 7") == {"lt": 7}
    assert value_json("order.total", "between", "10, 20.5") == [10, 20.5]
    assert value_json("message.body", "is_empty", "") is True


def test_create_edit_and_list(world: Any) -> None:
    c = client_for(world.admin)
    assert c.get(reverse("web:settings_rule_new")).status_code == 200
    r = c.post(reverse("web:settings_rule_save"), builder_post())
    rule = Rule.objects.get(organization=world.org, name="Amazon urgent")
    assert r.status_code == 302 and r["Location"] == reverse("web:settings_rule", args=[rule.pk])
    assert rule.current_version.conditions == {"all": [{"field": "ticket.platform", "op": "eq", "value": "amazon"}]}
    page = c.get(r["Location"]).content.decode()
    assert 'value="amazon"' in page and "v1" in page and 'id="rule-executions"' in page
    # the raw JSON editor, checked by the same service: a new version
    document = {**json.loads(c.get(r["Location"]).context["form"].json_text), "priority": 5}
    r = c.post(
        reverse("web:settings_rule_save"), {"rule_id": rule.pk, "mode": "json", "document_json": json.dumps(document)}
    )
    assert r.status_code == 302
    rule.refresh_from_db()
    assert rule.priority == 5 and rule.current_version.number == 1  # content unchanged: same version
    listing = c.get(reverse("web:settings_rules")).content.decode()
    assert 'data-rule="Amazon urgent"' in listing and 'data-enabled="no"' in listing


def test_refusals_are_shown_on_their_row(world: Any) -> None:
    c = client_for(world.admin)
    r = c.post(reverse("web:settings_rule_save"), builder_post(**{"n:r.0:op": "gt"}))
    assert r.status_code == 422
    assert 'data-error="conditions.all[0]"' in r.content.decode()
    r = c.post(reverse("web:settings_rule_save"), builder_post(**{"a:0:params": "{urgency"}))
    assert r.status_code == 422 and 'data-error="actions[0]"' in r.content.decode()
    r = c.post(reverse("web:settings_rule_save"), {"mode": "json", "document_json": "[1"})
    assert r.status_code == 422 and 'data-error="form"' in r.content.decode()
    assert not Rule.objects.filter(organization=world.org).exists()


def test_builder_buttons_edit_the_tree_without_saving(world: Any) -> None:
    c = client_for(world.admin)
    r = c.post(reverse("web:settings_rule_save"), builder_post(builder="add-group:r"), headers={"HX-Request": "true"})
    body = r.content.decode()
    assert r.status_code == 200 and body.startswith('<div id="rule-builder"')
    assert 'data-node="r.1"' in body and 'data-node="r.1.0"' in body
    r = c.post(reverse("web:settings_rule_save"), builder_post(builder="remove:r.0"))
    assert 'data-node="r.0"' not in r.content.decode() and "<html" in r.content.decode()
    r = c.post(reverse("web:settings_rule_save"), builder_post(builder="add-action"), headers={"HX-Request": "true"})
    assert 'data-action="1"' in r.content.decode()
    assert not Rule.objects.exists()


def test_simulate_conflicts_batch_and_experiment(world: Any) -> None:
    c = client_for(world.admin)
    ticket = world.ticket(subject="Cracked screen")
    Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(days=2))
    r = c.post(reverse("web:settings_rule_simulate"), builder_post(days="7"))
    body = r.content.decode()
    assert r.status_code == 200 and 'data-simulation="1"' in body and "Cracked screen" in body
    c.post(
        reverse("web:settings_rule_save"),
        builder_post(
            name="All low",
            **{"n:r.0:op": "ne", "n:r.0:value": "ebay", "a:0:params": '{"urgency": "low"}', "enabled": "on"},
        ),
    )
    r = c.post(reverse("web:settings_rule_conflicts"), builder_post())
    assert 'data-conflict="ticket.urgency"' in r.content.decode()
    c.post(reverse("web:settings_rule_save"), builder_post())
    urgent = Rule.objects.get(name="Amazon urgent")
    low = Rule.objects.get(name="All low")
    r = c.post(reverse("web:settings_rules_enabled"), {"rule_ids": [urgent.pk, low.pk], "enabled": "on"})
    assert r.status_code == 302 and set(Rule.objects.values_list("enabled", flat=True)) == {True}
    c.post(reverse("web:settings_rules_enabled"), {"rule_ids": [urgent.pk], "enabled": "off"})
    assert not Rule.objects.get(pk=urgent.pk).enabled
    r = c.post(reverse("web:settings_rule_experiment_start", args=[urgent.pk]), {"treatment_percent": "30"})
    experiment = RuleExperiment.objects.get(rule=urgent)
    page = c.get(reverse("web:settings_rule_experiment", args=[experiment.pk])).content.decode()
    assert 'data-arm="treatment"' in page and 'data-arm="control"' in page
    c.post(reverse("web:settings_rule_experiment_stop", args=[experiment.pk]))
    assert RuleExperiment.objects.get(pk=experiment.pk).ended_at is not None


def test_ticket_rule_log(world: Any) -> None:
    ticket = world.ticket()
    rule = Rule.objects.create(organization=world.org, name="Tagger", trigger="ticket_created")
    version = rule.versions.create(
        number=1, conditions={"all": []}, actions=[{"type": "add_tags", "params": {"tags": ["x"]}}]
    )
    RuleExecution.objects.create(
        organization=world.org,
        rule=rule,
        version=version,
        trigger="ticket_created",
        event_key="k1",
        ticket=ticket,
        actions=[{"type": "add_tags", "params": {"tags": ["x"]}, "status": "ok"}],
    )
    body = client_for(world.agent).get(reverse("web:ticket_rules", args=[ticket.pk])).content.decode()
    assert "Tagger" in body and 'data-execution="' in body
    assert client_for(world.outsider).get(reverse("web:ticket_rules", args=[ticket.pk])).status_code == 404


def test_batch_enable_refuses_approve_against_reject(world: Any) -> None:
    c = client_for(world.admin)
    for name, action, params in (
        ("Approve returns", "approve_return", "{}"),
        ("Reject returns", "reject_return", '{"reason": "late"}'),
    ):
        post = builder_post(name=name, trigger="rma_requested", **{"a:0:type": action, "a:0:params": params})
        del post["n:r.0:field"], post["n:r.0:op"], post["n:r.0:value"]
        assert c.post(reverse("web:settings_rule_save"), post).status_code == 302
    ids = list(Rule.objects.values_list("pk", flat=True))
    r = c.post(reverse("web:settings_rules_enabled"), {"rule_ids": ids, "enabled": "on"}, follow=True)
    assert "cannot be enabled" in r.content.decode()
    assert not Rule.objects.filter(enabled=True).exists()
    page = c.get(reverse("web:settings_rule", args=[ids[0]])).content.decode()
    assert 'data-conflict="rma.decision"' not in page  # the other rule is not enabled: nothing to show
    c.post(reverse("web:settings_rules_enabled"), {"rule_ids": [ids[1]], "enabled": "on"})
    page = c.get(reverse("web:settings_rule", args=[ids[0]])).content.decode()
    assert 'data-conflict="rma.decision"' in page and "Blocking" in page


def test_pages_in_chinese(world: Any) -> None:
    from django.utils import translation

    c = client_for(world.admin)
    try:
        assert c.post(reverse("web:settings_language"), {"language": "zh-hans"}).status_code == 302
        c.post(reverse("web:settings_rule_save"), builder_post())
        rule = Rule.objects.get(name="Amazon urgent")
        listing = c.get(reverse("web:settings_rules")).content.decode()
        assert "启用所选" in listing and "匹配次数（30 天）" in listing and "Enable selected" not in listing
        page = c.get(reverse("web:settings_rule", args=[rule.pk])).content.decode()
        for text in ("全部满足", "+ 条件", "原始 JSON", "模拟运行", "A/B 实验", "执行记录"):
            assert text in page, text
        r = c.post(reverse("web:settings_rule_save"), builder_post(**{"n:r.0:op": "gt"}))
        assert r.status_code == 422 and "Conditions" not in r.content.decode()
    finally:
        translation.activate("en")


def test_values_are_typed_by_field_and_operator() -> None:
    from aftersales.web.rule_builder import leaf_widget

    assert leaf_widget("ticket.platform", "eq", "amazon").kind == "select"
    assert "amazon" in leaf_widget("ticket.platform", "eq", "").choices
    assert leaf_widget("ticket.platform", "in", "amazon\nebay").selected == ("amazon", "ebay")
    assert leaf_widget("ticket.platform", "in", "").kind == "multi"
    assert leaf_widget("ticket.is_high_priority", "eq", "false").selected == ("false",)
    assert (
        leaf_widget("customer.return_count", "gte", "3").kind,
        leaf_widget("customer.return_count", "gte", "").step,
    ) == (
        "number",
        "1",
    )
    between = leaf_widget("order.total", "between", "10, 20.5")
    assert (between.kind, between.low, between.high, between.step) == ("range", "10", "20.5", "any")
    days = leaf_widget("ticket.created_at", "days_since", "lt 7")
    assert (days.kind, days.cmp, days.low) == ("days", "lt", "7")
    assert leaf_widget("message.body", "contains", "x").kind == "text"
    assert leaf_widget("message.body", "is_empty", "").kind == "bool"


def test_typed_widgets_and_action_fields_post_back_as_the_document(world: Any) -> None:
    from django.http import QueryDict

    from aftersales.web.rule_builder import document_from_form, form_from_post

    post = QueryDict(mutable=True)
    post.update({"name": "typed", "trigger": "ticket_created", "priority": "5", "mode": "builder"})
    post.update({"n:r:mode": "all", "n:r.0:field": "ticket.platform", "n:r.0:op": "in", "n:r.0:widget": "multi"})
    post.setlist("n:r.0:values", ["amazon", "ebay"])
    post.update({"n:r.1:field": "order.total", "n:r.1:op": "between", "n:r.1:widget": "range"})
    post.update({"n:r.1:low": "10", "n:r.1:high": "20.5"})
    post.update({"n:r.2:field": "ticket.created_at", "n:r.2:op": "days_since", "n:r.2:widget": "days"})
    post.update({"n:r.2:cmp": "gt", "n:r.2:value": "3"})
    post.update({"a:0:type": "notify_email", "a:0:form": "notify_email", "a:0:p:subject": "S", "a:0:p:body": "B"})
    post.setlist("a:0:p:user_ids", [str(world.teammate.pk)])
    post.update({"a:1:type": "add_tags", "a:1:form": "add_tags", "a:1:p:tags": "vip, fragile"})
    post.update({"a:2:type": "set_urgency", "a:2:form": "add_tags", "a:2:p:tags": "x"})  # type just changed
    post.update({"a:3:type": "stop_further", "a:3:params": "{}"})
    document = document_from_form(form_from_post(post))
    assert document["conditions"] == {
        "all": [
            {"field": "ticket.platform", "op": "in", "value": ["amazon", "ebay"]},
            {"field": "order.total", "op": "between", "value": [10, 20.5]},
            {"field": "ticket.created_at", "op": "days_since", "value": {"gt": 3}},
        ]
    }
    assert document["actions"] == [
        {"type": "notify_email", "params": {"user_ids": [world.teammate.pk], "subject": "S", "body": "B"}},
        {"type": "add_tags", "params": {"tags": ["vip", "fragile"]}},
        {"type": "set_urgency", "params": {}},
        {"type": "stop_further", "params": {}},
    ]


def test_the_editor_shows_action_fields_not_json(world: Any) -> None:
    c = client_for(world.admin)
    r = c.post(
        reverse("web:settings_rule_save"),
        builder_post(builder="refresh", **{"a:0:type": "notify_webhook"}),
        headers={"HX-Request": "true"},
    )
    body = r.content.decode()
    assert r.status_code == 200 and 'name="a:0:p:url"' in body and 'name="a:0:params"' not in body
    assert 'name="n:r.0:value"' in body and '<option value="amazon" selected>' in body
