"""The rules tooling API: POST /rules/simulate, POST /rules/conflicts, GET /rules/{id}/conflicts and
the experiments (start, list, results, stop), with 422s naming the field and 404s across organizations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from aftersales.api.tests.helpers import ApiClient, assert_error
from aftersales.inbox.models import Ticket
from aftersales.rules.experiments import experiment_arm
from aftersales.rules.models import Rule

pytestmark = pytest.mark.django_db

HIGH = {
    "name": "Amazon urgent",
    "trigger": "ticket_created",
    "conditions": {"all": [{"field": "ticket.platform", "op": "eq", "value": "amazon"}]},
    "actions": [{"type": "set_urgency", "params": {"urgency": "high"}}],
}
LOW = {
    **HIGH,
    "name": "All low",
    "conditions": {"all": []},
    "actions": [{"type": "set_urgency", "params": {"urgency": "low"}}],
}


def test_simulate_a_draft_and_a_saved_rule(world: Any) -> None:
    api = ApiClient(user=world.admin)
    ticket = world.ticket(subject="Broken screen")
    Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(days=3))
    r = api.request("POST", "/rules/simulate", {"document": HIGH, "days": 7})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["events_examined"], body["matched"], body["truncated"], body["version"]) == (1, 1, False, None)
    (match,) = body["matches"]
    assert match["ticket_id"] == ticket.pk and match["ticket_subject"] == "Broken screen"
    assert match["changes"] == [
        {
            "action": "set_urgency",
            "label": "Set the urgency",
            "field": "urgency",
            "current": "medium",
            "value": "high",
            "changes": True,
            "detail": {},
        }
    ]
    assert body["change_counts"] == [{"action": "set_urgency", "count": 1}]
    saved = api.request("POST", "/rules", HIGH).json()
    r = api.request("POST", "/rules/simulate", {"rule_id": saved["id"], "days": 7})
    assert r.json()["version"] == 1 and r.json()["matched"] == 1
    assert_error(api.request("POST", "/rules/simulate", {"document": HIGH, "days": 120}), 422, field="days")
    bad = {**HIGH, "conditions": {"all": [{"field": "ticket.platform", "op": "near", "value": "x"}]}}
    assert_error(api.request("POST", "/rules/simulate", {"document": bad}), 422, field="conditions.all[0].op")
    assert_error(ApiClient(user=world.foreign_user).request("POST", "/rules/simulate", {"rule_id": saved["id"]}), 404)
    assert ApiClient(user=world.agent).request("POST", "/rules/simulate", {"document": HIGH}).status_code == 403


def test_conflicts_of_a_draft_and_of_a_saved_rule(world: Any) -> None:
    api = ApiClient(user=world.admin)
    low = api.request("POST", "/rules", {**LOW, "enabled": True}).json()
    r = api.request("POST", "/rules/conflicts", {"document": HIGH})
    assert r.status_code == 200, r.content
    assert r.json() == [
        {
            "target": "ticket.urgency",
            "severity": "warning",
            "rule": {"rule_id": None, "rule_name": "Amazon urgent", "action": "set_urgency", "value": "high"},
            "other": {"rule_id": low["id"], "rule_name": "All low", "action": "set_urgency", "value": "low"},
        }
    ]
    ebay_only = {**HIGH, "conditions": {"all": [{"field": "ticket.platform", "op": "eq", "value": "ebay"}]}}
    low_amazon = {**LOW, "conditions": {"all": [{"field": "ticket.platform", "op": "eq", "value": "amazon"}]}}
    api.request("PUT", f"/rules/{low['id']}", {**low_amazon, "enabled": True})
    assert api.request("POST", "/rules/conflicts", {"document": ebay_only}).json() == []
    high = api.request("POST", "/rules", {**HIGH, "enabled": True}).json()
    assert [c["other"]["rule_id"] for c in api.request("GET", f"/rules/{high['id']}/conflicts").json()] == [low["id"]]
    assert_error(api.request("POST", "/rules/conflicts", {"document": {**HIGH, "trigger": "x"}}), 422, field="trigger")
    assert_error(ApiClient(user=world.foreign_user).request("GET", f"/rules/{high['id']}/conflicts"), 404)


def test_experiment_lifecycle(world: Any) -> None:
    api = ApiClient(user=world.admin)
    saved = api.request("POST", "/rules", HIGH).json()
    assert_error(
        api.request("POST", f"/rules/{saved['id']}/experiments", {"treatment_percent": 100}),
        422,
        field="treatment_percent",
    )
    r = api.request("POST", f"/rules/{saved['id']}/experiments", {"treatment_percent": 50})
    assert r.status_code == 201, r.content
    experiment = r.json()
    assert (experiment["rule_name"], experiment["version"], experiment["ended_at"]) == ("Amazon urgent", 1, None)
    assert_error(api.request("POST", f"/rules/{saved['id']}/experiments", {"treatment_percent": 10}), 409)
    rule = Rule.objects.get(pk=saved["id"])
    for _ in range(4):
        experiment_arm(rule=rule, ticket_id=world.ticket().pk)
    assert [e["id"] for e in api.request("GET", "/rules/experiments").json()] == [experiment["id"]]
    results = api.request("GET", f"/rules/experiments/{experiment['id']}").json()
    assert {t["metric"] for t in results["tests"]} == {"resolution_hours", "csat", "reopen_rate"}
    assert all(set(t) >= {"method", "p_value", "significant", "n_treatment", "n_control"} for t in results["tests"])
    assert results["experiment"]["id"] == experiment["id"] and results["is_current_version"] is True
    assert [a["arm"] for a in results["arms"]] == ["treatment", "control"]
    assert sum(a["tickets"] for a in results["arms"]) == 4
    assert results["arms"][0]["refund_totals"] == [] and results["csat_available"] is True
    assert_error(ApiClient(user=world.foreign_user).request("GET", f"/rules/experiments/{experiment['id']}"), 404)
    r = api.request("POST", f"/rules/experiments/{experiment['id']}/stop")
    assert r.status_code == 200 and r.json()["ended_at"] is not None
    assert_error(api.request("POST", f"/rules/experiments/{experiment['id']}/stop"), 409)
