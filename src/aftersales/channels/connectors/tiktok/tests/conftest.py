from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aftersales.channels.base import StoreContext
from aftersales.channels.connectors.tiktok.fake import TikTokFake
from aftersales.testing.connectors import Recorder, record_waits

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((FIXTURES / name).read_text()))


@pytest.fixture
def fake() -> Iterator[TikTokFake]:
    with TikTokFake().running() as server:
        assert isinstance(server, TikTokFake)
        yield server


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return record_waits(monkeypatch)


def make_ctx(fake: TikTokFake, recorder: Recorder, **credentials: Any) -> StoreContext:
    return recorder.context(
        platform="tiktok",
        site="shop.tiktok.com/us",
        seller_id=fake.shop_id,
        currency="USD",
        credentials=fake.credentials(**credentials),
        base_url=fake.url,
    )
