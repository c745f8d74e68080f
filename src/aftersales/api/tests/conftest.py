from __future__ import annotations

import pytest

from .helpers import ApiClient


@pytest.fixture
def as_user():  # type: ignore[no-untyped-def]
    """as_user(world.agent) -> an ApiClient signed in as that user (session)."""

    def make(user, **kw):  # type: ignore[no-untyped-def]
        return ApiClient(user=user, **kw)

    return make


@pytest.fixture
def anon():  # type: ignore[no-untyped-def]
    return ApiClient()
