"""Fixtures shared by every test: the personas' world, API clients."""

from __future__ import annotations

import pytest

# The Shopify fake's fixtures (shopify_fake, recorded_waits, shopify_store), used by the connector's
# tests and the returns' tests alike.
pytest_plugins = ["aftersales.testing.shopify"]


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    from aftersales.testing.personas import build_world

    return build_world()


@pytest.fixture(autouse=True)
def _fresh_permission_cache():  # type: ignore[no-untyped-def]
    yield


@pytest.fixture
def smtp_server(settings):  # type: ignore[no-untyped-def]
    """A real SMTP server on 127.0.0.1; Django's SMTP backend is pointed at it."""
    from aftersales.testing.smtp import SmtpServer

    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    yield server
    server.stop()
