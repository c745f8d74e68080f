from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aftersales.channels.base import StoreContext
from aftersales.channels.connectors.aliexpress.fake import AliExpressFake
from aftersales.channels.connectors.aliexpress.mapping import PACIFIC, TIME_FORMAT
from aftersales.testing.connectors import Recorder, record_waits

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((FIXTURES / name).read_text()))


def pacific_ago(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).astimezone(PACIFIC).strftime(TIME_FORMAT)


def ms_ago(minutes: int) -> int:
    return int((datetime.now(UTC) - timedelta(minutes=minutes)).timestamp() * 1000)


@pytest.fixture
def fake() -> Iterator[AliExpressFake]:
    with AliExpressFake().running() as server:
        assert isinstance(server, AliExpressFake)
        yield server


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return record_waits(monkeypatch)


def make_ctx(fake: AliExpressFake, recorder: Recorder, **credentials: Any) -> StoreContext:
    return recorder.context(
        platform="aliexpress",
        site="aliexpress.com",
        seller_id=fake.seller_login_id,
        currency="USD",
        credentials=fake.credentials(**credentials),
        base_url=fake.url,
    )
