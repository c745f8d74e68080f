from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aftersales.catalog.models import Store
from aftersales.channels.connectors.whatsapp.fake import WhatsAppFake
from aftersales.testing.connectors import record_waits
from aftersales.testing.factories import StoreFactory


@pytest.fixture
def fake() -> Iterator[WhatsAppFake]:
    with WhatsAppFake().running() as server:
        assert isinstance(server, WhatsAppFake)
        yield server


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return record_waits(monkeypatch)


@pytest.fixture
def store(world: Any, fake: WhatsAppFake) -> Store:
    return StoreFactory(
        organization=world.org,
        name="WhatsApp +1 555-010-0199",
        platform="whatsapp",
        site="",
        currency="USD",
        default_language="en",
        external_id=fake.phone_number_id,
        endpoint_url=fake.url,
        credentials=fake.credentials(),
    )
