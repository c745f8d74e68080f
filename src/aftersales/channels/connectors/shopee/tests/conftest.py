from __future__ import annotations

from pathlib import Path
from typing import Any

from aftersales.channels.base import StoreContext
from aftersales.channels.connectors.shopee.fake import ShopeeFake
from aftersales.testing.acceptance import fake_context, fake_fixture, fixtures_loader
from aftersales.testing.acceptance import recorder as recorder  # a fixture
from aftersales.testing.acceptance import waits as waits  # a fixture
from aftersales.testing.connectors import Recorder

FIXTURES = Path(__file__).parent / "fixtures"
load = fixtures_loader(FIXTURES)


fake = fake_fixture(ShopeeFake)


def make_ctx(fake: ShopeeFake, recorder: Recorder, *, site: str = "shopee.sg", **credentials: Any) -> StoreContext:
    return fake_context(
        recorder, fake, platform="shopee", site=site, seller_id=str(fake.shop_id), currency="SGD", **credentials
    )
