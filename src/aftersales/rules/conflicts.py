"""Conflicts between rules, found when a rule is saved (issue 11 §1: "overlapping active rules setting
contradictory values, approve vs reject"). Pure: no database, no Django models; callers turn their rows
into `RuleSpec`s (`rules.conflict_check` does it for saved rules and drafts).

Two rules conflict when they can act on the same event and set the same thing to different values:

1. **Overlap** (a sound approximation: "no overlap" is only said when it is proved):
   - the same trigger;
   - scopes that intersect: per dimension (regions, platforms, store_ids, product_categories, skus), two
     non-empty value sets that share nothing prove the rules never meet; an empty or missing dimension means
     "all" (dimensions are not related to each other: a store on another platform is not reasoned about);
   - schedules that overlap: two lists of active windows [start, end) with no pair intersecting prove it;
     no windows means "always";
   - condition sets that can both be true: each condition tree is expanded into at most `DNF_LIMIT`
     conjunctions of leaf constraints (`not` pushed onto eq/ne/in/not_in/gt/gte/lt/lte; anything else is
     "unknown", i.e. could be true). Two conjunctions are disjoint when one field is constrained in both and
     the constraints cannot hold together (disjoint eq/in sets, a value excluded by ne/not_in on the other
     side, numeric ranges that do not meet). Every pair disjoint -> no overlap; otherwise assume overlap.
2. **Contradiction**: both rules set the same ticket field (category, urgency, high priority, team, assignee;
   escalating sets urgency high and high priority; routing by skill sets team and assignee "by skill") to
   different values, or decide a return differently
   (see `DECISION_CONFLICTS`).

Severity: approving or refunding a return against rejecting it is `blocking` (the rule may be saved but not
enabled while the other one is enabled); every other contradiction is a `warning` shown on save.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

DNF_LIMIT = 64


class Severity(enum.StrEnum):
    WARNING = "warning"
    BLOCKING = "blocking"


@dataclass(frozen=True)
class Effect:
    """What one action sets: `target` (e.g. "ticket.urgency", "rma.decision") to `value`."""

    target: str
    value: Any
    action: str


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the conflict check sees it. `rule_id` is None for a draft not saved yet."""

    rule_id: int | None
    name: str
    trigger: str
    conditions: Mapping[str, Any] | None
    actions: Sequence[Mapping[str, Any]]
    scope: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    windows: Sequence[tuple[datetime | None, datetime | None]] = ()
    enabled: bool = True


@dataclass(frozen=True)
class ConflictingValue:
    rule_id: int | None
    rule_name: str
    action: str
    value: Any


@dataclass(frozen=True)
class RuleConflict:
    """`first` is the rule being saved, `second` the rule it contradicts, on `target`."""

    target: str
    first: ConflictingValue
    second: ConflictingValue
    severity: Severity

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.BLOCKING


# --- what actions set -------------------------------------------------------------------------------

# action type -> (target, the params key holding the value, its default). Tags and notes add, they never
# contradict; escalating sets the urgency and the priority (ESCALATION).
TICKET_SETTERS: dict[str, tuple[str, str, Any]] = {
    "set_category": ("ticket.category", "category", None),
    "set_urgency": ("ticket.urgency", "urgency", None),
    "set_priority": ("ticket.is_high_priority", "high", True),
    "assign_team": ("ticket.team", "team_id", None),
    "assign_agent": ("ticket.assignee", "user_id", None),
}
ESCALATION = (("ticket.urgency", "high"), ("ticket.is_high_priority", True))
# Routing by skill picks the team and the agent when it runs: against a fixed team or agent it is "another value".
BY_SKILL = "(by skill)"
ROUTING = (("ticket.team", BY_SKILL), ("ticket.assignee", BY_SKILL))
# action type -> the decision it takes on a return
RETURN_DECISIONS: dict[str, str] = {
    "approve_return": "approve",
    "reject_return": "reject",
    "request_evidence": "request_evidence",
    "refund_returnless": "refund",
    "refund_partial": "refund",
}
# Pairs of return decisions that contradict each other, with their severity. Approving and refunding go
# together (an approved return is refunded), everything else in this table does not.
DECISION_CONFLICTS: dict[frozenset[str], Severity] = {
    frozenset({"approve", "reject"}): Severity.BLOCKING,
    frozenset({"refund", "reject"}): Severity.BLOCKING,
    frozenset({"approve", "request_evidence"}): Severity.WARNING,
    frozenset({"reject", "request_evidence"}): Severity.WARNING,
    frozenset({"refund", "request_evidence"}): Severity.WARNING,
}


def _action_type(action: Mapping[str, Any]) -> str:
    return str(action.get("type") or action.get("action") or "")


def _params(action: Mapping[str, Any]) -> Mapping[str, Any]:
    params = action.get("params")
    return params if isinstance(params, Mapping) else action


def effects(actions: Sequence[Mapping[str, Any]]) -> list[Effect]:
    """The values a list of actions sets (actions that only add or notify set nothing)."""
    found: list[Effect] = []
    for action in actions:
        kind = _action_type(action)
        if kind in TICKET_SETTERS:
            target, key, default = TICKET_SETTERS[kind]
            found.append(Effect(target, _params(action).get(key, default), kind))
        elif kind == "escalate":
            found.extend(Effect(target, value, kind) for target, value in ESCALATION)
        elif kind == "route_by_skill":
            found.extend(Effect(target, value, kind) for target, value in ROUTING)
        elif kind in RETURN_DECISIONS:
            found.append(Effect("rma.decision", RETURN_DECISIONS[kind], kind))
    return found


def _contradiction(a: Effect, b: Effect) -> Severity | None:
    if a.target != b.target:
        return None
    if a.target == "rma.decision":
        return DECISION_CONFLICTS.get(frozenset({a.value, b.value}))
    return Severity.WARNING if a.value != b.value else None


# --- overlap -----------------------------------------------------------------------------------------


def scopes_intersect(a: Mapping[str, Sequence[Any]], b: Mapping[str, Sequence[Any]]) -> bool:
    for dim in set(a) | set(b):
        left, right = a.get(dim) or (), b.get(dim) or ()
        if not isinstance(left, list | tuple) or not isinstance(right, list | tuple):
            continue
        try:
            if left and right and not ({_key(v) for v in left} & {_key(v) for v in right}):
                return False
        except _Unknown:
            continue
    return True


def _window_meets(a: tuple[datetime | None, datetime | None], b: tuple[datetime | None, datetime | None]) -> bool:
    (a0, a1), (b0, b1) = a, b
    starts_before_b_ends = a0 is None or b1 is None or a0 < b1
    b_starts_before_a_ends = b0 is None or a1 is None or b0 < a1
    return starts_before_b_ends and b_starts_before_a_ends


def schedules_overlap(
    a: Sequence[tuple[datetime | None, datetime | None]], b: Sequence[tuple[datetime | None, datetime | None]]
) -> bool:
    if not a or not b:
        return True
    return any(_window_meets(x, y) for x in a for y in b)


class _Unknown(Exception):
    """A condition the approximation cannot reason about (or too many conjunctions): may be true."""


@dataclass
class _FieldConstraint:
    """What one conjunction says about one field."""

    allowed: set[Any] | None = None  # eq / in: the value is one of these
    excluded: set[Any] = field(default_factory=set)  # ne / not_in
    low: float = -math.inf
    low_open: bool = False
    high: float = math.inf
    high_open: bool = False

    def restrict_allowed(self, values: Iterable[Any]) -> None:
        keyed = {_key(v) for v in values}
        self.allowed = keyed if self.allowed is None else self.allowed & keyed

    def restrict_low(self, value: float, *, strict: bool) -> None:
        if value > self.low or (value == self.low and strict):
            self.low, self.low_open = value, strict

    def restrict_high(self, value: float, *, strict: bool) -> None:
        if value < self.high or (value == self.high and strict):
            self.high, self.high_open = value, strict

    def has_range(self) -> bool:
        return self.low != -math.inf or self.high != math.inf


def _as_number(value: Any) -> float | None:
    """Numbers, bools (True == 1) and numeric strings ("10.50": number fields take Decimal strings)."""
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except (InvalidOperation, ValueError):
            return None
        return float(number) if number.is_finite() else None
    return None


def _key(value: Any) -> Any:
    """A hashable, tagged form of a JSON value. Whatever might compare equal in an interpreter gets the
    same key (1, 1.0, True and "1.0" are one number), so equal keys may only be too many, never too few."""
    number = _as_number(value)
    if number is not None:
        return ("num", number)
    if isinstance(value, str):
        return ("str", value)
    if value is None:
        return ("null", None)
    raise _Unknown


def _number(value: Any) -> float:
    number = _as_number(value)
    if number is None:
        raise _Unknown
    return number


Leaf = tuple[str, str, Any]  # (field, op, value) with `not` already pushed in
POSITIVE_OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte")
# Only equality tests are negated exactly ("ne" is "not eq" whatever the value); "not gt" is not "lte" for
# a missing or non-numeric value, so a negated range test is unknown.
NEGATED = {"eq": "ne", "ne": "eq", "in": "not_in", "not_in": "in"}


def _leaf(node: Mapping[str, Any], negate: bool) -> list[list[Leaf]]:
    op, name, value = node.get("op"), node.get("field"), node.get("value")
    if not isinstance(name, str) or not isinstance(op, str):
        return [[]]
    if negate:
        return [[(name, NEGATED[op], value)]] if op in NEGATED else [[]]
    if op == "between" and isinstance(value, list | tuple) and len(value) == 2:
        return [[(name, "gte", value[0]), (name, "lte", value[1])]]
    if op not in POSITIVE_OPS:
        return [[]]  # contains, regex, days_since...: unknown, may be true
    return [[(name, op, value)]]


def _dnf(node: Any, negate: bool = False) -> list[list[Leaf]]:
    """The condition tree as a disjunction of conjunctions of leaves (an empty conjunction is "true")."""
    if not isinstance(node, Mapping) or not node:
        return [[]]
    if "not" in node:
        return _dnf(node["not"], not negate)
    for key in ("all", "any"):
        if key in node:
            children = node[key] if isinstance(node[key], list) else []
            if not children:
                return [[]]  # an empty group: whatever it means, "may be true" is safe
            conjunctive = (key == "all") != negate
            parts = [_dnf(child, negate) for child in children]
            if conjunctive:
                result: list[list[Leaf]] = [[]]
                for part in parts:
                    result = [left + right for left in result for right in part]
                    if len(result) > DNF_LIMIT:
                        raise _Unknown
                return result
            merged = [conj for part in parts for conj in part]
            if len(merged) > DNF_LIMIT:
                raise _Unknown
            return merged
    return _leaf(node, negate)


def _constraints(conjunction: Sequence[Leaf]) -> dict[str, _FieldConstraint]:
    by_field: dict[str, _FieldConstraint] = {}
    for name, op, value in conjunction:
        try:
            c = by_field.setdefault(name, _FieldConstraint())
            if op == "eq":
                c.restrict_allowed([value])
            elif op == "in" and isinstance(value, list | tuple):
                c.restrict_allowed(value)
            elif op == "ne":
                c.excluded.add(_key(value))
            elif op == "not_in" and isinstance(value, list | tuple):
                c.excluded |= {_key(v) for v in value}
            elif op in ("gt", "gte"):
                c.restrict_low(_number(value), strict=op == "gt")
            elif op in ("lt", "lte"):
                c.restrict_high(_number(value), strict=op == "lt")
        except _Unknown:
            continue  # this leaf tells us nothing we can use: it may be true
    return by_field


def _in_range(c: _FieldConstraint, key: Any) -> bool:
    if not c.has_range():
        return True
    if key[0] != "num":
        return True  # not reasoned about: may be true
    x = key[1]
    above = x > c.low or (x == c.low and not c.low_open)
    below = x < c.high or (x == c.high and not c.high_open)
    return above and below


def _fields_compatible(a: _FieldConstraint, b: _FieldConstraint) -> bool:
    excluded = a.excluded | b.excluded
    merged = _FieldConstraint()
    for side in (a, b):
        merged.restrict_low(side.low, strict=side.low_open)
        merged.restrict_high(side.high, strict=side.high_open)
    sets = [s.allowed for s in (a, b) if s.allowed is not None]
    if sets:
        allowed = set.intersection(*sets)
        return any(v not in excluded and _in_range(merged, v) for v in allowed)
    empty_range = merged.low > merged.high or (merged.low == merged.high and (merged.low_open or merged.high_open))
    return not empty_range


def _conjunctions_compatible(a: Sequence[Leaf], b: Sequence[Leaf]) -> bool:
    left, right = _constraints(a), _constraints(b)
    return all(_fields_compatible(left[name], right[name]) for name in set(left) & set(right))


def conditions_may_overlap(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """False only when no snapshot can satisfy both condition sets (proved); True otherwise."""
    try:
        left, right = _dnf(a), _dnf(b)
    except _Unknown:
        return True
    return any(_conjunctions_compatible(x, y) for x, y in itertools.product(left, right))


def rules_may_overlap(a: RuleSpec, b: RuleSpec) -> bool:
    return (
        a.trigger == b.trigger
        and scopes_intersect(a.scope, b.scope)
        and schedules_overlap(a.windows, b.windows)
        and conditions_may_overlap(a.conditions, b.conditions)
    )


# --- the check ---------------------------------------------------------------------------------------


def _pairs(a: RuleSpec, b: RuleSpec) -> Iterator[RuleConflict]:
    for x, y in itertools.product(effects(a.actions), effects(b.actions)):
        severity = _contradiction(x, y)
        if severity is not None:
            yield RuleConflict(
                target=x.target,
                first=ConflictingValue(a.rule_id, a.name, x.action, x.value),
                second=ConflictingValue(b.rule_id, b.name, y.action, y.value),
                severity=severity,
            )


def find_conflicts(rule: RuleSpec, others: Iterable[RuleSpec]) -> list[RuleConflict]:
    """The contradictions between `rule` and every enabled rule of `others` it may overlap with
    (itself excluded), one record per (other rule, target, pair of values), blocking ones first."""
    found: dict[tuple[Any, ...], RuleConflict] = {}
    mine = effects(rule.actions)
    for other in others:
        if not mine or not other.enabled or (rule.rule_id is not None and other.rule_id == rule.rule_id):
            continue
        if not rules_may_overlap(rule, other):
            continue
        for conflict in _pairs(rule, other):
            key = (other.rule_id, other.name, conflict.target, repr(conflict.first.value), repr(conflict.second.value))
            found.setdefault(key, conflict)
    return sorted(found.values(), key=lambda c: (not c.blocking, c.second.rule_id or 0, c.target))
