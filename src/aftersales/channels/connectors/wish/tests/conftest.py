from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aftersales.channels.connectors.wish.fake import WishFake
from aftersales.testing.connectors import record_waits

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((FIXTURES / name).read_text()))


@pytest.fixture
def fake() -> Iterator[WishFake]:
    with WishFake().running() as server:
        assert isinstance(server, WishFake)
        yield server


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return record_waits(monkeypatch)
