"""/api/v1/rules: CRUD of rule documents with versions, enabling, logs per rule and per ticket, and
precise 422s naming the JSON path with nothing saved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from aftersales.api.tests.helpers import ApiClient, RawBody, assert_error
from aftersales.rules import engine
from aftersales.rules.models import Rule, RuleVersion
from aftersales.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db

DOC: dict[str, Any] = {
    "name": "VIP first",
    "trigger": "ticket_created",
    "priority": 5,
    "conditions": {"all": [{"field": "customer.tier", "op": "in", "value": ["vip"]}]},
    "actions": [
        {"type": "set_urgency", "params": {"urgency": "high"}},
        {"type": "add_tags", "params": {"tags": ["vip"]}},
    ],
    "scope": {"platforms": ["amazon"]},
    "approval_limit": {"amount": "25.00", "currency": "USD"},
}


def test_crud_versions_enable_and_logs(world: Any) -> None:
    api = ApiClient(user=world.admin)
    r = api.request("POST", "/rules", DOC)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["version"] == 1 and body["enabled"] is False and body["specificity"] == 2
    assert body["approval_limit"] == {"amount": "25.0000", "currency": "USD"}
    rule_id = body["id"]
    assert_error(api.request("POST", "/rules", DOC), 422, field="name")  # unique per organization
    r = api.request("PUT", f"/rules/{rule_id}", {**DOC, "conditions": {"all": []}})
    assert r.status_code == 200 and r.json()["version"] == 2
    assert [v["number"] for v in api.request("GET", f"/rules/{rule_id}/versions").json()] == [2, 1]
    assert api.request("POST", f"/rules/{rule_id}/enable").json()["enabled"] is True
    ticket = world.ticket(customer=CustomerFactory(organization=world.org, tier="vip"))
    engine.run_rules(
        organization_id=world.org.pk, trigger="ticket_created", event_key=f"t:{ticket.pk}", ticket_id=ticket.pk
    )
    logs = api.request("GET", f"/rules/{rule_id}/executions").json()
    assert len(logs) == 1 and logs[0]["version"] == 2 and logs[0]["outcome"] == "applied"
    assert [a["status"] for a in logs[0]["actions"]] == ["ok", "ok"]
    agent_view = ApiClient(user=world.agent).request("GET", f"/tickets/{ticket.pk}/rule-executions")
    assert agent_view.status_code == 200 and agent_view.json()[0]["rule_name"] == "VIP first"
    assert_error(ApiClient(user=world.outsider).request("GET", f"/tickets/{ticket.pk}/rule-executions"), 404)
    r = api.request("POST", "/rules/enabled", {"rule_ids": [rule_id], "enabled": False})
    assert r.status_code == 200 and r.json()[0]["enabled"] is False
    fields = api.request("GET", "/rules/fields").json()
    assert {
        "path": "customer.tier",
        "type": "enum",
        "label": "Customer tier",
        "choices": ["vip", "regular", "new", "at_risk"],
    } in fields
    assert api.request("DELETE", f"/rules/{rule_id}").status_code == 204
    assert not Rule.objects.exists() and not RuleVersion.objects.exists()


BAD: list[tuple[str, dict[str, Any], str]] = [
    (
        "unknown field",
        {"conditions": {"all": [{"field": "ticket.mood", "op": "eq", "value": "x"}]}},
        "conditions.all[0].field",
    ),
    (
        "unknown operator",
        {
            "conditions": {
                "any": [
                    {"field": "ticket.urgency", "op": "eq", "value": "high"},
                    {"field": "ticket.urgency", "op": "eq", "value": "low"},
                    {"field": "ticket.urgency", "op": "sounds_like", "value": "x"},
                ]
            }
        },
        "conditions.any[2].op",
    ),
    ("type mismatch", {"conditions": {"field": "order.total", "op": "gt", "value": "a lot"}}, "conditions.value"),
    (
        "catastrophic regex",
        {"conditions": {"all": [{"field": "message.body", "op": "regex", "value": "^(a|aa)*+$|(\\w+\\s?)*$"}]}},
        "conditions.all[0].value",
    ),
    ("unknown action", {"actions": [{"type": "format_disk", "params": {}}]}, "actions[0].type"),
    (
        "action parameter",
        {"actions": [{"type": "refund_partial", "params": {"percent": 150}}]},
        "actions[0].params.percent",
    ),
    ("scope", {"scope": {"regions": ["atlantis"]}}, "scope.regions[0]"),
]


@pytest.mark.parametrize(("name", "change", "path"), BAD, ids=[b[0] for b in BAD])
def test_bad_rules_are_refused_naming_the_path(world: Any, name: str, change: dict[str, Any], path: str) -> None:
    api = ApiClient(user=world.admin)
    assert_error(api.request("POST", "/rules", {**DOC, "enabled": True, **change}), 422, field=path)
    assert not Rule.objects.exists()
    # an edit refused the same way leaves the rule, its version and its state as they were
    rule_id = api.request("POST", "/rules", DOC).json()["id"]
    assert_error(api.request("PUT", f"/rules/{rule_id}", {**DOC, "enabled": True, **change}), 422, field=path)
    rule = Rule.objects.get()
    assert rule.enabled is False and RuleVersion.objects.filter(rule=rule).count() == 1


def test_invalid_json_is_refused(world: Any) -> None:
    api = ApiClient(user=world.admin)
    r = api.request("POST", "/rules", RawBody('{"name": "x", "conditions": {"all": [}', "application/json"))
    assert r.status_code in (400, 422), r.content
    assert_error(r, r.status_code)
    assert not Rule.objects.exists()


def test_refund_limit_is_validated(world: Any) -> None:
    api = ApiClient(user=world.admin)
    assert_error(
        api.request("POST", "/rules", {**DOC, "approval_limit": {"amount": "12", "currency": "euro"}}),
        422,
        field="approval_limit.currency",
    )
    r = api.request("POST", "/rules", {**DOC, "approval_limit": {"amount": "12.5", "currency": "EUR"}})
    assert r.status_code == 201
    assert RuleVersion.objects.get().approval_limit_amount == Decimal("12.5")
