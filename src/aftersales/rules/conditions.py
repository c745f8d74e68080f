"""JSON condition sets (docs/rules.md): checked when a rule is saved, compiled once into closures,
evaluated per event against a snapshot (rules.snapshots). rules.reference holds a plain interpreter
of the same language; a property test checks both agree on random trees and snapshots.

A node is `{"all": [node, ...]}`, `{"any": [node, ...]}`, `{"not": node}` or a leaf
`{"field": "<dotted path>", "op": "<operator>", "value": <value>}`. Fields and their types are in
rules.fields. Every refusal is a ValidationFailed naming the JSON path ("conditions.all[2].op")."""

from __future__ import annotations

import re._parser as sre_parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.sla.business_time import Calendar, is_open

from .fields import BOOL, DATETIME, ENUM, FIELDS, INT, LIST, NUMBER, STR, Field

if TYPE_CHECKING:
    import regex  # imported where a pattern is compiled: ~10 MiB a web process without regex rules never needs

Snapshot = Mapping[str, Any]
Predicate = Callable[[Snapshot], bool]

MAX_DEPTH = 8
MAX_NODES = 200
MAX_LIST = 500
MAX_TEXT_VALUE = 500
MAX_REGEX = 200
REGEX_TIMEOUT = 0.02  # seconds per match: a pattern that still backtracks too long counts as no match
REGEX_SUBJECT_MAX = 20_000  # characters of the field searched (a message body is bounded too)

COMPARISON_OPS = ("gt", "gte", "lt", "lte")
OPS: dict[str, frozenset[str]] = {
    "eq": frozenset({STR, ENUM, INT, NUMBER, BOOL}),
    "ne": frozenset({STR, ENUM, INT, NUMBER, BOOL}),
    "in": frozenset({STR, ENUM, INT, NUMBER}),
    "not_in": frozenset({STR, ENUM, INT, NUMBER}),
    "gt": frozenset({INT, NUMBER, DATETIME}),
    "gte": frozenset({INT, NUMBER, DATETIME}),
    "lt": frozenset({INT, NUMBER, DATETIME}),
    "lte": frozenset({INT, NUMBER, DATETIME}),
    "between": frozenset({INT, NUMBER, DATETIME}),
    "contains": frozenset({STR, LIST}),
    "regex": frozenset({STR}),
    "starts_with": frozenset({STR}),
    "is_empty": frozenset({STR, ENUM, INT, NUMBER, BOOL, DATETIME, LIST}),
    "days_since": frozenset({DATETIME}),
    "within_business_hours": frozenset({DATETIME}),
}
BOOLEAN_KEYS = ("all", "any", "not")


def path_error(path: str, problem: str) -> ValidationFailed:
    """The refusal of a rule document's part at its JSON `path` ("conditions.all[2].op")."""
    return ValidationFailed(_("%(field)s: %(problem)s") % {"field": path, "problem": problem}, field=path)


# --------------------------------------------------------------------------- regex safety


def _has_nested_repeat(items: Any, inside_repeat: bool) -> bool:
    """Whether an unbounded repeat sits inside another repeat ((a+)+, (a*)*, (a|b+){2,}): the shape
    that backtracks exponentially."""
    for op, arg in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            _low, high, sub = arg
            unbounded = high == sre_parse.MAXREPEAT or high > 100
            if inside_repeat and unbounded:
                return True
            if _has_nested_repeat(sub, inside_repeat or unbounded or high > 1):
                return True
        elif name == "SUBPATTERN":
            if _has_nested_repeat(arg[-1], inside_repeat):
                return True
        elif name == "BRANCH":
            if any(_has_nested_repeat(branch, inside_repeat) for branch in arg[1]):
                return True
        elif name in ("ASSERT", "ASSERT_NOT"):
            if _has_nested_repeat(arg[1], inside_repeat):
                return True
        elif name in ("GROUPREF", "GROUPREF_EXISTS"):
            return True  # backreferences: refused outright
    return False


def check_regex(pattern: Any, *, path: str) -> regex.Pattern[str]:
    """A pattern safe to run on buyers' text: text, at most MAX_REGEX characters, valid, without
    nested unbounded repeats or backreferences. Compiled with the `regex` module so every match can
    be given a timeout as well."""
    if not isinstance(pattern, str) or not pattern:
        raise path_error(path, _("a regular expression (text) is required"))
    if len(pattern) > MAX_REGEX:
        raise path_error(path, _("the regular expression is longer than %(n)s characters") % {"n": MAX_REGEX})
    try:
        parsed = sre_parse.parse(pattern)
    except Exception as exc:  # re.error and friends: say what is wrong
        raise path_error(path, _("not a valid regular expression (%(error)s)") % {"error": exc}) from None
    if _has_nested_repeat(list(parsed), False):
        raise path_error(
            path,
            _("a repetition inside a repetition or a back-reference could backtrack catastrophically; simplify it"),
        )
    import regex

    try:
        return regex.compile(pattern, regex.V0)
    except regex.error as exc:
        raise path_error(path, _("not a valid regular expression (%(error)s)") % {"error": exc}) from None


def regex_search(compiled: regex.Pattern[str], text: str) -> bool:
    try:
        return compiled.search(text[:REGEX_SUBJECT_MAX], timeout=REGEX_TIMEOUT) is not None
    except TimeoutError:
        return False


# --------------------------------------------------------------------------- values


def _scalar(value: Any, field: Field, *, path: str) -> Any:
    """A rule's value for `field`, in the type the snapshot holds (Decimal for numbers, aware
    datetime for times), or a refusal naming `path`."""
    kind = field.type
    if kind == BOOL:
        if not isinstance(value, bool):
            raise path_error(path, _("must be true or false"))
        return value
    if kind == INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise path_error(path, _("must be a whole number"))
        return value
    if kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise path_error(path, _("must be a number"))
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise path_error(path, _("must be a number")) from None
        if not number.is_finite():
            raise path_error(path, _("must be a number"))
        return number
    if kind == DATETIME:
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None or parsed.tzinfo is None:
            raise path_error(path, _("must be a date and time with its offset, e.g. 2026-11-11T00:00:00+08:00"))
        return parsed
    if not isinstance(value, str):
        raise path_error(path, _("must be text"))
    if len(value) > MAX_TEXT_VALUE:
        raise path_error(path, _("at most %(n)s characters") % {"n": MAX_TEXT_VALUE})
    if kind == ENUM and value not in field.choices:
        raise path_error(
            path, _("must be one of %(choices)s") % {"choices": ", ".join(c or '""' for c in field.choices)}
        )
    return value


def _list(value: Any, field: Field, *, path: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise path_error(path, _("must be a non-empty list"))
    if len(value) > MAX_LIST:
        raise path_error(path, _("at most %(n)s values") % {"n": MAX_LIST})
    return [_scalar(item, field, path=f"{path}[{i}]") for i, item in enumerate(value)]


@dataclass(frozen=True)
class Leaf:
    """A checked leaf: its field, operator and value in the snapshot's types."""

    field: Field
    op: str
    value: Any  # normalised: Decimal, datetime, list, compiled regex, (op, Decimal), Calendar, bool


def check_leaf(node: Mapping[str, Any], *, path: str, calendars: Mapping[int, Calendar]) -> Leaf:
    extra = set(node) - {"field", "op", "value"}
    if extra:
        raise path_error(f"{path}.{sorted(extra)[0]}", _("unknown key"))
    name = node.get("field")
    if not isinstance(name, str) or name not in FIELDS:
        raise path_error(
            f"{path}.field", _("unknown field %(name)s") % {"name": name if isinstance(name, str) else "?"}
        )
    field = FIELDS[name]
    op = node.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise path_error(f"{path}.op", _("unknown operator %(op)s") % {"op": op if isinstance(op, str) else "?"})
    if field.type not in OPS[op]:
        raise path_error(
            f"{path}.op",
            _("%(op)s does not apply to %(field)s (a %(type)s field)") % {"op": op, "field": name, "type": field.type},
        )
    vpath = f"{path}.value"
    if "value" not in node and op != "is_empty":
        raise path_error(vpath, _("a value is required"))
    raw = node.get("value", True)
    value: Any
    if op in ("eq", "ne"):
        value = _scalar(raw, field, path=vpath)
    elif op in ("in", "not_in"):
        value = _list(raw, field, path=vpath)
    elif op in COMPARISON_OPS:
        value = _scalar(raw, field, path=vpath)
    elif op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            raise path_error(vpath, _("must be a list of two values [low, high]"))
        low, high = (_scalar(v, field, path=f"{vpath}[{i}]") for i, v in enumerate(raw))
        if low > high:
            raise path_error(vpath, _("the low value is above the high value"))
        value = [low, high]
    elif op in ("contains", "starts_with"):
        value = _scalar(raw, Field(field.path, STR, field.label), path=vpath)
    elif op == "regex":
        value = check_regex(raw, path=vpath)
    elif op == "is_empty":
        if not isinstance(raw, bool):
            raise path_error(vpath, _("must be true or false"))
        value = raw
    elif op == "days_since":
        if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in (*COMPARISON_OPS, "eq"):
            raise path_error(vpath, _('must be one comparison of days, e.g. {"gte": 30}'))
        cmp, days = next(iter(raw.items()))
        value = (cmp, _scalar(days, Field(field.path, NUMBER, field.label), path=f"{vpath}.{cmp}"))
    else:  # within_business_hours
        calendar_id = raw.get("calendar_id") if isinstance(raw, dict) else None
        if isinstance(calendar_id, bool) or not isinstance(calendar_id, int) or set(raw) != {"calendar_id"}:
            raise path_error(vpath, _('must name a business calendar: {"calendar_id": <id>}'))
        if calendar_id not in calendars:
            raise path_error(f"{vpath}.calendar_id", _("no such business calendar"))
        value = calendars[calendar_id]
    return Leaf(field, op, value)


def walk(
    node: Any,
    *,
    path: str = "conditions",
    calendars: Mapping[int, Calendar] | None = None,
    on_leaf: Callable[[Leaf, str], Any] | None = None,
) -> Any:
    """Check a condition tree (every refusal names its JSON path) and build it bottom-up:
    `on_leaf(leaf, path)` for leaves, tuples ("all"|"any", [children]) / ("not", child) for the rest."""
    calendars = calendars or {}
    count = [0]

    def visit(node: Any, path: str, depth: int) -> Any:
        count[0] += 1
        if count[0] > MAX_NODES:
            raise path_error(path, _("more than %(n)s conditions") % {"n": MAX_NODES})
        if depth > MAX_DEPTH:
            raise path_error(path, _("nested deeper than %(n)s levels") % {"n": MAX_DEPTH})
        if not isinstance(node, dict):
            raise path_error(path, _("must be an object: all, any, not, or a field/op/value condition"))
        keys = [k for k in BOOLEAN_KEYS if k in node]
        if keys:
            key = keys[0]
            if len(node) != 1:
                raise path_error(path, _("a group has exactly one key: all, any or not"))
            if key == "not":
                return ("not", visit(node["not"], f"{path}.not", depth + 1))
            children = node[key]
            if not isinstance(children, list):
                raise path_error(f"{path}.{key}", _("must be a list of conditions"))
            return (key, [visit(child, f"{path}.{key}[{i}]", depth + 1) for i, child in enumerate(children)])
        leaf = check_leaf(node, path=path, calendars=calendars)
        return on_leaf(leaf, path) if on_leaf else leaf

    return visit(node, path, 0)


def check_conditions(node: Any, *, calendars: Mapping[int, Calendar] | None = None) -> None:
    """Refuse a condition tree that cannot be compiled (ValidationFailed naming the path)."""
    walk(node, calendars=calendars)


def calendar_ids(node: Any) -> set[int]:
    """The business calendars a (possibly unchecked) tree names, to load them before checking."""
    found: set[int] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("op") == "within_business_hours" and isinstance(node.get("value"), dict):
                cid = node["value"].get("calendar_id")
                if isinstance(cid, int) and not isinstance(cid, bool):
                    found.add(cid)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(node)
    return found


# --------------------------------------------------------------------------- compilation

_EMPTY: Mapping[str, Any] = {}


def path_getter(parts: tuple[str, ...]) -> Callable[[Snapshot], Any]:
    """A fast reader of one dotted path (None when any step is missing)."""
    if len(parts) == 1:
        (a,) = parts
        return lambda s: s.get(a)
    if len(parts) == 2:
        a, b = parts
        return lambda s: (s.get(a) or _EMPTY).get(b)
    a, b, c = parts
    return lambda s: ((s.get(a) or _EMPTY).get(b) or _EMPTY).get(c)


def _compare(op: str) -> Callable[[Any, Any], bool]:
    return {
        "gt": lambda x, v: x > v,
        "gte": lambda x, v: x >= v,
        "lt": lambda x, v: x < v,
        "lte": lambda x, v: x <= v,
        "eq": lambda x, v: x == v,
    }[op]


def _compile_leaf(leaf: Leaf, _path: str) -> Predicate:
    get = path_getter(leaf.field.parts)
    op, v = leaf.op, leaf.value
    if op == "eq":
        return lambda s: get(s) == v
    if op == "ne":
        return lambda s: get(s) != v
    if op == "in":
        values = frozenset(v)
        return lambda s: get(s) in values
    if op == "not_in":
        values = frozenset(v)
        return lambda s: get(s) not in values
    if op in COMPARISON_OPS:
        cmp = _compare(op)

        def compared(s: Snapshot) -> bool:
            x = get(s)
            return x is not None and cmp(x, v)

        return compared
    if op == "between":
        low, high = v

        def between(s: Snapshot) -> bool:
            x = get(s)
            return x is not None and low <= x <= high

        return between
    if op == "contains":
        needle = v.casefold()
        if leaf.field.type == LIST:
            exact = v
            return lambda s: exact in (get(s) or ())

        def contains(s: Snapshot) -> bool:
            x = get(s)
            return x is not None and needle in x.casefold()

        return contains
    if op == "starts_with":
        prefix = v.casefold()

        def starts(s: Snapshot) -> bool:
            x = get(s)
            return x is not None and x.casefold().startswith(prefix)

        return starts
    if op == "regex":

        def matches(s: Snapshot) -> bool:
            x = get(s)
            return x is not None and regex_search(v, x)

        return matches
    if op == "is_empty":
        empties: tuple[Any, ...] = (None, "", [], ())
        if v:
            return lambda s: get(s) in empties
        return lambda s: get(s) not in empties
    if op == "days_since":
        cmp_name, days = v
        cmp = _compare(cmp_name)
        limit = float(days)

        def days_since(s: Snapshot) -> bool:
            x, now = get(s), s.get("now")
            if x is None or now is None:
                return False
            return cmp((now - x).total_seconds() / 86400.0, limit)

        return days_since
    compiled_calendar = v.compiled

    def open_at(s: Snapshot) -> bool:
        x = get(s)
        return isinstance(x, datetime) and is_open(compiled_calendar, x)

    return open_at


def _build(tree: Any) -> Predicate:
    if callable(tree):
        return tree  # type: ignore[no-any-return]
    key, rest = tree
    if key == "not":
        inner = _build(rest)
        return lambda s: not inner(s)
    children = [_build(child) for child in rest]
    if len(children) == 1:
        return children[0]
    if key == "all":
        if not children:
            return lambda s: True
        if len(children) == 2:
            a, b = children
            return lambda s: a(s) and b(s)
        return lambda s: all(c(s) for c in children)
    if not children:
        return lambda s: False
    if len(children) == 2:
        a, b = children
        return lambda s: a(s) or b(s)
    return lambda s: any(c(s) for c in children)


def compile_conditions(node: Any, *, calendars: Mapping[int, Calendar] | None = None) -> Predicate:
    """Check and compile a condition tree into one predicate over a snapshot."""
    return _build(walk(node, calendars=calendars, on_leaf=_compile_leaf))
