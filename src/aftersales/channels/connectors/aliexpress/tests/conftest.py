from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aftersales.channels.base import StoreContext
from aftersales.channels.connectors.aliexpress.fake import AliExpressFake
from aftersales.channels.connectors.aliexpress.mapping import PACIFIC, TIME_FORMAT
from aftersales.testing.acceptance import fake_context, fake_fixture, fixtures_loader
from aftersales.testing.acceptance import recorder as recorder  # a fixture
from aftersales.testing.acceptance import waits as waits  # a fixture
from aftersales.testing.connectors import Recorder

FIXTURES = Path(__file__).parent / "fixtures"
load = fixtures_loader(FIXTURES)


def pacific_ago(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).astimezone(PACIFIC).strftime(TIME_FORMAT)


def ms_ago(minutes: int) -> int:
    return int((datetime.now(UTC) - timedelta(minutes=minutes)).timestamp() * 1000)


fake = fake_fixture(AliExpressFake)


def make_ctx(fake: AliExpressFake, recorder: Recorder, **credentials: Any) -> StoreContext:
    return fake_context(
        recorder,
        fake,
        platform="aliexpress",
        site="aliexpress.com",
        seller_id=fake.seller_login_id,
        currency="USD",
        **credentials,
    )
