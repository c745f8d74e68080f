"""/api/v1/stores/{id}/sync..., /quarantine, /attention: a store's connection for its admins,
against the testshop fake (real HTTP on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from aftersales.accounts.models import TokenScope
from aftersales.accounts.services import api_token_create
from aftersales.catalog.models import Store
from aftersales.channels.base import RawRecord, Stream
from aftersales.channels.models import RawEvent, StoreSync, StreamCursor, SyncRun, WriteBack
from aftersales.channels.sync import receive_records
from aftersales.channels.tests import testshop
from aftersales.testing.connectors import unplugged
from aftersales.testing.factories import StoreFactory

from .helpers import ApiClient, assert_error

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


def test_creating_a_mailbox_checks_its_credentials_naming_the_field(world, as_user) -> None:
    admin = as_user(world.admin)
    base = {"name": "Mailbox", "platform": "email"}
    for credentials, field in [
        ({**MAILBOX, "imap_port": 70000}, "credentials.imap_port"),
        ({**MAILBOX, "imap_port": "993x"}, "credentials.imap_port"),
        ({**MAILBOX, "smtp_tls": "maybe"}, "credentials.smtp_tls"),
        ({**MAILBOX, "api_key": "x"}, "credentials.api_key"),
        ({"address": "support@example.com", "imap_host": "imap.example.com"}, "credentials.password"),
    ]:
        assert_error(admin.post("/stores", {**base, "credentials": credentials}), 422, field=field)
    assert not Store.objects.filter(name="Mailbox").exists()
    created = admin.post(
        "/stores", {**base, "credentials": {**MAILBOX, "imap_port": 993, "smtp_host": "smtp.example.com"}}
    )
    assert created.status_code == 201, created.content
    store_id = created.json()["id"]
    sync = admin.get(f"/stores/{store_id}/sync").json()
    fields = {f["name"]: f for f in sync["credential_fields"]}
    assert fields["password"] == {**fields["password"], "secret": True, "is_set": True, "value": None}
    assert fields["imap_port"]["value"] == 993 and fields["smtp_password"]["is_set"] is False
    assert b"pw-secret" not in admin.get(f"/stores/{store_id}/sync").content
    # A PATCH without the password keeps it.
    patched = admin.patch(
        f"/stores/{store_id}", {"credentials": {"address": "b@example.com", "imap_host": "imap.example.com"}}
    )
    assert patched.status_code == 200, patched.content
    assert Store.objects.get(pk=store_id).credentials == {**MAILBOX, "address": "b@example.com"}
    assert_error(
        admin.patch(f"/stores/{store_id}", {"credentials": {**MAILBOX, "smtp_port": -1}}),
        422,
        field="credentials.smtp_port",
    )


def test_sync_status_per_stream_and_capabilities(
    world, as_user, tshop, fake, django_capture_on_commit_callbacks
) -> None:
    admin = as_user(world.admin)
    fake.add("messages", {"id": "m-1", "type": "message", "body": "Hi", "sent_at": "2026-11-01T10:00:00+00:00",
                          "buyer": {"id": "b1"}, "conversation": "c1"})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):  # the Huey task runs immediately in tests
        queued = admin.post(f"/stores/{tshop.pk}/sync/run", {"stream": "messages"})
    assert queued.status_code == 202, queued.content
    assert queued.json() == {"queued": ["messages"]}
    body = admin.get(f"/stores/{tshop.pk}/sync").json()
    assert body["has_connector"] is True and body["paused"] is False
    caps = {c["capability"]: c["supported"] for c in body["capabilities"]}
    assert caps["test_connection"] is True and caps["pull_messages"] is True
    streams = {s["stream"]: s for s in body["streams"]}
    run = SyncRun.objects.get(store=tshop, stream="messages")
    assert streams["messages"]["last_run"]["id"] == run.pk and streams["messages"]["last_run"]["created"] == 1
    assert streams["messages"]["cursor"]
    token = StoreSync.objects.get(store=tshop).webhook_token
    assert body["webhook_url"] == "" or body["webhook_url"].endswith(f"/hooks/testshop/{token}")


def test_test_connection_pause_resume_and_backfill(world, as_user, tshop) -> None:
    admin = as_user(world.admin)
    checked = admin.post(f"/stores/{tshop.pk}/sync/test")
    assert checked.status_code == 200 and checked.json()["ok"] is True
    assert admin.get(f"/stores/{tshop.pk}/sync").json()["last_connection_check"]["ok"] is True
    paused = admin.post(f"/stores/{tshop.pk}/sync/pause", {"reason": "holiday"})
    assert paused.json()["paused"] is True and paused.json()["paused_reason"] == "holiday"
    assert_error(admin.post(f"/stores/{tshop.pk}/sync/run", {}), 409, code="paused")
    attention = admin.get("/attention").json()
    assert [s["store_id"] for s in attention["paused_stores"]] == [tshop.pk] and attention["total"] == 1
    assert admin.post(f"/stores/{tshop.pk}/sync/resume").json()["paused"] is False
    today = datetime.now(UTC).date()
    assert_error(
        admin.post(f"/stores/{tshop.pk}/sync/backfill", {"since": str(today + timedelta(days=2))}), 422, field="since"
    )
    assert_error(
        admin.post(f"/stores/{tshop.pk}/sync/backfill", {"since": str(today - timedelta(days=800))}), 422, field="since"
    )
    assert_error(admin.post(f"/stores/{tshop.pk}/sync/backfill", {"since": "yesterday"}), 422, field="since")
    assert_error(
        admin.post(f"/stores/{tshop.pk}/sync/backfill", {"since": str(today), "stream": "weather"}), 422, field="stream"
    )
    done = admin.post(f"/stores/{tshop.pk}/sync/backfill", {"since": str(today - timedelta(days=10))})
    assert done.status_code == 200 and done.json()["streams"] >= 1
    assert StreamCursor.objects.filter(store=tshop, backfill_since__isnull=False).count() == done.json()["streams"]


def test_a_store_without_connector_or_credentials_is_refused_before_any_call(world, as_user) -> None:
    admin = as_user(world.admin)
    wish = StoreFactory(organization=world.org, platform="wish", credentials={"k": "v"})
    assert admin.get(f"/stores/{wish.pk}/sync").json()["has_connector"] is False
    assert_error(admin.post(f"/stores/{wish.pk}/sync/test"), 409, code="no_connector")
    mailbox = StoreFactory(organization=world.org, platform="email", credentials={})
    assert_error(admin.post(f"/stores/{mailbox.pk}/sync/run", {}), 409, field="credentials")


def test_quarantine_listed_paginated_and_retried(world, as_user, tshop) -> None:
    admin = as_user(world.admin)
    bad = [
        RawRecord(Stream.MESSAGES, f"m-{n}", {"id": f"m-{n}", "type": "message", "sent_at": "2026-11-01T10:00:00+00:00",
                                               "buyer": {"id": "b1"}, "note": "<script>x</script>"})
        for n in range(3)
    ]  # fmt: skip
    receive_records(store=tshop, records=bad, source="pull")
    page = admin.get(f"/stores/{tshop.pk}/quarantine", {"limit": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert page["items"][0]["reason"] and page["items"][0]["payload"]["note"] == "<script>x</script>"
    rest = admin.get(f"/stores/{tshop.pk}/quarantine", {"limit": 2, "offset": 2}).json()
    assert len(rest["items"]) == 1
    assert_error(admin.get(f"/stores/{tshop.pk}/quarantine", {"limit": 0}), 422, field="limit")
    raw_id = rest["items"][0]["id"]
    again = admin.post(f"/quarantine/{raw_id}/retry")
    assert again.status_code == 200 and again.json()["action"] == "quarantined"
    assert admin.get("/attention").json()["quarantined"][0]["count"] == 3
    assert_error(as_user(world.foreign_user).post(f"/quarantine/{raw_id}/retry"), 404)
    assert_error(as_user(world.agent).post(f"/quarantine/{raw_id}/retry"), 403)
    RawEvent.objects.filter(pk=raw_id).update(status="processed")
    assert_error(admin.post(f"/quarantine/{raw_id}/retry"), 422, field="raw_event_id")


def test_other_organizations_and_non_admins_are_refused(world, as_user, tshop) -> None:
    foreign = as_user(world.foreign_user)
    for method, path in [
        ("get", f"/stores/{tshop.pk}/sync"),
        ("post", f"/stores/{tshop.pk}/sync/test"),
        ("post", f"/stores/{tshop.pk}/sync/resume"),
        ("get", f"/stores/{tshop.pk}/quarantine"),
    ]:
        assert_error(getattr(foreign, method)(path), 404)
        assert_error(getattr(as_user(world.agent), method)(path), 403)
    assert as_user(world.foreign_user).get("/attention").json()["total"] == 0
    assert_error(as_user(world.agent).get("/attention"), 403)


def test_tokens_need_the_admin_scope(world, tshop) -> None:
    _token, read_write = api_token_create(user=world.admin, name="rw", scopes=[TokenScope.READ, TokenScope.WRITE])
    _token, admin_scope = api_token_create(
        user=world.admin, name="adm", scopes=[TokenScope.READ, TokenScope.WRITE, TokenScope.ADMIN]
    )
    assert_error(ApiClient(token=read_write).get(f"/stores/{tshop.pk}/sync"), 403)
    assert ApiClient(token=admin_scope).get(f"/stores/{tshop.pk}/sync").status_code == 200
    assert ApiClient(token=admin_scope).post(f"/stores/{tshop.pk}/sync/pause", {}).json()["paused"] is True


def test_failed_writebacks_are_listed(world, as_user, tshop) -> None:
    WriteBack.objects.create(organization=world.org, store=tshop, kind="issue_refund", idempotency_key="r1",
                             status="unknown", detail="worker died")  # fmt: skip
    body = as_user(world.admin).get("/attention").json()
    assert body["writebacks"][0]["status"] == "unknown" and body["writebacks"][0]["store_name"] == "Test shop"


# Wish is this module's example of a platform without a connector: unplugged for its tests.
_no_wish_connector = unplugged("wish")
