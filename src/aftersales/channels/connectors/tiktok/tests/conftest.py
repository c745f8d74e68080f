from __future__ import annotations

from pathlib import Path
from typing import Any

from aftersales.channels.base import StoreContext
from aftersales.channels.connectors.tiktok.fake import TikTokFake
from aftersales.testing.acceptance import fake_context, fake_fixture, fixtures_loader
from aftersales.testing.acceptance import recorder as recorder  # a fixture
from aftersales.testing.acceptance import waits as waits  # a fixture
from aftersales.testing.connectors import Recorder

FIXTURES = Path(__file__).parent / "fixtures"
load = fixtures_loader(FIXTURES)


fake = fake_fixture(TikTokFake)


def make_ctx(fake: TikTokFake, recorder: Recorder, **credentials: Any) -> StoreContext:
    return fake_context(
        recorder,
        fake,
        platform="tiktok",
        site="shop.tiktok.com/us",
        seller_id=fake.shop_id,
        currency="USD",
        **credentials,
    )
