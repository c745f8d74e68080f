from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aftersales.channels.base import StoreContext
from aftersales.channels.connectors.ebay.client import forget_app_tokens
from aftersales.channels.connectors.ebay.connector import EbayConnector
from aftersales.channels.connectors.ebay.fake import EbayFake
from aftersales.channels.connectors.ebay.webhooks import clear_key_cache


@pytest.fixture
def fake() -> Iterator[EbayFake]:
    clear_key_cache()
    forget_app_tokens()
    with EbayFake().running() as server:
        assert isinstance(server, EbayFake)
        yield server


class Recorder:
    """What a connector did through its StoreContext: saved credentials, throttles, sleeps."""

    def __init__(self) -> None:
        self.saved: list[dict[str, Any]] = []
        self.throttled: list[str] = []
        self.slept: list[float] = []


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def connector(recorder: Recorder) -> EbayConnector:
    return EbayConnector(sleep=recorder.slept.append)


def make_ctx(fake: EbayFake, recorder: Recorder, *, site: str = "ebay.com", **credentials: Any) -> StoreContext:
    return StoreContext(
        store_id=1,
        organization_id=1,
        platform="ebay",
        site=site,
        seller_id=fake.seller,
        currency="EUR",
        credentials=fake.credentials(**credentials),
        base_url=fake.url,
        save_credentials=recorder.saved.append,
        throttle=lambda bucket, cost: recorder.throttled.append(bucket),
    )


@pytest.fixture
def ctx(fake: EbayFake, recorder: Recorder) -> StoreContext:
    return make_ctx(fake, recorder)
