"""The condition builder of Settings > Rules, as form data (no business rule here: the rule document
it produces is checked by rules.services.check_rule_document, like the API's).

The form describes a tree of nodes, each named by its position: "r" is the root group, "r.0" its
first child, "r.0.1" the second child of that... A group has `n:<id>:mode` (all | any) and an
optional `n:<id>:negate`; a condition row has `n:<id>:field`, `n:<id>:op`, `n:<id>:value` (text,
converted by the field's type and the operator). Buttons named `builder` edit the tree without saving:
`add-leaf:<id>`, `add-group:<id>`, `remove:<id>`, `add-action`, `remove-action:<i>`.

A row's value is typed by its field and operator (`leaf_widget`: a choice list for choice fields, a
multiple choice for in/not_in of a choice field, a list editor (one value per line) for in/not_in of
text and number fields, true/false, numbers, a range for between, a date-and-time input for instants
(in the organization's time zone, `Node.tz`), a comparison and days for days_since, a business
calendar); the field and operator selects re-render the row (htmx `builder=refresh`). Posted back as
text (`_posted_value`), converted like a typed text.

Instants: the row's text is the JSON value itself (an ISO 8601 instant with its offset); the input
shows it as local time in the organization's zone and posts it back with the instant it showed
(`n:<id>:orig`), so an unchanged input gives the unchanged JSON (same offset, same seconds) even where
the local time is ambiguous (the hour a DST change repeats). A changed local time becomes that local
time's instant in the organization's zone: in the repeated hour the first (summer-time) one; a local
time the clocks skip is refused naming the row's JSON path (`local_to_instant`).

Actions are rows `a:<i>:type` with their parameters as form fields (`a:<i>:p:<name>`, by type:
`_action_params`), or `a:<i>:params` (a JSON object) for a type without a form. The page's raw JSON
editor stays the alternative for the whole document. Each node remembers the JSON path it became, so
a refusal naming `conditions.any[1].value` is shown on that row."""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.rules.fields import BOOL, DATETIME, ENUM, FIELDS, INT, NUMBER, STR

MAX_NODES = 200
LIST_OPS = ("in", "not_in")
DEFAULT_TZ = "UTC"


@dataclass
class Node:
    id: str
    kind: str  # "group" | "leaf"
    mode: str = "all"
    negate: bool = False
    field: str = ""
    op: str = ""
    value: str = ""
    children: list[Node] = dataclass_field(default_factory=list)
    json_path: str = ""
    error: str = ""
    tz: str = DEFAULT_TZ  # the organization's time zone: instants are shown and typed in it
    value_error: str = ""  # a typed value the builder could not turn into JSON (a skipped local time)

    @property
    def depth(self) -> int:
        return self.id.count(".")

    @property
    def widget(self) -> Widget:
        return leaf_widget(self.field, self.op, self.value, tz=self.tz)


@dataclass(frozen=True)
class Widget:
    """How a condition's value is typed, from the field registry's type and the operator: `select`
    (one choice), `multi` (several), `lines` (a list of texts or numbers, one per line), `bool`,
    `number`, `range` (two numbers), `datetime` (an instant as local date and time), `datetime_range`
    (two), `days` (a comparison and a number of days), `calendar` (a business calendar), `text`.
    For instants `low`/`high` are the local times shown and `orig`/`orig_high` the JSON instants."""

    kind: str
    choices: tuple[str, ...] = ()
    selected: tuple[str, ...] = ()
    cmp: str = "gte"
    low: str = ""
    high: str = ""
    step: str = "any"
    orig: str = ""
    orig_high: str = ""
    tz: str = ""


DAYS_CMPS = ("gte", "gt", "lte", "lt", "eq")
NUMBER_OPS = ("eq", "ne", "gt", "gte", "lt", "lte")


def _parts(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


# --------------------------------------------------------------------------- instants


def _zone(tz: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(tz or DEFAULT_TZ)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_TZ)


def _parse_instant(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def instant_to_local(text: str, tz: str) -> str:
    """An ISO instant with offset as the organization's local time for a datetime-local input
    (seconds shown only when not zero; "" when the text is not an instant with an offset)."""
    parsed = _parse_instant(text)
    if parsed is None:
        return ""
    local = parsed.astimezone(_zone(tz))
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")


LOCAL_INPUT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")


def local_to_instant(text: str, tz: str) -> str:
    """A local date and time typed in the organization's zone as an ISO instant with its offset.
    In the hour a DST change repeats, the first occurrence (fold=0: before the clocks go back).
    Raises ValueError saying why for a malformed text or a local time the clocks skip."""
    text = text.strip()
    if not LOCAL_INPUT.fullmatch(text):
        raise ValueError(_("not a date and time (YYYY-MM-DDTHH:MM)"))
    naive = datetime.fromisoformat(text)
    zone = _zone(tz)
    aware = naive.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValueError(
            _("%(time)s does not exist in %(zone)s (the clocks skip it for daylight saving time)")
            % {"time": text.replace("T", " "), "zone": zone.key}
        )
    return aware.isoformat()


def _posted_instant(local: str, orig: str, tz: str) -> str:
    """The JSON instant a datetime input posted: the instant it showed when the local time is
    unchanged (round trip), else the typed local time's instant (ValueError when it has none)."""
    local = local.strip()
    if not local:
        return ""
    shown = instant_to_local(orig, tz) if orig else ""
    if shown and LOCAL_INPUT.fullmatch(local) and datetime.fromisoformat(shown) == datetime.fromisoformat(local):
        return orig
    return local_to_instant(local, tz)


# --------------------------------------------------------------------------- widgets


def leaf_widget(name: str, op: str, value: str, *, tz: str = DEFAULT_TZ) -> Widget:
    kind = FIELDS[name].type if name in FIELDS else ""
    if op == "is_empty":
        return Widget("bool", selected=(value.strip().lower() or "true",))
    if op == "days_since":
        cmp, _sep, days = value.strip().partition(" ")
        return Widget("days", cmp=cmp if cmp in DAYS_CMPS else "gte", low=days.strip())
    if op == "within_business_hours":
        return Widget("calendar", selected=(value.strip(),))
    if op == "between" and kind in (INT, NUMBER):
        low, high = ([*_parts(value), "", ""])[:2]
        return Widget("range", low=low, high=high, step="1" if kind == INT else "any")
    if kind == DATETIME and op in (*NUMBER_OPS, "between"):
        parts = ([*_parts(value), "", ""])[:2] if op == "between" else [value.strip(), ""]
        shown = [instant_to_local(p, tz) for p in parts]
        if any(p and not s for p, s in zip(parts, shown, strict=True)):
            return Widget("text")  # not an instant with an offset (typed in the raw JSON): shown as is
        return Widget(
            "datetime_range" if op == "between" else "datetime",
            low=shown[0],
            high=shown[1],
            orig=parts[0],
            orig_high=parts[1],
            tz=_zone(tz).key,
        )
    if kind == ENUM and op in LIST_OPS:
        return Widget("multi", choices=FIELDS[name].choices, selected=tuple(_lines(value)))
    if kind in (STR, INT, NUMBER) and op in LIST_OPS:
        return Widget("lines", low=value, step="1" if kind == INT else "any")
    if kind == ENUM and op in ("eq", "ne"):
        return Widget("select", choices=FIELDS[name].choices, selected=(value.strip(),))
    if kind == BOOL and op in ("eq", "ne"):
        return Widget("bool", selected=(value.strip().lower() or "true",))
    if kind in (INT, NUMBER) and op in NUMBER_OPS:
        return Widget("number", low=value.strip(), step="1" if kind == INT else "any")
    return Widget("text")


def _posted_value(post: Mapping[str, Any], node_id: str, tz: str = DEFAULT_TZ) -> tuple[str, str]:
    """A row's value as text, whichever widget posted it (leaf_widget), and why it could not be
    read ("" when it could: a local time the clocks skip cannot)."""
    key = f"n:{node_id}"
    widget = str(post.get(f"{key}:widget", ""))
    try:
        if widget == "datetime":
            return _posted_instant(str(post.get(f"{key}:value", "")), str(post.get(f"{key}:orig", "")), tz), ""
        if widget == "datetime_range":
            low = _posted_instant(str(post.get(f"{key}:low", "")), str(post.get(f"{key}:orig", "")), tz)
            high = _posted_instant(str(post.get(f"{key}:high", "")), str(post.get(f"{key}:orig_high", "")), tz)
            return f"{low}, {high}".strip(", "), ""
    except ValueError as exc:
        return str(post.get(f"{key}:orig", "")), str(exc)
    return _posted_text(post, key, widget), ""


def _posted_text(post: Mapping[str, Any], key: str, widget: str) -> str:
    if widget == "multi":
        values = post.getlist(f"{key}:values") if hasattr(post, "getlist") else post.get(f"{key}:values", [])
        return "\n".join(str(v) for v in values)
    if widget == "range":
        return f"{post.get(f'{key}:low', '')}, {post.get(f'{key}:high', '')}".strip(", ")
    if widget == "days":
        return f"{post.get(f'{key}:cmp', 'gte')} {post.get(f'{key}:value', '')}".strip()
    return str(post.get(f"{key}:value", ""))


@dataclass(frozen=True)
class ParamField:
    """One parameter of an action as a form field (web only: the action's own check() decides)."""

    name: str
    kind: str  # choice, multi, bool, number, text, textarea, tags, team, user, users, template
    label: Any
    choices: tuple[str, ...] = ()
    required: bool = True


def _action_params() -> dict[str, tuple[ParamField, ...]]:
    from django.utils.translation import gettext_lazy

    from aftersales.inbox.workflow import TicketCategory, Urgency
    from aftersales.rules.actions import APPROVABLE_RESOLUTIONS, EVIDENCE_KINDS, RouteBySkill

    body = ParamField("body", "textarea", gettext_lazy("Text"))
    return {
        "set_category": (ParamField("category", "choice", gettext_lazy("Category"), tuple(TicketCategory.values)),),
        "set_urgency": (ParamField("urgency", "choice", gettext_lazy("Urgency"), tuple(Urgency.values)),),
        "set_priority": (ParamField("high", "bool", gettext_lazy("High priority")),),
        "add_tags": (ParamField("tags", "tags", gettext_lazy("Tags (comma-separated)")),),
        "assign_team": (ParamField("team_id", "team", gettext_lazy("Team")),),
        "assign_agent": (ParamField("user_id", "user", gettext_lazy("Agent")),),
        "route_by_skill": (
            ParamField("strategy", "choice", gettext_lazy("Strategy"), tuple(RouteBySkill.strategies), False),
        ),
        "send_template": (ParamField("template_id", "template", gettext_lazy("Template")),),
        "add_note": (body,),
        "escalate": (ParamField("note", "textarea", gettext_lazy("Note"), required=False),),
        "approve_return": (
            ParamField("resolution", "choice", gettext_lazy("Resolution"), APPROVABLE_RESOLUTIONS, False),
        ),
        "reject_return": (ParamField("reason", "textarea", gettext_lazy("Reason")),),
        "request_evidence": (
            ParamField("kinds", "multi", gettext_lazy("Evidence"), EVIDENCE_KINDS),
            ParamField("message", "textarea", gettext_lazy("Message"), required=False),
        ),
        "refund_partial": (ParamField("percent", "number", gettext_lazy("Percent")),),
        "notify_email": (
            ParamField("user_ids", "users", gettext_lazy("Colleagues")),
            ParamField("subject", "text", gettext_lazy("Subject")),
            body,
        ),
        "notify_webhook": (
            ParamField("url", "text", gettext_lazy("URL (https)")),
            ParamField("note", "text", gettext_lazy("Note"), required=False),
            ParamField("signing", "choice", gettext_lazy("Signing secret"), ("organization", "rule"), required=False),
        ),
        "refund_returnless": (),
        "create_exchange": (),
        "stop_further": (),
    }


@dataclass
class ActionRow:
    type: str = ""
    params: str = "{}"
    error: str = ""

    @property
    def fields(self) -> list[dict[str, Any]]:
        """The action's parameters as form fields with their current values (None: no form for
        this type, the JSON input is shown)."""
        spec = _action_params().get(self.type)
        if spec is None:
            return []
        try:
            current = json.loads(self.params or "{}")
        except ValueError:
            current = {}
        current = current if isinstance(current, dict) else {}
        out = []
        for p in spec:
            value = current.get(p.name)
            if isinstance(value, list):
                shown: Any = [str(v) for v in value]
            elif isinstance(value, bool):
                shown = "true" if value else "false"
            else:
                shown = "" if value is None else str(value)
            out.append({"spec": p, "value": ", ".join(shown) if p.kind == "tags" else shown})
        return out

    @property
    def has_form(self) -> bool:
        return self.type in _action_params()


def _param_value(p: ParamField, post: Mapping[str, Any], key: str) -> Any:
    if p.kind in ("multi", "users"):
        values = post.getlist(key) if hasattr(post, "getlist") else post.get(key, [])
        return [int(v) if p.kind == "users" and str(v).isdigit() else v for v in values]
    raw = str(post.get(key, "")).strip()
    if p.kind == "tags":
        return [t.strip() for t in raw.split(",") if t.strip()]
    if not raw:
        return None
    if p.kind == "bool":
        return raw == "true"
    if p.kind in ("team", "user", "template"):
        return int(raw) if raw.isdigit() else raw
    if p.kind == "number":
        try:
            return int(raw) if raw.lstrip("-").isdigit() else float(raw)
        except ValueError:
            return raw
    return raw


def params_from_post(action_type: str, post: Mapping[str, Any], index: int) -> str | None:
    """The JSON parameters an action's form fields describe (None: no form for this type)."""
    spec = _action_params().get(action_type)
    if spec is None or f"a:{index}:form" not in post or post.get(f"a:{index}:form") != action_type:
        return None
    params: dict[str, Any] = {}
    for p in spec:
        value = _param_value(p, post, f"a:{index}:p:{p.name}")
        if value is None or (value == [] and not p.required):
            continue
        params[p.name] = value
    return json.dumps(params, ensure_ascii=False)


def empty_tree() -> Node:
    return Node("r", "group", children=[Node("r.0", "leaf")])


# --------------------------------------------------------------------------- values


def value_text(name: str, op: str, value: Any) -> str:
    """A condition's JSON value as the row's text."""
    if value is None:
        return ""
    if op in LIST_OPS:
        return "\n".join(value_text(name, "eq", v) for v in value) if isinstance(value, list) else str(value)
    if op == "between":
        return ", ".join(value_text(name, "eq", v) for v in value) if isinstance(value, list) else str(value)
    if op == "days_since" and isinstance(value, Mapping) and len(value) == 1:
        cmp, days = next(iter(value.items()))
        return f"{cmp} {days}"
    if op == "within_business_hours" and isinstance(value, Mapping):
        return str(value.get("calendar_id", ""))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


WHOLE = re.compile(r"-?\d{1,18}")
DECIMAL = re.compile(r"-?\d{1,15}\.\d{1,15}")


def _scalar(name: str, text: str) -> Any:
    """A typed text as the field's JSON type: whole numbers as JSON integers, decimals as JSON
    numbers when the number prints back the same (19.99), else kept as text (the service reads a
    decimal text exactly and refuses anything else naming the value's path)."""
    kind = FIELDS[name].type if name in FIELDS else ""
    if kind in (INT, NUMBER) and WHOLE.fullmatch(text):
        return int(text)
    if kind == NUMBER and DECIMAL.fullmatch(text) and repr(float(text)) == text:
        return float(text)
    if kind == BOOL and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def value_json(name: str, op: str, text: str) -> Any:
    """The row's text as the JSON value the operator takes."""
    text = text.strip()
    if op == "is_empty":
        return text.lower() != "false"
    if op in LIST_OPS:
        return [_scalar(name, part) for part in _lines(text)]
    if op == "between":
        return [_scalar(name, part.strip()) for part in text.split(",") if part.strip()]
    if op == "days_since":
        cmp, _sep, days = text.partition(" ")
        number: Any = days.strip()
        return {cmp.strip() or "gte": int(number) if number.isdigit() else number}
    if op == "within_business_hours":
        return {"calendar_id": int(text) if text.isdigit() else text}
    return _scalar(name, text)


# --------------------------------------------------------------------------- form <-> tree


def parse_tree(post: Mapping[str, Any], *, tz: str = DEFAULT_TZ) -> Node:
    """The tree the form describes (positions renumbered in order); instants typed in `tz`."""
    ids = sorted(
        {key.split(":")[1] for key in post if key.startswith("n:") and key.count(":") == 2},
        key=lambda i: [int(p) if p.isdigit() else -1 for p in i.split(".")],
    )
    if len(ids) > MAX_NODES:
        raise ValidationFailed(_("more than %(n)s conditions") % {"n": MAX_NODES}, field="conditions")
    nodes: dict[str, Node] = {}
    for node_id in ids:
        if node_id != "r" and not node_id.startswith("r."):
            continue
        is_group = f"n:{node_id}:mode" in post
        value, value_error = ("", "") if is_group else _posted_value(post, node_id, tz)
        nodes[node_id] = Node(
            node_id,
            "group" if is_group else "leaf",
            mode="any" if post.get(f"n:{node_id}:mode") == "any" else "all",
            negate=bool(post.get(f"n:{node_id}:negate")),
            field=str(post.get(f"n:{node_id}:field", "")),
            op=str(post.get(f"n:{node_id}:op", "")),
            value=value,
            value_error=value_error,
            tz=tz,
        )
    root = nodes.get("r") or Node("r", "group", tz=tz)
    root.kind = "group"
    for node_id, node in nodes.items():
        if node_id == "r":
            continue
        parent = nodes.get(node_id.rsplit(".", 1)[0])
        if parent is not None and parent.kind == "group":
            parent.children.append(node)
    renumber(root)
    return root


def renumber(node: Node, node_id: str = "r") -> None:
    node.id = node_id
    for i, child in enumerate(node.children):
        renumber(child, f"{node_id}.{i}")


def tree_from_conditions(conditions: Any, *, tz: str = DEFAULT_TZ) -> Node:
    """A saved condition tree as builder nodes (a `not` becomes a negated group); instants are
    shown in `tz`."""

    def visit(node: Any, node_id: str) -> Node:
        if isinstance(node, Mapping) and "not" in node:
            inner = visit(node["not"], node_id)
            if inner.kind == "group" and not inner.negate:
                inner.negate = True
                return inner
            wrapper = Node(node_id, "group", negate=True, children=[inner], tz=tz)
            renumber(wrapper, node_id)
            return wrapper
        if isinstance(node, Mapping) and ("all" in node or "any" in node):
            mode = "all" if "all" in node else "any"
            children = node[mode] if isinstance(node[mode], list) else []
            return Node(
                node_id,
                "group",
                mode=mode,
                children=[visit(c, f"{node_id}.{i}") for i, c in enumerate(children)],
                tz=tz,
            )
        leaf = node if isinstance(node, Mapping) else {}
        name, op = str(leaf.get("field", "")), str(leaf.get("op", ""))
        return Node(node_id, "leaf", field=name, op=op, value=value_text(name, op, leaf.get("value")), tz=tz)

    root = visit(conditions or {"all": []}, "r")
    if root.kind != "group":
        root = Node("r", "group", children=[root], tz=tz)
    renumber(root)
    return root


def conditions_from_tree(root: Node) -> dict[str, Any]:
    """The JSON condition tree; every node records its JSON path (for errors)."""

    def visit(node: Node, path: str) -> dict[str, Any]:
        node.json_path = path
        if node.kind == "leaf":
            if node.value_error:
                raise ValidationFailed(
                    _("%(field)s: %(problem)s") % {"field": f"{path}.value", "problem": node.value_error},
                    field=f"{path}.value",
                )
            out: dict[str, Any] = {"field": node.field, "op": node.op}
            if node.op != "is_empty" or node.value.strip():
                out["value"] = value_json(node.field, node.op, node.value)
            return out
        inner_path = f"{path}.not" if node.negate else path
        group = {node.mode: [visit(c, f"{inner_path}.{node.mode}[{i}]") for i, c in enumerate(node.children)]}
        return {"not": group} if node.negate else group

    return visit(root, "conditions")


def find(root: Node, node_id: str) -> Node | None:
    if root.id == node_id:
        return root
    for child in root.children:
        found = find(child, node_id)
        if found is not None:
            return found
    return None


def apply_builder(root: Node, actions: list[ActionRow], command: str) -> None:
    """Edit the tree or the action rows as a builder button asks (unknown commands do nothing)."""
    verb, _sep, target = command.partition(":")
    if verb == "add-action":
        actions.append(ActionRow())
    elif verb == "remove-action" and target.isdigit() and int(target) < len(actions):
        del actions[int(target)]
    node = find(root, target) if target else None
    if verb in ("add-leaf", "add-group") and node is not None and node.kind == "group":
        kind = "leaf" if verb == "add-leaf" else "group"
        child = Node("", kind, children=[Node("", "leaf", tz=root.tz)] if kind == "group" else [], tz=root.tz)
        node.children.append(child)
    elif verb == "remove" and node is not None and node is not root:
        parent = find(root, node.id.rsplit(".", 1)[0])
        if parent is not None:
            parent.children.remove(node)
    renumber(root)


def attach_error(root: Node, actions: list[ActionRow], exc: ValidationFailed) -> bool:
    """Show a refusal on the row it names (the deepest node whose JSON path starts it). False when
    it names neither a condition nor an action (the caller shows it at the top)."""
    path = exc.field or ""
    if path.startswith("actions["):
        index = path[len("actions[") :].split("]", 1)[0]
        if index.isdigit() and int(index) < len(actions):
            actions[int(index)].error = exc.message
            return True
        return False
    best: Node | None = None

    def visit(node: Node) -> None:
        nonlocal best
        names = node.json_path and (
            path == node.json_path or path.startswith((f"{node.json_path}.", f"{node.json_path}["))
        )
        if names and (best is None or len(node.json_path) > len(best.json_path)):
            best = node
        for child in node.children:
            visit(child)

    visit(root)
    if best is None:
        return False
    best.error = exc.message
    return True


def flatten(root: Node) -> list[Node]:
    """The nodes in display order (a group before its children), for the template."""
    out = [root]
    for child in root.children:
        out.extend(flatten(child))
    return out


# --------------------------------------------------------------------------- actions


def parse_actions(post: Mapping[str, Any]) -> list[ActionRow]:
    """The action rows: parameters from the type's form fields when the row showed them for the
    same type, else from the row's JSON input (types without a form, or a type just changed)."""
    indexes = sorted({int(k.split(":")[1]) for k in post if k.startswith("a:") and k.split(":")[1].isdigit()})
    rows = []
    for i in indexes[:50]:
        action_type = str(post.get(f"a:{i}:type", ""))
        params = params_from_post(action_type, post, i)
        if params is None:
            params = str(post.get(f"a:{i}:params", "") or "{}")
            if post.get(f"a:{i}:form") and post.get(f"a:{i}:form") != action_type:
                params = "{}"  # the type changed: its old parameters do not apply
        rows.append(ActionRow(type=action_type, params=params))
    return rows


def action_rows(actions: Any) -> list[ActionRow]:
    if not isinstance(actions, list):
        return []
    return [
        ActionRow(type=str(a.get("type", "")), params=json.dumps(a.get("params") or {}, ensure_ascii=False))
        for a in actions
        if isinstance(a, Mapping)
    ]


def actions_json(rows: list[ActionRow]) -> list[dict[str, Any]]:
    out = []
    for i, row in enumerate(rows):
        try:
            params = json.loads(row.params or "{}")
        except ValueError:
            raise ValidationFailed(
                _('the parameters must be a JSON object, e.g. {"urgency": "high"}'), field=f"actions[{i}].params"
            ) from None
        out.append({"type": row.type, "params": params})
    return out


# --------------------------------------------------------------------------- scope and schedule


SCOPE_TEXT = ("regions", "platforms", "product_categories", "skus")


def scope_json(post: Mapping[str, Any], store_ids: list[str]) -> dict[str, Any]:
    scope: dict[str, Any] = {}
    for key in SCOPE_TEXT:
        values = [v.strip() for v in str(post.get(f"scope_{key}", "")).split(",") if v.strip()]
        if values:
            scope[key] = values
    ids = [int(v) if v.isdigit() else v for v in store_ids if v]
    if ids:
        scope["store_ids"] = ids
    return scope


def scope_form(scope: Any) -> dict[str, Any]:
    scope = scope if isinstance(scope, Mapping) else {}
    values: dict[str, Any] = {f"scope_{k}": ", ".join(str(v) for v in scope.get(k, [])) for k in SCOPE_TEXT}
    values["store_ids"] = [str(v) for v in scope.get("store_ids", [])]
    return values


def schedule_json(windows_text: str, calendar_id: str) -> dict[str, Any]:
    schedule: dict[str, Any] = {}
    windows = []
    for line in windows_text.splitlines():
        start, _sep, end = line.strip().partition(" ")
        if start:
            windows.append({"start": start, "end": end.strip()})
    if windows:
        schedule["windows"] = windows
    if calendar_id.strip():
        schedule["business_hours"] = {"calendar_id": int(calendar_id) if calendar_id.isdigit() else calendar_id}
    return schedule


def schedule_form(schedule: Any) -> dict[str, str]:
    schedule = schedule if isinstance(schedule, Mapping) else {}
    windows = "\n".join(f"{w.get('start', '')} {w.get('end', '')}" for w in schedule.get("windows", []))
    hours = schedule.get("business_hours") or {}
    return {"schedule_windows": windows, "schedule_calendar_id": str(hours.get("calendar_id", ""))}


# --------------------------------------------------------------------------- the whole form

TEXT_FIELDS = ("name", "trigger", "priority", "approval_amount", "approval_currency", "days")


@dataclass
class RuleForm:
    """Everything the edit page shows and posts back."""

    values: dict[str, Any]
    tree: Node
    actions: list[ActionRow]
    mode: str = "builder"  # builder | json
    json_text: str = ""
    rule_id: int | None = None
    error: str = ""  # a refusal no row shows

    @property
    def nodes(self) -> list[Node]:
        return flatten(self.tree)


def _flag(post: Mapping[str, Any], key: str) -> bool:
    return bool(post.get(key))


def form_from_post(post: Any, *, tz: str = DEFAULT_TZ) -> RuleForm:
    values: dict[str, Any] = {k: str(post.get(k, "")).strip() for k in TEXT_FIELDS}
    values.update({k: str(post.get(k, "")) for k in (*(f"scope_{s}" for s in SCOPE_TEXT), "schedule_windows")})
    values["schedule_calendar_id"] = str(post.get("schedule_calendar_id", "")).strip()
    values["store_ids"] = [str(v) for v in post.getlist("store_ids")] if hasattr(post, "getlist") else []
    values["enabled"] = _flag(post, "enabled")
    values["stop_further"] = _flag(post, "stop_further")
    rule_id = str(post.get("rule_id", "")).strip()
    return RuleForm(
        values=values,
        tree=parse_tree(post, tz=tz),
        actions=parse_actions(post),
        mode="json" if post.get("mode") == "json" else "builder",
        json_text=str(post.get("document_json", "")),
        rule_id=int(rule_id) if rule_id.isdigit() else None,
    )


def _whole_or_text(text: str) -> Any:
    return int(text) if text.lstrip("-").isdigit() else text


def document_from_form(form: RuleForm) -> dict[str, Any]:
    """The rule document the form describes (JSON mode: the text as parsed; a bad text is refused
    naming `document`)."""
    if form.mode == "json":
        try:
            parsed = json.loads(form.json_text or "{}")
        except ValueError as exc:
            raise ValidationFailed(_("not valid JSON: %(error)s") % {"error": exc}, field="document") from None
        if not isinstance(parsed, dict):
            raise ValidationFailed(_("the document must be a JSON object"), field="document")
        return parsed
    v = form.values
    document: dict[str, Any] = {
        "name": v["name"],
        "trigger": v["trigger"],
        "priority": _whole_or_text(v["priority"] or "100"),
        "enabled": v["enabled"],
        "stop_further": v["stop_further"],
        "conditions": conditions_from_tree(form.tree),
        "actions": actions_json(form.actions),
        "scope": scope_json(v, v["store_ids"]),
        "schedule": schedule_json(v["schedule_windows"], v["schedule_calendar_id"]),
    }
    if v["approval_amount"]:
        document["approval_limit"] = {"amount": v["approval_amount"], "currency": v["approval_currency"].upper()}
    return document


def form_from_document(document: Mapping[str, Any], *, rule_id: int | None = None, tz: str = DEFAULT_TZ) -> RuleForm:
    limit = document.get("approval_limit") or {}
    values: dict[str, Any] = {
        "name": str(document.get("name", "")),
        "trigger": str(document.get("trigger", "")),
        "priority": str(document.get("priority", 100)),
        "enabled": bool(document.get("enabled")),
        "stop_further": bool(document.get("stop_further")),
        "approval_amount": str(limit.get("amount", "")) if isinstance(limit, Mapping) else "",
        "approval_currency": str(limit.get("currency", "")) if isinstance(limit, Mapping) else "",
        "days": "30",
        **scope_form(document.get("scope")),
        **schedule_form(document.get("schedule")),
    }
    form = RuleForm(
        values=values,
        tree=tree_from_conditions(document.get("conditions"), tz=tz),
        actions=action_rows(document.get("actions")) or [ActionRow()],
        rule_id=rule_id,
    )
    form.json_text = json.dumps(dict(document), indent=2, ensure_ascii=False, default=str)
    return form


def new_form(*, tz: str = DEFAULT_TZ) -> RuleForm:
    return form_from_document(
        {"trigger": "ticket_created", "priority": 100, "conditions": {"all": [{"field": "", "op": "eq"}]}}, tz=tz
    )
