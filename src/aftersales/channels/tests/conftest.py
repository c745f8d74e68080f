from __future__ import annotations

from collections.abc import Iterator

import pytest

from aftersales.channels.tests import testshop


@pytest.fixture
def fake() -> Iterator[testshop.TestShopFake]:
    platform = testshop.TestShopFake()
    with platform.running():
        yield platform  # type: ignore[misc]


@pytest.fixture
def installed() -> Iterator[None]:
    testshop.install()
    yield
    testshop.uninstall()


@pytest.fixture
def shop(db, fake, installed):  # type: ignore[no-untyped-def]
    """A testshop store pointed at the running fake."""
    from aftersales.testing.factories import StoreFactory

    return StoreFactory(
        platform=testshop.PLATFORM,
        site="testshop",
        endpoint_url=fake.url,
        credentials={"token": testshop.TOKEN, "webhook_secret": testshop.WEBHOOK_SECRET},
    )


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff and Retry-After waits recorded instead of slept (HTTP client and engine)."""
    slept: list[float] = []
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", slept.append)
    monkeypatch.setattr("aftersales.channels.sync.wait_seconds", slept.append)
    return slept
