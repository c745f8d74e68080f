"""The store page of a push-only channel (WhatsApp, Messenger): the callback URL and verify token to
paste into the Meta app, the subscription's state as Meta's handshake and pushes arrive, and no
"Sync now" box (nothing is pulled)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from aftersales.channels.connectors.whatsapp.fake import WhatsAppFake
from aftersales.channels.models import StoreSync
from aftersales.channels.push_channels import is_push_only
from aftersales.testing.factories import StoreFactory


@pytest.fixture
def whatsapp(world: Any, settings: Any) -> Iterator[tuple[WhatsAppFake, Any]]:
    settings.SITE_URL = "https://support.example.com"
    with WhatsAppFake().running() as fake:
        assert isinstance(fake, WhatsAppFake)
        store: Any = StoreFactory(
            organization=world.org,
            name="WhatsApp support",
            platform="whatsapp",
            site="",
            external_id=fake.phone_number_id,
            endpoint_url=fake.url,
            credentials=fake.credentials(),
        )
        yield fake, store


def _page(client: Client, store: Any) -> str:
    answer = client.get(reverse("web:settings_store_connection", args=[store.pk]))
    assert answer.status_code == 200
    return answer.content.decode()


def test_the_push_box_replaces_sync_now_and_follows_the_subscription(
    world: Any, whatsapp: tuple[WhatsAppFake, Any]
) -> None:
    fake, store = whatsapp
    assert is_push_only(store) and not is_push_only(world.store_us)
    client = Client()
    client.force_login(world.admin)
    html = _page(client, store)
    token = StoreSync.objects.get(store=store).webhook_token
    hook = f"/hooks/whatsapp/{token}"
    assert f'value="http://testserver{hook}"' in html  # the address this page was reached at
    assert f'value="{fake.credentials()["verify_token"]}"' in html
    assert 'data-subscription="waiting"' in html
    assert 'id="sync"' not in html and "Sync now" not in html and 'id="webhook"' not in html
    # Meta verifies the address: the handshake is answered and noted.
    wrong = client.get(hook, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "42"})
    assert wrong.status_code == 403
    assert 'data-subscription="waiting"' in _page(client, store)
    verify = fake.credentials()["verify_token"]
    answer = client.get(hook, {"hub.mode": "subscribe", "hub.verify_token": verify, "hub.challenge": "1158201444"})
    assert answer.status_code == 200 and answer.content == b"1158201444"
    assert 'data-subscription="verified"' in _page(client, store)
    # Stored with the store's sync state, not in a cache: a flush (a restart, another process's
    # cache) still shows it verified.
    assert StoreSync.objects.get(store=store).push_verified_at is not None
    cache.clear()
    assert 'data-subscription="verified"' in _page(client, store)
    # A signed push arrives: receiving.
    body, headers = fake.signed(fake.text_push("16505551234", "Hello", at=time.time()))
    pushed = client.post(
        hook, body, content_type="application/json", headers={"X-Hub-Signature-256": headers["X-Hub-Signature-256"]}
    )
    assert pushed.status_code == 200, pushed.content
    html = _page(client, store)
    assert 'data-subscription="receiving"' in html and "Last push" in html


def test_a_pulling_store_keeps_its_sync_box(world: Any) -> None:
    client = Client()
    client.force_login(world.admin)
    html = _page(client, world.store_us)
    assert 'id="sync"' in html and 'id="push"' not in html
