from __future__ import annotations

from collections.abc import Iterator

import pytest

from aftersales.channels.connectors.amazon import client


@pytest.fixture(autouse=True)
def _fresh_token_cache() -> Iterator[None]:
    """Each test starts without access tokens cached in the process (each has its own fake)."""
    client._TOKENS.clear()
    yield
    client._TOKENS.clear()
