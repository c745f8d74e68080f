"""Fixtures shared by every test: the personas' world, API clients."""

from __future__ import annotations

import pytest


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    from aftersales.testing.personas import build_world

    return build_world()


@pytest.fixture(autouse=True)
def _fresh_permission_cache():  # type: ignore[no-untyped-def]
    yield
