"""Return policies as data (issue 10, section 1). Pure: no ORM, no I/O.

- `document`: the strict reader of the JSON / YAML policy document -> PolicyDocument.
- `engine`: CompiledPolicy (indexed once) and its `evaluate(Facts) -> Decision`.
- `defaults`: the policy a new organization starts with (docs/returns-policy.md)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from .defaults import DEFAULT_POLICY
from .document import EU_COUNTRIES, PolicyDocument, PolicyDocumentError, parse_document
from .engine import CompiledPolicy, Decision, Facts, FactsError, Rate, compile_policy

__all__ = [
    "DEFAULT_POLICY",
    "EU_COUNTRIES",
    "CompiledPolicy",
    "Decision",
    "Facts",
    "FactsError",
    "PolicyDocument",
    "PolicyDocumentError",
    "Rate",
    "compile_policy",
    "load_text",
    "parse_document",
]

MAX_DOCUMENT_BYTES = 256 * 1024


def _plain(value: Any) -> Any:
    """YAML dates as ISO strings, so that the stored document is plain JSON."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k) if isinstance(k, date) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def load_text(text: str) -> dict[str, Any]:
    """A document's text (JSON, or YAML which is a superset) -> the plain dict, checked by
    `parse_document`. Raises PolicyDocumentError (path "" for syntax errors)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise PolicyDocumentError("", f"the document is larger than {MAX_DOCUMENT_BYTES // 1024} KiB")
    stripped = text.lstrip()
    import yaml  # here, not at module level: the web process loads this package, rarely a YAML document

    try:
        raw = json.loads(text) if stripped.startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise PolicyDocumentError("", f"not valid JSON or YAML: {str(exc).splitlines()[0]}") from None
    raw = _plain(raw)
    parse_document(raw)
    return raw  # type: ignore[no-any-return]
