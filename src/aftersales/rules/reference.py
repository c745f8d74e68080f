"""The reference interpreter of condition sets: walks the JSON document itself on every call, one
plain branch per operator, no precomputation. It is the executable definition the compiled form
(rules.conditions.compile_conditions) is tested against (property test), and it explains a match:
`explain` returns the leaves that were evaluated with the values seen, for the execution log."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.dateparse import parse_datetime

from aftersales.sla.business_time import Calendar, is_open

from .conditions import check_regex, regex_search
from .fields import FIELDS, NUMBER


def _read(snapshot: Mapping[str, Any], path: str) -> Any:
    value: Any = snapshot
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _typed(field_path: str, raw: Any) -> Any:
    kind = FIELDS[field_path].type
    if kind == NUMBER:
        return Decimal(str(raw))
    if kind == "datetime":
        return parse_datetime(raw)
    return raw


def _cmp(name: str, x: Any, v: Any) -> bool:
    if name == "gt":
        return bool(x > v)
    if name == "gte":
        return bool(x >= v)
    if name == "lt":
        return bool(x < v)
    if name == "lte":
        return bool(x <= v)
    return bool(x == v)


def leaf_holds(node: Mapping[str, Any], snapshot: Mapping[str, Any], calendars: Mapping[int, Calendar]) -> bool:
    path, op = node["field"], node["op"]
    x = _read(snapshot, path)
    raw = node.get("value", True)
    if op == "is_empty":
        empty = x is None or x == "" or x == [] or x == ()
        return empty if raw else not empty
    if op == "ne":
        return x is None or x != _typed(path, raw)
    if op == "not_in":
        return x is None or all(x != _typed(path, item) for item in raw)
    if x is None:
        return False
    if op == "eq":
        return bool(x == _typed(path, raw))
    if op == "in":
        return any(x == _typed(path, item) for item in raw)
    if op in ("gt", "gte", "lt", "lte"):
        return _cmp(op, x, _typed(path, raw))
    if op == "between":
        return bool(_typed(path, raw[0]) <= x <= _typed(path, raw[1]))
    if op == "contains":
        if isinstance(x, list | tuple):
            return raw in x
        return str(raw).casefold() in str(x).casefold()
    if op == "starts_with":
        return str(x).casefold().startswith(str(raw).casefold())
    if op == "regex":
        return regex_search(check_regex(raw, path="value"), str(x))
    if op == "days_since":
        now = snapshot.get("now")
        if now is None:
            return False
        (name, days), *_ = raw.items()
        return _cmp(name, (now - x).total_seconds() / 86400.0, float(Decimal(str(days))))
    if op == "within_business_hours":
        return isinstance(x, datetime) and is_open(calendars[raw["calendar_id"]], x)
    raise ValueError(f"unknown operator {op!r}")


def evaluate(
    node: Mapping[str, Any], snapshot: Mapping[str, Any], calendars: Mapping[int, Calendar] | None = None
) -> bool:
    """Whether a (checked) condition tree holds for the snapshot."""
    return explain(node, snapshot, calendars)[0]


def explain(
    node: Mapping[str, Any], snapshot: Mapping[str, Any], calendars: Mapping[int, Calendar] | None = None
) -> tuple[bool, list[dict[str, Any]]]:
    """(result, trace): the trace lists each leaf evaluated (short-circuiting like `all`/`any`)
    with its JSON path, the value seen and its result."""
    trace: list[dict[str, Any]] = []
    cals = calendars or {}

    def visit(node: Mapping[str, Any], path: str) -> bool:
        if "all" in node:
            return all(visit(child, f"{path}.all[{i}]") for i, child in enumerate(node["all"]))
        if "any" in node:
            return any(visit(child, f"{path}.any[{i}]") for i, child in enumerate(node["any"]))
        if "not" in node:
            return not visit(node["not"], f"{path}.not")
        result = leaf_holds(node, snapshot, cals)
        seen = _read(snapshot, node["field"])
        trace.append(
            {
                "path": path,
                "field": node["field"],
                "op": node["op"],
                "value": node.get("value"),
                "seen": seen if isinstance(seen, str | int | float | bool | list) or seen is None else str(seen),
                "result": result,
            }
        )
        return result

    return visit(node, "conditions"), trace
