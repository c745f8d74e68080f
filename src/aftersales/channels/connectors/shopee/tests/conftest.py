from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aftersales.channels.base import StoreContext
from aftersales.channels.connectors.shopee.fake import ShopeeFake
from aftersales.testing.connectors import Recorder, record_waits

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((FIXTURES / name).read_text()))


@pytest.fixture
def fake() -> Iterator[ShopeeFake]:
    with ShopeeFake().running() as server:
        assert isinstance(server, ShopeeFake)
        yield server


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return record_waits(monkeypatch)


def make_ctx(fake: ShopeeFake, recorder: Recorder, *, site: str = "shopee.sg", **credentials: Any) -> StoreContext:
    return recorder.context(
        platform="shopee",
        site=site,
        seller_id=str(fake.shop_id),
        currency="SGD",
        credentials=fake.credentials(**credentials),
        base_url=fake.url,
    )
