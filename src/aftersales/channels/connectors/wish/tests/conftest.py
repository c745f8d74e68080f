from __future__ import annotations

from pathlib import Path

from aftersales.channels.connectors.wish.fake import WishFake
from aftersales.testing.acceptance import fake_fixture, fixtures_loader
from aftersales.testing.acceptance import waits as waits  # a fixture

FIXTURES = Path(__file__).parent / "fixtures"
load = fixtures_loader(FIXTURES)


fake = fake_fixture(WishFake)
