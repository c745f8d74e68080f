"""Amazon's published schemas, copied into this folder (Apache-2.0, see schemas/NOTICE.txt and
docs/connectors/amazon.md): the ORDER_CHANGE notification JSON Schema (checked on every SQS
message) and the SP-API Swagger models the fake's answers and our requests are checked against
in the tests.

jsonschema is a development dependency only (it comes with schemathesis), so a notification is
checked at run time by `check_order_change`, which implements the keywords that schema uses
(type, required, properties, items, enum); a test holds it to jsonschema's verdicts."""

from __future__ import annotations

import copy
import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

from aftersales.channels.base import MappingError

HERE = Path(__file__).parent / "schemas"
MODELS = ("orders_2026-01-01", "ordersV0", "reports_2021-06-30", "financesV0")


@cache
def order_change_schema() -> dict[str, Any]:
    return json.loads((HERE / "OrderChangeNotification.json").read_text())


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}
_SUPPORTED = {"$schema", "$id", "title", "description", "examples", "type", "required", "properties", "items", "enum"}


def _check(schema: dict[str, Any], value: Any, path: str) -> None:
    unsupported = set(schema) - _SUPPORTED
    if unsupported:
        raise ValueError(f"check_order_change does not implement {sorted(unsupported)}")
    where = path or "(root)"
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any(
            isinstance(value, _TYPES[name]) and not (name in ("integer", "number") and isinstance(value, bool))
            for name in names
        )
        if not ok:
            raise MappingError(f"{where} is not of type {' or '.join(names)}", field=where)
    if "enum" in schema and value not in schema["enum"]:
        raise MappingError(f"{where} has an unknown value {value!r}", field=where)
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                field = f"{path}.{name}" if path else name
                raise MappingError(f"{field} is missing", field=field)
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                _check(sub, value[name], f"{path}.{name}" if path else name)
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _check(schema["items"], item, f"{path}[{index}]")


def check_order_change(notification: Any) -> None:
    """Raises MappingError naming the first field that breaks OrderChangeNotification.json."""
    _check(order_change_schema(), notification, "")


@cache
def model(name: str) -> dict[str, Any]:
    if name not in MODELS:
        raise KeyError(name)
    return json.loads(gzip.decompress((HERE / f"{name}.json.gz").read_bytes()))


def _strict(node: Any) -> Any:
    """Every object definition with properties refuses others (a misspelled field fails)."""
    if isinstance(node, dict):
        node = {k: _strict(v) for k, v in node.items()}
        is_object = node.get("type") == "object" or "type" not in node
        if is_object and "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_strict(item) for item in node]
    return node


@cache
def definition_validator(model_name: str, definition: str, *, strict: bool = True) -> Any:
    """A validator of one Swagger 2.0 definition (JSON Schema draft 4 with `#/definitions/` refs)."""
    definitions = copy.deepcopy(model(model_name)["definitions"])
    if definition not in definitions:
        raise KeyError(f"{model_name} has no definition {definition}")
    if strict:
        definitions = _strict(definitions)
    schema = {"$ref": f"#/definitions/{definition}", "definitions": definitions}
    from jsonschema import Draft4Validator  # development dependency: the tests only

    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def errors_of(validator: Any, instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(instance)]
