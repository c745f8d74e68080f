"""Fuzz tests: operations with a known, tracked failure are marked xfail (test_api_schemathesis.KNOWN_FAILURES)."""

from __future__ import annotations

import re

import pytest

_ID = re.compile(r"^test_api_operation\[(?P<operation>[A-Z]+ [^\]]+)\]\[(?P<persona>\w+)\]$")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    matches = [(item, m) for item in items if (m := _ID.match(item.name))]
    if not matches:
        return
    from .test_api_schemathesis import KNOWN_FAILURES

    for item, match in matches:
        reason = KNOWN_FAILURES.get((match["operation"], match["persona"]))
        if reason:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False))
