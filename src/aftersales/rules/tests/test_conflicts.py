"""Conflict detection (rules/conflicts.py): table-driven cases, then properties: soundness of "no overlap"
against an evaluation of the condition sets on random snapshots, symmetry, and a rule never conflicting
with itself."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import product
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.rules.conditions import check_conditions
from aftersales.rules.conflicts import (
    RuleSpec,
    Severity,
    conditions_may_overlap,
    find_conflicts,
    rules_may_overlap,
    schedules_overlap,
    scopes_intersect,
)
from aftersales.rules.reference import evaluate


def leaf(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


def spec(
    rule_id: int | None,
    actions: list[dict[str, Any]],
    *,
    conditions: dict[str, Any] | None = None,
    trigger: str = "ticket_created",
    scope: dict[str, list[Any]] | None = None,
    windows: list[tuple[datetime | None, datetime | None]] | None = None,
    enabled: bool = True,
) -> RuleSpec:
    return RuleSpec(
        rule_id=rule_id,
        name=f"rule {rule_id}",
        trigger=trigger,
        conditions=conditions,
        actions=actions,
        scope=scope or {},
        windows=windows or [],
        enabled=enabled,
    )


def act(kind: str, **params: Any) -> dict[str, Any]:
    return {"type": kind, "params": params}


URGENT = act("set_urgency", urgency="high")
LOW = act("set_urgency", urgency="low")
APPROVE = act("approve_return")
REJECT = act("reject_return")
EVIDENCE = act("request_evidence", template_id=3)
REFUND = act("refund_returnless")
PLATFORM_AMAZON = {"all": [leaf("store.platform", "eq", "amazon")]}
PLATFORM_EBAY = {"all": [leaf("store.platform", "eq", "ebay")]}


def d(day: int) -> datetime:
    return datetime(2026, 11, day, tzinfo=UTC)


CASES = [
    # (a actions, b actions, extra kwargs for b, expected [(target, severity)])
    ("same urgency", [URGENT], [URGENT], {}, []),
    ("different urgency", [URGENT], [LOW], {}, [("ticket.urgency", Severity.WARNING)]),
    ("urgency vs category", [URGENT], [act("set_category", category="returns")], {}, []),
    (
        "different team",
        [act("assign_team", team_id=1)],
        [act("assign_team", team_id=2)],
        {},
        [("ticket.team", Severity.WARNING)],
    ),
    (
        "different assignee",
        [act("assign_agent", user_id=1)],
        [act("assign_agent", user_id=9)],
        {},
        [("ticket.assignee", Severity.WARNING)],
    ),
    ("approve vs reject", [APPROVE], [REJECT], {}, [("rma.decision", Severity.BLOCKING)]),
    ("refund vs reject", [REFUND], [REJECT], {}, [("rma.decision", Severity.BLOCKING)]),
    ("approve vs evidence", [APPROVE], [EVIDENCE], {}, [("rma.decision", Severity.WARNING)]),
    ("reject vs evidence", [REJECT], [EVIDENCE], {}, [("rma.decision", Severity.WARNING)]),
    ("approve and refund agree", [APPROVE], [REFUND], {}, []),
    ("tags and notes never contradict", [act("add_tags", tags=["a"])], [act("add_tags", tags=["b"])], {}, []),
    ("other trigger", [URGENT], [LOW], {"trigger": "message_received"}, []),
    ("disabled other rule", [URGENT], [LOW], {"enabled": False}, []),
    ("disjoint platforms in conditions", [URGENT], [LOW], {"conditions": PLATFORM_EBAY}, []),
    ("disjoint scopes", [URGENT], [LOW], {"scope": {"platforms": ["ebay"]}}, []),
    ("disjoint windows", [URGENT], [LOW], {"windows": [(d(12), d(13))]}, []),
    ("meeting windows", [URGENT], [LOW], {"windows": [(d(10), d(12))]}, [("ticket.urgency", Severity.WARNING)]),
    (
        "regex could match anything",
        [URGENT],
        [LOW],
        {"conditions": {"all": [leaf("message.body", "regex", "broken")]}},
        [("ticket.urgency", Severity.WARNING)],
    ),
]


@pytest.mark.parametrize(("name", "a_actions", "b_actions", "b_extra", "expected"), CASES, ids=[c[0] for c in CASES])
def test_conflict_table(
    name: str,
    a_actions: list[dict[str, Any]],
    b_actions: list[dict[str, Any]],
    b_extra: dict[str, Any],
    expected: list[tuple[str, Severity]],
) -> None:
    a = spec(None, a_actions, conditions=PLATFORM_AMAZON, scope={"platforms": ["amazon"]}, windows=[(d(10), d(12))])
    b = spec(2, b_actions, **b_extra)
    found = find_conflicts(a, [b])
    assert [(c.target, c.severity) for c in found] == expected
    for c in found:
        assert c.first.rule_name == "rule None" and c.second.rule_id == 2


def test_records_name_both_rules_values_and_blocking_first() -> None:
    a = spec(1, [URGENT, APPROVE])
    found = find_conflicts(a, [spec(2, [LOW]), spec(3, [REJECT]), spec(1, [LOW])])
    assert [(c.second.rule_id, c.target, c.blocking) for c in found] == [
        (3, "rma.decision", True),
        (2, "ticket.urgency", False),
    ]
    urgency = found[1]
    assert (urgency.first.value, urgency.second.value) == ("high", "low")
    assert (urgency.first.action, urgency.second.action) == ("set_urgency", "set_urgency")


OVERLAP_TABLE = [
    ({"all": [leaf("x", "eq", "a")]}, {"all": [leaf("x", "eq", "b")]}, False),
    ({"all": [leaf("x", "eq", "a")]}, {"all": [leaf("x", "in", ["b", "a"])]}, True),
    ({"all": [leaf("x", "in", ["a", "b"])]}, {"all": [leaf("x", "not_in", ["a", "b"])]}, False),
    ({"all": [leaf("x", "eq", "a")]}, {"all": [leaf("x", "ne", "a")]}, False),
    ({"all": [leaf("x", "eq", "a")]}, {"not": leaf("x", "eq", "a")}, False),
    ({"all": [leaf("x", "eq", "a")]}, {"not": {"any": [leaf("x", "eq", "a"), leaf("y", "eq", 1)]}}, False),
    ({"all": [leaf("x", "eq", "a")]}, {"any": [leaf("x", "eq", "b"), leaf("y", "eq", 1)]}, True),
    ({"all": [leaf("x", "eq", "a")]}, {"any": [leaf("x", "eq", "b"), leaf("x", "eq", "c")]}, False),
    ({"all": [leaf("n", "gt", 10)]}, {"all": [leaf("n", "lt", 5)]}, False),
    ({"all": [leaf("n", "gte", 10)]}, {"all": [leaf("n", "lte", 10)]}, True),
    ({"all": [leaf("n", "gt", 10)]}, {"all": [leaf("n", "lte", 10)]}, False),
    ({"all": [leaf("n", "between", [1, 5])]}, {"all": [leaf("n", "between", [6, 9])]}, False),
    ({"all": [leaf("n", "between", [1, 5])]}, {"all": [leaf("n", "eq", 3)]}, True),
    ({"all": [leaf("n", "between", [1, 5])]}, {"all": [leaf("n", "in", [0, 7])]}, False),
    # negated ranges are not reasoned about ("not gt 10" holds for a missing value, "lte 10" does not)
    ({"all": [leaf("n", "gt", 10)]}, {"not": leaf("n", "gt", 10)}, True),
    ({"all": [leaf("x", "eq", "a")]}, {"all": [leaf("y", "eq", "b")]}, True),
    ({"all": [leaf("x", "eq", 1)]}, {"all": [leaf("x", "eq", "1.0")]}, True),  # number fields take strings
    ({"all": [leaf("x", "eq", "a")]}, {"all": [leaf("x", "eq", 1)]}, False),
    ({"all": [leaf("x", "eq", 1)]}, {"all": [leaf("x", "eq", 1.0)]}, True),
    ({"all": []}, {"not": {"all": []}}, True),
    (None, {"all": [leaf("x", "eq", "a")]}, True),
]


@pytest.mark.parametrize(("a", "b", "overlap"), OVERLAP_TABLE)
def test_condition_overlap_table(a: Any, b: Any, overlap: bool) -> None:
    assert conditions_may_overlap(a, b) is overlap
    assert conditions_may_overlap(b, a) is overlap


def test_too_many_conjunctions_assumes_overlap() -> None:
    wide = {"all": [{"any": [leaf(f"f{i}", "eq", 1), leaf(f"f{i}", "eq", 2)]} for i in range(8)]}
    other = {"all": [leaf("f0", "eq", 3)]}
    assert conditions_may_overlap(wide, other) is True  # 256 conjunctions: not expanded, assumed


def test_scopes_and_schedules() -> None:
    assert scopes_intersect({"platforms": ["amazon"]}, {"platforms": ["amazon", "ebay"]})
    assert scopes_intersect({"platforms": ["amazon"]}, {"stores": [3]})
    assert scopes_intersect({"platforms": []}, {"platforms": ["ebay"]})
    assert not scopes_intersect({"platforms": ["amazon"], "stores": [1]}, {"platforms": ["amazon"], "stores": [2]})
    assert schedules_overlap([], [(d(1), d(2))])
    assert schedules_overlap([(None, d(5))], [(d(4), None)])
    assert not schedules_overlap([(d(1), d(2))], [(d(2), d(3))])  # [start, end): touching is not overlapping
    assert not schedules_overlap([(None, d(2))], [(d(3), None)])


def test_overlap_needs_every_dimension() -> None:
    a = spec(1, [URGENT], scope={"platforms": ["amazon"]})
    assert rules_may_overlap(a, spec(2, [LOW]))
    assert not rules_may_overlap(a, spec(2, [LOW], trigger="sla_breached"))


# --- properties: "no overlap" is never said of two condition sets some snapshot satisfies both -------


DOMAIN: dict[str, list[Any]] = {
    "ticket.platform": ["amazon", "ebay", "shopee"],
    "customer.return_count": [0, 1, 2, 5],
    "order.total": ["0", "10", "10.5", 20],
}
SNAPSHOT_VALUES: dict[str, list[Any]] = {
    "ticket.platform": [None, "amazon", "ebay", "shopee"],
    "customer.return_count": [None, 0, 1, 2, 3, 5],
    "order.total": [None, Decimal("0"), Decimal("10"), Decimal("10.5"), Decimal("15"), Decimal("20")],
}
ORDERED = ("customer.return_count", "order.total")


def _snapshot(platform: Any, returns: Any, total: Any) -> dict[str, Any]:
    return {"ticket": {"platform": platform}, "customer": {"return_count": returns}, "order": {"total": total}}


SNAPSHOTS = [_snapshot(*values) for values in product(*SNAPSHOT_VALUES.values())]


# The strategies of leaves() built once per field (building them per draw cost a fifth of these tests' time,
# for the same values drawn).
NAMES = st.sampled_from(sorted(DOMAIN))
OPS = {
    name: st.sampled_from(
        ["eq", "ne", "in", "not_in", "is_empty"] + (["gt", "gte", "lt", "lte", "between"] if name in ORDERED else [])
    )
    for name in DOMAIN
}
VALUES = {name: st.sampled_from(values) for name, values in DOMAIN.items()}
VALUE_LISTS = {name: st.lists(VALUES[name], min_size=1, max_size=3) for name in DOMAIN}
VALUE_PAIRS = {name: st.lists(VALUES[name], min_size=2, max_size=2) for name in DOMAIN}


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(NAMES)
    op = draw(OPS[name])
    if op in ("in", "not_in"):
        return leaf(name, op, draw(VALUE_LISTS[name]))
    if op == "between":
        low, high = sorted(draw(VALUE_PAIRS[name]), key=lambda v: Decimal(v))
        return leaf(name, op, [low, high])
    if op == "is_empty":
        return leaf(name, op, draw(st.booleans()))
    return leaf(name, op, draw(VALUES[name]))


trees = st.recursive(
    leaves(),
    lambda children: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(children, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(children, max_size=3)),
        st.builds(lambda x: {"not": x}, children),
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(trees, trees)
def test_no_overlap_is_sound(a: dict[str, Any], b: dict[str, Any]) -> None:
    check_conditions(a)
    check_conditions(b)
    if not conditions_may_overlap(a, b):
        assert not any(evaluate(a, s) and evaluate(b, s) for s in SNAPSHOTS), (a, b)


@settings(max_examples=200, deadline=None)
@given(trees, trees)
def test_overlap_is_symmetric(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert conditions_may_overlap(a, b) is conditions_may_overlap(b, a)


@settings(max_examples=200, deadline=None)
@given(trees)
def test_satisfiable_rule_overlaps_itself_and_never_conflicts_with_itself(a: dict[str, Any]) -> None:
    if any(evaluate(a, s) for s in SNAPSHOTS):
        assert conditions_may_overlap(a, a)
    rule = spec(5, [URGENT, REJECT], conditions=a)
    assert find_conflicts(rule, [rule]) == []


def test_escalation_and_priority() -> None:
    escalate = spec(1, [act("escalate", note="")])
    assert [(c.target, c.second.value) for c in find_conflicts(escalate, [spec(2, [LOW])])] == [
        ("ticket.urgency", "low")
    ]
    assert find_conflicts(escalate, [spec(2, [URGENT]), spec(3, [act("set_priority")])]) == []
    not_high = spec(4, [act("set_priority", high=False)])
    assert [c.target for c in find_conflicts(escalate, [not_high])] == ["ticket.is_high_priority"]


def test_routing_by_skill_against_a_fixed_team() -> None:
    routed = spec(1, [act("route_by_skill")])
    fixed = spec(2, [act("assign_team", team_id=4)])
    assert [(c.target, c.first.value, c.second.value) for c in find_conflicts(routed, [fixed])] == [
        ("ticket.team", "(by skill)", 4)
    ]
    assert find_conflicts(routed, [spec(3, [act("route_by_skill")])]) == []
