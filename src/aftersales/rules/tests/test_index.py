"""The per-event index of a compiled rule set skips only rules that cannot hold: matching through
the index equals matching every rule, on random rule sets and snapshots."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aftersales.rules.engine import RuleSet, compile_rule, matching_rules
from aftersales.rules.models import Rule, RuleVersion

from .test_conditions import CALENDARS, leaves, snapshots, trees

rule_trees = st.one_of(trees, st.lists(leaves(), min_size=1, max_size=4).map(lambda xs: {"all": xs}))


def compiled(conditions: list[Any]) -> list[Any]:
    out = []
    for i, tree in enumerate(conditions):
        rule = Rule(pk=i + 1, name=f"r{i}", trigger="ticket_created", priority=i % 3)
        version = RuleVersion(pk=i + 1, rule=rule, number=1, conditions=tree, actions=[], scope={}, schedule={})
        out.append(compile_rule(rule, version, calendars=CALENDARS))
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions=st.lists(rule_trees, min_size=1, max_size=12), snapshot=snapshots())
@example(
    conditions=[{"field": "customer.tier", "op": "in", "value": ["vip", "vip"]}], snapshot={"customer": {"tier": "vip"}}
)
def test_index_skips_only_rules_that_cannot_hold(conditions: list[Any], snapshot: dict[str, Any]) -> None:
    rules = compiled(conditions)
    indexed = RuleSet(rules)
    every = sorted(rules, key=lambda r: r.order_key)
    assert [r.rule_id for r in matching_rules(indexed, snapshot)] == [
        r.rule_id for r in matching_rules(every, snapshot)
    ]


def test_index_files_rules_under_their_required_values() -> None:
    rules = compiled(
        [
            {"all": [{"field": "customer.tier", "op": "eq", "value": "vip"}]},
            {"field": "message.triage.intent", "op": "in", "value": ["damaged_item", "wrong_item"]},
            {"any": [{"field": "customer.tier", "op": "eq", "value": "vip"}]},
        ]
    )
    indexed = RuleSet(rules)
    assert len(indexed.always) == 1
    vip = {"customer": {"tier": "vip"}}
    assert [r.rule_id for r in indexed.candidates(vip)] == [1, 3]
    assert [r.rule_id for r in indexed.candidates({"message": {"triage": {"intent": "wrong_item"}}})] == [2, 3]
