"""The store-admin services and selectors (channels/store_sync.py, channels/selectors.py) and the
credentials schemas (channels/credentials.py), against the testshop fake (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aftersales.catalog.services import store_create, store_update
from aftersales.channels import registry
from aftersales.channels.base import RawRecord, Stream
from aftersales.channels.credentials import (
    PLATFORM_CREDENTIALS,
    check_platform_credentials,
    credentials_state,
    merge_kept_secrets,
)
from aftersales.channels.models import RawEvent, RawEventStatus, StoreSync, StreamCursor, SyncRun, WriteBack
from aftersales.channels.selectors import attention_count, attention_list, quarantined_records, store_connection
from aftersales.channels.store_sync import (
    quarantined_retry,
    store_backfill,
    store_connection_test,
    store_pause,
    store_resume,
    store_sync_now,
)
from aftersales.channels.sync import receive_records
from aftersales.channels.tests import testshop
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.testing.connectors import unplugged
from aftersales.testing.factories import StoreFactory

pytestmark = pytest.mark.django_db

EMAIL = {"address": "support@example.com", "imap_host": "imap.example.com", "password": "pw"}


@pytest.fixture
def tshop(world, fake, installed):  # type: ignore[no-untyped-def]
    """A testshop store of the world's organization, pointed at the running fake."""
    return StoreFactory(
        organization=world.org,
        name="Test shop",
        platform=testshop.PLATFORM,
        site="testshop",
        endpoint_url=fake.url,
        credentials={"token": testshop.TOKEN, "webhook_secret": testshop.WEBHOOK_SECRET},
    )


AMAZON = {"lwa_client_id": "a", "lwa_client_secret": "b", "refresh_token": "c"}
EBAY = {"client_id": "a", "client_secret": "b", "refresh_token": "c"}
SHOPIFY = {"shop": "x.myshopify.com", "access_token": "t"}


# --- credentials schema -------------------------------------------------------------------------


def test_every_installed_connector_declares_its_required_credentials_in_the_schema() -> None:
    for platform in ("email", "amazon", "ebay", "shopify"):
        assert platform in PLATFORM_CREDENTIALS
        if platform not in registry.available_platforms():
            continue  # not installed in this tree yet
        declared = getattr(registry.get_connector(platform), "credential_fields", ())
        fields = {f.name: f for f in PLATFORM_CREDENTIALS[platform]}
        for name in declared:
            assert name in fields and fields[name].required, (platform, name)


@pytest.mark.parametrize("platform", ["email", "amazon", "ebay", "shopify"])
def test_the_schema_has_every_key_the_connector_reads(platform) -> None:
    """Every `credentials.get("key")` / `credentials["key"]` / `creds.get("key")` in the connector's
    code (its fake and tests apart) is a declared field: nothing the connector needs is refused."""
    folder = Path(registry.__file__).parent / "connectors" / platform
    read: set[str] = set()
    for source in folder.glob("*.py"):
        if source.name != "fake.py":
            read |= set(re.findall(r'cred(?:entials|s)(?:\[|\.get\()"(\w+)"', source.read_text()))
    assert read, platform
    assert read <= {f.name for f in PLATFORM_CREDENTIALS[platform]}, read - {
        f.name for f in PLATFORM_CREDENTIALS[platform]
    }


@pytest.mark.parametrize(
    ("platform", "credentials", "field"),
    [
        ("email", {**EMAIL, "imap_port": 70000}, "credentials.imap_port"),
        ("email", {**EMAIL, "imap_port": "x"}, "credentials.imap_port"),
        ("email", {**EMAIL, "imap_port": True}, "credentials.imap_port"),
        ("email", {**EMAIL, "smtp_port": 0}, "credentials.smtp_port"),
        ("email", {**EMAIL, "address": "not-an-address"}, "credentials.address"),
        ("email", {**EMAIL, "imap_host": "imap://x:993"}, "credentials.imap_host"),
        ("email", {**EMAIL, "smtp_tls": "tls13"}, "credentials.smtp_tls"),
        ("email", {**EMAIL, "imap_ssl": "maybe"}, "credentials.imap_ssl"),
        ("email", {**EMAIL, "imap_ssl": True, "imap_starttls": True}, "credentials.imap_starttls"),
        ("email", {"imap_host": "imap.example.com", "password": "pw"}, "credentials.address"),
        ("email", {**EMAIL, "colour": "blue"}, "credentials.colour"),
        ("email", {**EMAIL, "password": 42}, "credentials.password"),
        ("email", {**EMAIL, "folders": [1, 2]}, "credentials.folders"),
        ("amazon", {"lwa_client_id": "a", "refresh_token": "c"}, "credentials.lwa_client_secret"),
        ("amazon", {**AMAZON, "sqs_queue_url": "ftp://x"}, "credentials.sqs_queue_url"),
        ("ebay", {**EBAY, "environment": "prod"}, "credentials.environment"),
        ("ebay", {**EBAY, "signing_key": {"jwe": "x"}}, "credentials.signing_key"),
        ("shopify", {"shop": "example.com", "access_token": "t"}, "credentials.shop"),
        ("shopify", {**SHOPIFY, "api_version": "latest"}, "credentials.api_version"),
    ],
)  # fmt: skip
def test_bad_credentials_name_the_field(platform, credentials, field) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_platform_credentials(platform, credentials)
    assert caught.value.field == field, caught.value.message


def test_good_credentials_are_normalised() -> None:
    typed = {"imap_port": "993", "imap_ssl": "on", "folders": "INBOX, Support", "smtp_tls": "STARTTLS", "username": " "}
    clean = check_platform_credentials("email", {**EMAIL, **typed})
    assert clean == {
        **EMAIL,
        "imap_port": 993,
        "imap_ssl": True,
        "folders": ["INBOX", "Support"],
        "smtp_tls": "starttls",
    }
    shop = check_platform_credentials("shopify", {"shop": "Demo.myshopify.com", "access_token": "shpat_1"})
    assert shop["shop"] == "demo.myshopify.com"
    assert check_platform_credentials("wish", {"anything": "goes"}) == {"anything": "goes"}  # no schema yet


def test_secrets_left_out_are_kept_and_shown_only_as_set() -> None:
    stored = {**EMAIL, "imap_port": 993, "access_token": "x"}
    merged = merge_kept_secrets("email", {"address": "support@example.com", "imap_host": "imap.example.com"}, stored)
    assert merged["password"] == "pw"
    states = {s.field.name: s for s in credentials_state("email", stored)}
    assert states["password"].is_set and states["password"].value is None
    assert states["imap_port"].value == 993 and not states["smtp_password"].is_set


def test_store_create_and_update_check_credentials_against_the_platform(world) -> None:
    with pytest.raises(ValidationFailed) as caught:
        store_create(user=world.admin, name="Mailbox", platform="email", credentials={**EMAIL, "imap_port": 99999})
    assert caught.value.field == "credentials.imap_port"
    store = store_create(user=world.admin, name="Mailbox", platform="email", credentials=EMAIL)
    # A PATCH without the password keeps it; the new port is stored as a number.
    store = store_update(
        user=world.admin,
        store_id=store.pk,
        changes={
            "credentials": {"address": "support@example.com", "imap_host": "imap.example.com", "imap_port": "143"}
        },
    )
    store.refresh_from_db()
    assert store.credentials == {**EMAIL, "imap_port": 143}
    # Switching the platform checks the stored credentials against the new one.
    with pytest.raises(ValidationFailed) as caught:
        store_update(user=world.admin, store_id=store.pk, changes={"platform": "shopify"})
    assert caught.value.field.startswith("credentials.")
    store_update(user=world.admin, store_id=store.pk, changes={"credentials": None})
    assert store_update(user=world.admin, store_id=store.pk, changes={"platform": "shopify"}).platform == "shopify"


# --- services -----------------------------------------------------------------------------------


def test_only_admins_of_the_organization_reach_a_store(world, tshop) -> None:
    with pytest.raises(PermissionDenied):
        store_connection(world.agent, tshop.pk)
    with pytest.raises(PermissionDenied):
        store_pause(user=world.agent, store_id=tshop.pk)
    with pytest.raises(NotFound):
        store_connection(world.foreign_user, tshop.pk)
    with pytest.raises(NotFound):
        store_backfill(user=world.foreign_user, store_id=tshop.pk, since=datetime.now(UTC).date())


def test_connection_test_calls_the_platform_and_notes_the_result(world, tshop, fake) -> None:
    result = store_connection_test(user=world.admin, store_id=tshop.pk)
    assert result.ok, result.detail
    assert fake.requests_to("/v1/me")
    assert store_connection(world.admin, tshop.pk).connection_check == result
    tshop.credentials = {"token": "wrong"}
    tshop.save()
    failed = store_connection_test(user=world.admin, store_id=tshop.pk)
    assert not failed.ok and failed.detail
    assert not StoreSync.objects.filter(store=tshop, paused=True).exists()  # a test never pauses


def test_no_connector_or_no_credentials_is_a_conflict_before_any_call(world, tshop) -> None:
    with pytest.raises(Conflict) as caught:
        store_connection_test(user=world.admin, store_id=world.store_us.pk)  # amazon, no credentials
    assert caught.value.field in ("credentials", "platform")
    wish = StoreFactory(organization=world.org, platform="wish", credentials={"k": "v"})
    with pytest.raises(Conflict) as caught:
        store_sync_now(user=world.admin, store_id=wish.pk)
    assert caught.value.code == "no_connector"
    mailbox = StoreFactory(organization=world.org, platform="email", credentials={"address": "a@example.com"})
    with pytest.raises(Conflict) as caught:
        store_connection_test(user=world.admin, store_id=mailbox.pk)
    assert caught.value.field == "credentials.imap_host"


def test_pause_resume_and_the_attention_list(world, tshop) -> None:
    sync = store_pause(user=world.admin, store_id=tshop.pk, reason="holiday")
    assert sync.paused and sync.paused_reason == "holiday" and sync.paused_by.startswith("user:")
    found = attention_list(world.admin)
    assert [s.store_id for s in found.paused] == [tshop.pk]
    assert attention_count(world.admin) == 1 and attention_count(world.agent) == 0
    assert attention_list(world.foreign_user).total == 0
    with pytest.raises(Conflict):
        store_sync_now(user=world.admin, store_id=tshop.pk)
    with pytest.raises(ValidationFailed) as caught:
        store_pause(user=world.admin, store_id=tshop.pk, reason="x" * 1001)
    assert caught.value.field == "reason"
    assert not store_resume(user=world.admin, store_id=tshop.pk).paused
    assert attention_count(world.admin) == 0


def test_backfill_is_validated_and_marks_the_cursors(world, tshop) -> None:
    today = datetime.now(UTC).date()
    with pytest.raises(ValidationFailed) as caught:
        store_backfill(user=world.admin, store_id=tshop.pk, since=today + timedelta(days=1))
    assert caught.value.field == "since"
    with pytest.raises(ValidationFailed) as caught:
        store_backfill(user=world.admin, store_id=tshop.pk, since=today - timedelta(days=731))
    assert caught.value.field == "since"
    with pytest.raises(ValidationFailed) as caught:
        store_backfill(user=world.admin, store_id=tshop.pk, since=today, stream="weather")
    assert caught.value.field == "stream"
    count = store_backfill(user=world.admin, store_id=tshop.pk, since=today - timedelta(days=30), stream="messages")
    assert count == 1
    cursor = StreamCursor.objects.get(store=tshop, stream="messages")
    assert cursor.backfill_since == datetime.combine(today - timedelta(days=30), datetime.min.time(), tzinfo=UTC)
    status = {s.stream: s for s in store_connection(world.admin, tshop.pk).streams}
    assert status["messages"].backfill_since == cursor.backfill_since


def test_shopify_backfill_is_limited_to_its_60_days(world) -> None:
    store = StoreFactory(organization=world.org, platform="shopify", credentials={})
    today = datetime.now(UTC).date()
    with pytest.raises(ValidationFailed) as caught:
        store_backfill(user=world.admin, store_id=store.pk, since=today - timedelta(days=61))
    assert caught.value.field == "since" and "60" in caught.value.message


def test_sync_now_runs_the_streams(world, tshop, fake, django_capture_on_commit_callbacks) -> None:
    fake.add("messages", {"id": "m-1", "type": "message", "body": "Hi", "sent_at": "2026-11-01T10:00:00+00:00",
                          "buyer": {"id": "b1"}, "conversation": "c1"})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        queued = store_sync_now(user=world.admin, store_id=tshop.pk, stream="messages")
    assert queued == ["messages"]
    run = SyncRun.objects.get(store=tshop, stream="messages")
    assert run.created == 1
    status = {s.stream: s for s in store_connection(world.admin, tshop.pk).streams}
    assert status["messages"].last_run == run


def test_quarantined_records_listed_and_retried(world, tshop, monkeypatch) -> None:
    bad = {"id": "m-2", "type": "message", "body": "", "sent_at": "2026-11-01T10:00:00+00:00", "buyer": {"id": "b1"}}
    (outcome,) = receive_records(store=tshop, records=[RawRecord(Stream.MESSAGES, "m-2", bad)], source="pull")
    assert outcome.action == "quarantined"
    rows = list(quarantined_records(world.admin, tshop.pk))
    assert [r.event_id for r in rows] == ["m-2"] and rows[0].reason
    assert store_connection(world.admin, tshop.pk).quarantined == 1
    assert attention_list(world.admin).quarantined[0].count == 1
    with pytest.raises(NotFound):
        quarantined_retry(user=world.foreign_user, raw_event_id=rows[0].pk)
    with pytest.raises(PermissionDenied):
        quarantined_retry(user=world.agent, raw_event_id=rows[0].pk)
    again = quarantined_retry(user=world.admin, raw_event_id=rows[0].pk)
    assert again.action == "quarantined"  # not fixed yet
    original = testshop.map_item
    monkeypatch.setattr(testshop, "map_item", lambda p: original({**p, "body": p.get("body") or "(empty)"}))
    fixed = quarantined_retry(user=world.admin, raw_event_id=rows[0].pk)
    assert fixed.action == "new_ticket"
    assert RawEvent.objects.get(pk=rows[0].pk).status == RawEventStatus.PROCESSED
    with pytest.raises(ValidationFailed):
        quarantined_retry(user=world.admin, raw_event_id=rows[0].pk)


def test_failed_and_unknown_writebacks_need_a_human(world, tshop) -> None:
    for n, status in enumerate(("failed", "unknown", "succeeded")):
        WriteBack.objects.create(
            organization=world.org, store=tshop, kind="send_message", idempotency_key=f"k{n}", status=status
        )
    found = attention_list(world.admin)
    assert sorted(w.status for w in found.writebacks) == ["failed", "unknown"]
    assert found.total == 2


def test_the_store_page_reads_capabilities_and_the_webhook_path(world, tshop) -> None:
    c = store_connection(world.admin, tshop.pk)
    assert c.has_connector and c.supports("test_connection")
    token = StoreSync.objects.get(store=tshop).webhook_token
    assert c.webhook_path in ("", f"/hooks/testshop/{token}")
    none = store_connection(world.admin, StoreFactory(organization=world.org, platform="wish").pk)
    assert not none.has_connector and not none.streams and not none.credentials


# Wish is this module's example of a platform without a connector: unplugged for its tests.
_no_wish_connector = unplugged("wish")
