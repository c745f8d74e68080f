"""Settings → a store's connection page, its quarantine and the "needs a human" list (admins),
against the testshop fake (real HTTP on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from aftersales.catalog.models import Store
from aftersales.channels.base import RawRecord, Stream
from aftersales.channels.models import RawEvent, RawEventStatus, StoreSync, StreamCursor, SyncRun, WriteBack
from aftersales.channels.sync import receive_records
from aftersales.channels.tests import testshop
from aftersales.testing.connectors import unplugged
from aftersales.testing.factories import StoreFactory

pytestmark = pytest.mark.django_db

MAILBOX = {"address": "support@example.com", "imap_host": "imap.example.com", "password": "pw-secret"}


@pytest.fixture
def fake() -> Iterator[testshop.TestShopFake]:
    platform = testshop.TestShopFake()
    with platform.running():
        yield platform  # type: ignore[misc]


@pytest.fixture
def tshop(world, fake):  # type: ignore[no-untyped-def]
    testshop.install()
    yield StoreFactory(
        organization=world.org,
        name="Test shop",
        platform=testshop.PLATFORM,
        endpoint_url=fake.url,
        credentials={"token": testshop.TOKEN, "webhook_secret": testshop.WEBHOOK_SECRET},
    )
    testshop.uninstall()


def _url(name: str, store: Store) -> str:
    return reverse(f"web:{name}", args=[store.pk])


def test_the_store_page_shows_capabilities_streams_and_webhook(world, login, tshop) -> None:
    client = login(world.admin)
    page = client.get(_url("settings_store_connection", tshop)).content.decode()
    assert 'data-capability="pull_messages" data-supported="yes"' in page
    assert 'data-capability="decide_return" data-supported="no"' in page
    assert 'data-stream="messages"' in page and 'data-state="active"' in page
    token = StoreSync.objects.get(store=tshop).webhook_token
    assert "data-webhook" not in page or f"/hooks/testshop/{token}" in page
    stores = client.get(reverse("web:settings_stores")).content.decode()
    assert _url("settings_store_connection", tshop) in stores


def test_a_platform_without_connector_says_so(world, login) -> None:
    wish = StoreFactory(organization=world.org, platform="wish")
    page = login(world.admin).get(_url("settings_store_connection", wish)).content.decode()
    assert 'data-connector="none"' in page and "Sync now" not in page and "Test connection" not in page


def test_mailbox_credentials_form_keeps_secrets_and_names_bad_fields(world, login) -> None:
    mailbox = StoreFactory(organization=world.org, platform="email", credentials=MAILBOX)
    client = login(world.admin)
    page = client.get(_url("settings_store_connection", mailbox)).content.decode()
    assert "pw-secret" not in page and 'data-credential="password"' in page and 'data-set="set"' in page
    form = {"address": "support@example.com", "imap_host": "imap.example.com", "password": "", "imap_port": "70000"}
    refused = client.post(_url("settings_store_connection", mailbox), form)
    assert refused.status_code == 422
    assert 'data-error="credentials.imap_port"' in refused.content.decode()
    assert Store.objects.get(pk=mailbox.pk).credentials == MAILBOX  # nothing written
    saved = client.post(_url("settings_store_connection", mailbox), {**form, "imap_port": "143", "smtp_tls": "ssl"})
    assert saved.status_code == 302
    assert Store.objects.get(pk=mailbox.pk).credentials == {**MAILBOX, "imap_port": 143, "smtp_tls": "ssl"}


def test_test_connection_pause_resume_backfill_and_sync_now(
    world, login, tshop, fake, django_capture_on_commit_callbacks
) -> None:
    client = login(world.admin)
    tested = client.post(_url("settings_store_test", tshop), follow=True).content.decode()
    assert 'data-check="ok"' in tested
    client.post(_url("settings_store_pause", tshop), {"reason": "stock-taking"})
    page = client.get(_url("settings_store_connection", tshop)).content.decode()
    assert 'data-paused="yes"' in page and "stock-taking" in page
    assert client.post(_url("settings_store_run", tshop)).status_code == 409
    client.post(_url("settings_store_resume", tshop))
    assert not StoreSync.objects.get(store=tshop).paused
    today = datetime.now(UTC).date()
    future = client.post(_url("settings_store_backfill", tshop), {"since": str(today + timedelta(days=1))})
    assert future.status_code == 422 and 'data-error="since"' in future.content.decode()
    assert client.post(_url("settings_store_backfill", tshop), {"since": "31/01/2026"}).status_code == 422
    assert client.post(_url("settings_store_backfill", tshop), {"since": str(today)}).status_code == 302
    assert StreamCursor.objects.filter(store=tshop, backfill_since__isnull=False).exists()
    fake.add("messages", {"id": "m-1", "type": "message", "body": "Hi", "sent_at": "2026-11-01T10:00:00+00:00",
                          "buyer": {"id": "b1"}, "conversation": "c1"})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(_url("settings_store_run", tshop), {"stream": "messages"}).status_code == 302
    assert SyncRun.objects.filter(store=tshop, stream="messages").exists()


def test_quarantine_page_escapes_payloads_and_retries(world, login, tshop) -> None:
    bad = {"id": "m-9", "type": "message", "sent_at": "2026-11-01T10:00:00+00:00", "buyer": {"id": "b1"},
           "note": "<script>alert(1)</script>"}  # fmt: skip
    receive_records(store=tshop, records=[RawRecord(Stream.MESSAGES, "m-9", bad)], source="pull")
    row = RawEvent.objects.get(store=tshop, event_id="m-9")
    client = login(world.admin)
    page = client.get(_url("settings_store_quarantine", tshop)).content.decode()
    assert f'data-record="{row.pk}"' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    response = client.post(reverse("web:settings_quarantined_retry", args=[row.pk]), {"store_id": tshop.pk})
    assert response.status_code == 302 and response["Location"] == _url("settings_store_quarantine", tshop)
    assert RawEvent.objects.get(pk=row.pk).status == RawEventStatus.QUARANTINED  # still broken
    assert login(world.foreign_user).post(reverse("web:settings_quarantined_retry", args=[row.pk])).status_code == 404


def test_quarantine_is_paginated(world, login, tshop) -> None:
    records = [RawRecord(Stream.MESSAGES, f"m-{n}", {"id": f"m-{n}", "type": "martian"}) for n in range(30)]
    receive_records(store=tshop, records=records, source="pull")
    client = login(world.admin)
    first = client.get(_url("settings_store_quarantine", tshop)).content.decode()
    second = client.get(_url("settings_store_quarantine", tshop) + "?page=2").content.decode()
    assert first.count("data-record=") == 25 and second.count("data-record=") == 5


def test_needs_a_human_lists_paused_quarantined_and_writebacks_with_a_nav_badge(world, login, tshop) -> None:
    client = login(world.admin)
    empty = client.get(reverse("web:settings_attention")).content.decode()
    assert 'data-total="0"' in empty and "data-attention=" not in empty
    StoreSync.objects.update_or_create(
        store=tshop, defaults={"paused": True, "paused_reason": "invalid_grant: token revoked"}
    )
    receive_records(
        store=tshop, records=[RawRecord(Stream.MESSAGES, "x", {"id": "x", "type": "martian"})], source="pull"
    )
    WriteBack.objects.create(
        organization=world.org,
        store=tshop,
        kind="issue_refund",
        idempotency_key="k",
        status="failed",
        detail="refund refused",
        request={"ticket_id": world.ticket().pk},
    )
    page = client.get(reverse("web:settings_attention")).content.decode()
    assert 'data-total="3"' in page and "invalid_grant: token revoked" in page and "refund refused" in page
    assert reverse("web:ticket", args=[WriteBack.objects.get().request["ticket_id"]]) in page
    assert f'data-paused-store="{tshop.pk}"' in page and f'data-quarantined-store="{tshop.pk}"' in page
    assert 'data-attention="3"' in client.get(reverse("web:settings_stores")).content.decode()
    assert login(world.agent).get(reverse("web:settings_attention")).status_code == 403
    assert 'data-total="0"' in login(world.foreign_user).get(reverse("web:settings_attention")).content.decode()


# Wish is this module's example of a platform without a connector: unplugged for its tests.
_no_wish_connector = unplugged("wish")
