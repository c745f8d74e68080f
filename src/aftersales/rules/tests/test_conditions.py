"""Condition sets: the compiled form equals the reference interpreter (property test), and every
refusal names the JSON path of what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.core.errors import ValidationFailed
from aftersales.rules.conditions import OPS, check_conditions, compile_conditions
from aftersales.rules.fields import BOOL, DATETIME, ENUM, FIELDS, INT, LIST, NUMBER, STR, TYPES
from aftersales.rules.reference import evaluate, explain
from aftersales.sla.business_time import calendar_from_spec

CALENDAR = calendar_from_spec(
    timezone="Europe/Berlin",
    weekly={d: [["09:00", "12:00"], ["13:30", "18:30"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    | {"sat": [["10:00", "14:00"]]},
    holidays=["2026-12-25"],
)
CALENDARS = {7: CALENDAR}
WORDS = ["", "a", "Broken", "kaputt", "SCREEN", "vip", "défaut", "壊れた", "amazon.de", "x1"]
BASE = datetime(2026, 11, 11, 9, 30, tzinfo=UTC)

datetimes = st.integers(min_value=-400 * 24, max_value=400 * 24).map(lambda h: BASE + timedelta(hours=h, minutes=7))
numbers = st.one_of(
    st.integers(min_value=-5, max_value=500).map(Decimal),
    st.decimals(min_value=-10, max_value=1000, places=2, allow_nan=False, allow_infinity=False),
)
texts = st.one_of(st.sampled_from(WORDS), st.text(alphabet="abkpBK ée壊", max_size=8))


def _field_value(path: str) -> st.SearchStrategy[Any]:
    f = FIELDS[path]
    return {
        STR: texts,
        ENUM: st.sampled_from(f.choices or ("",)),
        INT: st.integers(min_value=-3, max_value=300),
        NUMBER: numbers,
        BOOL: st.booleans(),
        DATETIME: datetimes,
        LIST: st.lists(st.sampled_from(WORDS), max_size=3),
    }[f.type]


def _rule_value(path: str) -> st.SearchStrategy[Any]:
    """Values as written in a rule document (JSON: numbers, ISO strings)."""
    f = FIELDS[path]
    if f.type == NUMBER:
        return numbers.map(lambda d: str(d) if d % 2 else int(d) if d == d.to_integral() else float(d))
    if f.type == DATETIME:
        return datetimes.map(lambda d: d.isoformat())
    if f.type == LIST:
        return st.sampled_from(WORDS)
    return _field_value(path)


# Each field's strategies built once: building them per draw (seven strategies for every field of every
# snapshot) took most of the time of the tests below, for the same values drawn.
FIELD_VALUES = {path: _field_value(path) for path in FIELDS}
RULE_VALUES = {path: _rule_value(path) for path in FIELDS}
PATHS = sorted(FIELDS)
OPS_BY_TYPE = {kind: sorted(o for o, kinds in OPS.items() if kind in kinds) for kind in TYPES}


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    path = draw(st.sampled_from(PATHS))
    kind = FIELDS[path].type
    op = draw(st.sampled_from(OPS_BY_TYPE[kind]))
    value: Any
    if op in ("in", "not_in"):
        value = draw(st.lists(RULE_VALUES[path], min_size=1, max_size=4))
    elif op == "between":
        low, high = sorted([draw(RULE_VALUES[path]), draw(RULE_VALUES[path])], key=_sort_key(kind))
        value = [low, high]
    elif op in ("contains", "starts_with"):
        value = draw(st.sampled_from(WORDS[1:]))
    elif op == "regex":
        value = draw(st.sampled_from(["(?i)broken|kaputt", "^a", "[0-9]+", "é", "screen$", "^$"]))
    elif op == "is_empty":
        value = draw(st.booleans())
    elif op == "days_since":
        value = {draw(st.sampled_from(["gt", "gte", "lt", "lte", "eq"])): draw(st.integers(-10, 400))}
    elif op == "within_business_hours":
        value = {"calendar_id": 7}
    else:
        value = draw(RULE_VALUES[path])
    return {"field": path, "op": op, "value": value}


def _sort_key(kind: str) -> Any:
    if kind == NUMBER:
        return lambda v: Decimal(str(v))
    return lambda v: v


trees = st.recursive(
    leaves(),
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda xs: {"all": xs}),
        st.lists(children, max_size=4).map(lambda xs: {"any": xs}),
        children.map(lambda x: {"not": x}),
    ),
    max_leaves=12,
)


PRESENCE = st.integers(0, 9)
ABSENT_ORDER = st.integers(0, 20)


@st.composite
def snapshots(draw: st.DrawFn) -> dict[str, Any]:
    snap: dict[str, Any] = {}
    for path in PATHS:
        presence = draw(PRESENCE)
        if presence == 0:
            continue  # missing
        value = None if presence == 1 else draw(FIELD_VALUES[path])
        parts = path.split(".")
        node = snap
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if node is None:
                break
        else:
            node[parts[-1]] = value
    if draw(ABSENT_ORDER) == 0:
        snap["order"] = None  # a section absent altogether
    return snap


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, snapshot=snapshots())
def test_compiled_equals_reference(tree: dict[str, Any], snapshot: dict[str, Any]) -> None:
    compiled = compile_conditions(tree, calendars=CALENDARS)
    assert compiled(snapshot) == evaluate(tree, snapshot, CALENDARS)


def test_explain_names_the_leaves_it_evaluated() -> None:
    tree = {
        "all": [
            {"field": "message.triage.intent", "op": "eq", "value": "damaged_item"},
            {"any": [{"field": "message.body", "op": "contains", "value": "kaputt"}]},
        ]
    }
    snap = {"message": {"body": "Display KAPUTT", "triage": {"intent": "damaged_item"}}}
    result, trace = explain(tree, snap)
    assert result is True
    assert [t["path"] for t in trace] == ["conditions.all[0]", "conditions.all[1].any[0]"]
    assert trace[1]["seen"] == "Display KAPUTT"


def test_operators_on_missing_values() -> None:
    snap: dict[str, Any] = {"ticket": {}}
    for op, value, expected in [
        ("eq", "high", False),
        ("ne", "high", True),
        ("in", ["high"], False),
        ("not_in", ["high"], True),
        ("is_empty", True, True),
        ("is_empty", False, False),
    ]:
        tree = {"field": "ticket.urgency", "op": op, "value": value}
        assert compile_conditions(tree)(snap) is expected, op
        assert evaluate(tree, snap) is expected, op


def test_business_hours_and_days_since() -> None:
    monday_10 = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
    monday_1230 = datetime(2026, 11, 9, 11, 30, tzinfo=UTC)  # lunch break
    tree = {"field": "message.created_at", "op": "within_business_hours", "value": {"calendar_id": 7}}
    check = compile_conditions(tree, calendars=CALENDARS)
    assert check({"message": {"created_at": monday_10}}) is True
    assert check({"message": {"created_at": monday_1230}}) is False
    aged = {"field": "order.placed_at", "op": "days_since", "value": {"gt": 30}}
    snap = {"now": BASE, "order": {"placed_at": BASE - timedelta(days=31)}}
    assert compile_conditions(aged)(snap) is True
    assert compile_conditions(aged)({**snap, "order": {"placed_at": BASE - timedelta(days=29)}}) is False


BAD = [
    ("not json object", [], "conditions"),
    ("unknown field", {"all": [{"field": "ticket.colour", "op": "eq", "value": "red"}]}, "conditions.all[0].field"),
    (
        "unknown op",
        {"all": [{}, {}, {"field": "ticket.urgency", "op": "like", "value": "x"}]},
        "conditions.all[0].field",
    ),
    (
        "third op",
        {
            "all": [
                {"field": "ticket.urgency", "op": "eq", "value": "high"},
                {"field": "ticket.urgency", "op": "eq", "value": "low"},
                {"field": "ticket.urgency", "op": "like", "value": "x"},
            ]
        },
        "conditions.all[2].op",
    ),
    ("op for type", {"field": "ticket.urgency", "op": "gt", "value": "high"}, "conditions.op"),
    ("enum value", {"field": "ticket.urgency", "op": "eq", "value": "urgent"}, "conditions.value"),
    ("number value", {"field": "order.total", "op": "gte", "value": "lots"}, "conditions.value"),
    ("int value", {"field": "customer.return_count", "op": "gt", "value": 1.5}, "conditions.value"),
    ("naive datetime", {"field": "order.placed_at", "op": "gt", "value": "2026-11-11T00:00"}, "conditions.value"),
    ("in list", {"field": "ticket.urgency", "op": "in", "value": ["high", 3]}, "conditions.value[1]"),
    ("between order", {"field": "order.total", "op": "between", "value": [10, 5]}, "conditions.value"),
    ("nested quantifier", {"not": {"field": "message.body", "op": "regex", "value": "(a+)+$"}}, "conditions.not.value"),
    ("backreference", {"field": "message.body", "op": "regex", "value": r"(a)\1"}, "conditions.value"),
    ("broken regex", {"field": "message.body", "op": "regex", "value": "(abc"}, "conditions.value"),
    ("long regex", {"field": "message.body", "op": "regex", "value": "a" * 201}, "conditions.value"),
    ("days_since shape", {"field": "order.placed_at", "op": "days_since", "value": 3}, "conditions.value"),
    (
        "unknown calendar",
        {"field": "now", "op": "within_business_hours", "value": {"calendar_id": 99}},
        "conditions.value.calendar_id",
    ),
    ("group with two keys", {"all": [], "any": []}, "conditions"),
    ("extra key", {"field": "ticket.urgency", "op": "eq", "value": "high", "x": 1}, "conditions.x"),
    ("missing value", {"field": "ticket.urgency", "op": "eq"}, "conditions.value"),
]


@pytest.mark.parametrize(("name", "tree", "path"), BAD, ids=[b[0] for b in BAD])
def test_refusals_name_the_path(name: str, tree: Any, path: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        check_conditions(tree, calendars=CALENDARS)
    assert info.value.field == path


def test_depth_and_size_are_bounded() -> None:
    deep: dict[str, Any] = {"field": "ticket.urgency", "op": "eq", "value": "high"}
    for _ in range(10):
        deep = {"not": deep}
    with pytest.raises(ValidationFailed):
        check_conditions(deep)
    wide = {"any": [{"field": "ticket.urgency", "op": "eq", "value": "high"}] * 250}
    with pytest.raises(ValidationFailed):
        check_conditions(wide)
