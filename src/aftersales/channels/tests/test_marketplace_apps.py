"""The organization's marketplace apps (channels/marketplace_apps.py): one developer app per
platform, typed once (Settings > Marketplace apps, `PUT /api/v1/marketplace-apps/{platform}`),
which every store of the platform connects through. Checked per platform (4xx naming the key,
nothing saved), encrypted, secrets never returned (set + fingerprint), rotated; the consent flow of
each platform reads the app's keys against its local fake, the store keeping only its tokens; the
data migration moves agreeing per-store keys into the app and leaves disagreeing stores alone."""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client
from django.urls import reverse

from aftersales.api.tests.helpers import ApiClient, assert_error
from aftersales.catalog.models import Store
from aftersales.channels.context import store_context
from aftersales.channels.marketplace_apps import effective_credentials, fingerprint
from aftersales.channels.models import MarketplaceApp, StoreAuthorization
from aftersales.channels.registry import get_connector
from aftersales.channels.tests import test_authorization as consent
from aftersales.testing.factories import StoreFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("aftersales.channels.migrations.0012_marketplaceapp")

# The app's keys under the app's field names (eBay's environment is the app's, Shopify's shop is
# the store's: it names the shop, not the app).
APP_PLATFORM = {"shopee": "shopee", "tiktok": "tiktok", "aliexpress": "aliexpress", "wish": "wish"}
APP_PLATFORM.update({"amazon": "amazon", "ebay": "ebay", "shopify": "shopify"})


@pytest.fixture(autouse=True)
def site(settings: Any) -> None:
    settings.SITE_URL = "http://testserver"


def _store(**values: Any) -> Any:
    return StoreFactory(**values)


def _api(world: Any) -> ApiClient:
    return ApiClient(user=world.admin)


def test_register_an_app_secrets_are_never_returned(world: Any) -> None:
    api = _api(world)
    answer = api.request(
        "PUT",
        "/marketplace-apps/shopee",
        {"environment": "sandbox", "credentials": {"partner_id": "2001", "partner_key": "shpk-secret-value"}},
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert "shpk-secret-value" not in answer.content.decode()
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["partner_id"]["value"] == "2001"
    assert fields["partner_key"] == {
        "name": "partner_key",
        "label": "Partner key",
        "secret": True,
        "required": True,
        "is_set": True,
        "value": None,
        "fingerprint": hashlib.sha256(b"shpk-secret-value").hexdigest()[:8],
    }
    assert body["environment"] == "sandbox" and body["configured"] is True
    assert body["redirect_uri"] == "http://testserver/settings/stores/authorization/callback/"
    # Encrypted at rest: the column holds a Fernet token, not the key.
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM channels_marketplaceapp")
        (raw,) = cursor.fetchone()
    assert raw.startswith("gAAAA") and "shpk" not in raw
    listed = api.request("GET", "/marketplace-apps").json()["apps"]
    assert [a["platform"] for a in listed] == [
        "shopify",
        "ebay",
        "amazon",
        "shopee",
        "tiktok",
        "aliexpress",
        "wish",
        "meta",
    ]
    assert "shpk-secret-value" not in json.dumps(listed)
    meta = next(a for a in listed if a["platform"] == "meta")
    assert meta["configured"] is False and meta["redirect_uri"] == ""  # no consent page: webhooks only


@pytest.mark.parametrize(
    ("platform", "credentials", "field", "words"),
    [
        ("shopee", {"partner_id": "abc", "partner_key": "k"}, "credentials.partner_id", "must be a number"),
        ("shopee", {"partner_id": "1"}, "credentials.partner_key", "required for the Shopee app"),
        ("ebay", {"client_id": "a", "ru_name": "r"}, "credentials.client_secret", "required"),
        (
            "amazon",
            {"lwa_client_id": "a", "lwa_client_secret": "b", "draft_app": "maybe"},
            "credentials.draft_app",
            "true or false",
        ),
        ("tiktok", {"app_key": "a", "app_secret": "b", "shop_cipher": "c"}, "credentials.shop_cipher", "unknown"),
        ("wish", {"client_id": "a\nb", "client_secret": "b"}, "credentials.client_id", "one line"),
        ("meta", {"app_id": "1"}, "credentials.app_secret", "required"),
        ("shopify", {"client_id": "a", "client_secret": "x" * 201}, "credentials.client_secret", "at most"),
    ],
)
def test_bad_keys_are_refused_naming_the_field_nothing_saved(
    world: Any, platform: str, credentials: dict[str, str], field: str, words: str
) -> None:
    answer = _api(world).request("PUT", f"/marketplace-apps/{platform}", {"credentials": credentials})
    error = assert_error(answer, 422, field=field)
    assert words in error["message"], error
    assert not MarketplaceApp.objects.exists()


def test_unknown_platform_and_environment_are_refused(world: Any) -> None:
    api = _api(world)
    answer = api.request("PUT", "/marketplace-apps/etsy", {"credentials": {"a": "b"}})
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "platform"
    answer = api.request(
        "PUT",
        "/marketplace-apps/wish",
        {"environment": "staging", "credentials": {"client_id": "a", "client_secret": "b"}},
    )
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "environment"
    assert not MarketplaceApp.objects.exists()


def test_rotation_keeps_secrets_left_empty_and_shopify_keeps_the_previous_secret(world: Any) -> None:
    api = _api(world)
    api.request("PUT", "/marketplace-apps/shopify", {"credentials": {"client_id": "cid", "client_secret": "one"}})
    row = MarketplaceApp.objects.get()
    assert row.rotated_at is None
    # A change of the client id only: the secret left out is kept.
    kept = api.request("PUT", "/marketplace-apps/shopify", {"credentials": {"client_id": "cid2", "client_secret": ""}})
    assert kept.status_code == 200
    row.refresh_from_db()
    assert row.credentials == {"client_id": "cid2", "client_secret": "one"} and row.rotated_at is None
    rotated = api.request(
        "PUT", "/marketplace-apps/shopify", {"credentials": {"client_id": "cid2", "client_secret": "two"}}
    )
    assert rotated.json()["previous_secret_kept"] is True
    row.refresh_from_db()
    assert row.credentials == {"client_id": "cid2", "client_secret": "two", "old_client_secret": "one"}
    assert row.rotated_at is not None
    dropped = api.request(
        "PUT",
        "/marketplace-apps/shopify",
        {"credentials": {"client_id": "cid2"}, "drop_previous_secret": True},
    )
    assert dropped.json()["previous_secret_kept"] is False
    row.refresh_from_db()
    assert row.credentials == {"client_id": "cid2", "client_secret": "two"}


def test_only_admins_and_only_their_organization(world: Any) -> None:
    assert ApiClient(user=world.agent).request("GET", "/marketplace-apps").status_code == 403
    put = ApiClient(user=world.agent).request(
        "PUT", "/marketplace-apps/wish", {"credentials": {"client_id": "a", "client_secret": "b"}}
    )
    assert put.status_code == 403 and not MarketplaceApp.objects.exists()
    _api(world).request("PUT", "/marketplace-apps/wish", {"credentials": {"client_id": "a", "client_secret": "b"}})
    foreign = ApiClient(user=world.foreign_user).request("GET", "/marketplace-apps").json()["apps"]
    assert not next(a for a in foreign if a["platform"] == "wish")["configured"]


def test_a_store_reads_the_app_and_a_rotation_reaches_it_a_store_with_its_own_keys_keeps_them(world: Any) -> None:
    _api(world).request(
        "PUT",
        "/marketplace-apps/ebay",
        {"environment": "sandbox", "credentials": {"client_id": "A", "client_secret": "S1", "ru_name": "R"}},
    )
    reading = _store(organization=world.org, platform="ebay", site="ebay.de", credentials={"refresh_token": "t"})
    own = _store(
        organization=world.org,
        platform="ebay",
        site="ebay.com",
        credentials={"client_id": "B", "client_secret": "OWN", "refresh_token": "u"},
    )
    assert store_context(reading).credentials == {
        "client_id": "A",
        "client_secret": "S1",
        "ru_name": "R",
        "environment": "sandbox",
        "refresh_token": "t",
    }
    assert store_context(own).credentials == {"client_id": "B", "client_secret": "OWN", "refresh_token": "u"}
    _api(world).request(
        "PUT", "/marketplace-apps/ebay", {"credentials": {"client_id": "A", "client_secret": "S2", "ru_name": "R"}}
    )
    assert effective_credentials(reading)["client_secret"] == "S2"
    assert effective_credentials(reading)["environment"] == "production"
    assert "client_secret" not in Store.objects.get(pk=reading.pk).credentials  # no copy on the store
    # Removing the app is refused while an active store reads it.
    refused = _api(world).request("DELETE", "/marketplace-apps/ebay")
    assert refused.status_code == 409 and refused.json()["error"]["field"] == "platform"
    assert MarketplaceApp.objects.filter(platform="ebay").exists()


def test_a_store_is_created_without_the_app_keys_once_the_app_is_registered(world: Any) -> None:
    api = _api(world)
    body = {"name": "Shopee MY", "platform": "shopee", "site": "shopee.my", "credentials": {"dispute_email": "a@b.cd"}}
    before = api.request("POST", "/stores", body)
    assert before.status_code == 422 and before.json()["error"]["field"] == "credentials.partner_id"
    api.request("PUT", "/marketplace-apps/shopee", {"credentials": {"partner_id": "7", "partner_key": "k"}})
    after = api.request("POST", "/stores", body)
    assert after.status_code in (200, 201), after.content
    page = Client()
    page.force_login(world.admin)
    html = page.get(reverse("web:settings_store_connection", args=[after.json()["id"]])).content.decode()
    assert 'data-from-app="partner_id"' in html and 'data-from-app="partner_key"' in html
    assert 'name="partner_key"' not in html


def _connect_through_the_app(world: Any, name: str) -> Iterator[consent.Connecting]:
    platform = consent.PLATFORMS[name]
    fake = platform.make()
    codes = platform.install(fake)
    with fake.running():
        keys = platform.app_keys(fake)
        shop = keys.pop("shop", None)
        environment = "sandbox" if name == "ebay" else "production"
        answer = _api(world).request(
            "PUT", f"/marketplace-apps/{APP_PLATFORM[name]}", {"environment": environment, "credentials": keys}
        )
        assert answer.status_code == 200, answer.content
        store: Any = _store(
            organization=world.org,
            platform=name,
            site=platform.site,
            credentials={"shop": shop} if shop else {},
            endpoint_url=fake.url,
        )
        yield consent.Connecting(platform, fake, codes, store)


@pytest.fixture(params=sorted(consent.PLATFORMS))
def through_app(request: Any, world: Any) -> Iterator[consent.Connecting]:
    yield from _connect_through_the_app(world, request.param)


def test_every_consent_flow_reads_the_organizations_app(
    world: Any, through_app: consent.Connecting, django_capture_on_commit_callbacks: Any
) -> None:
    """The store holds no app key: Connect sends the admin to the platform with the app's keys,
    the code is traded with them (the fake checks them), only the tokens land on the store, and
    the connector works with app + tokens."""
    c = through_app
    client = consent._admin(world)
    callback = consent._consent(client, c)
    with django_capture_on_commit_callbacks(execute=False):
        done = client.get(callback)
    assert done.status_code == 302, done.content
    assert StoreAuthorization.objects.get(store=c.store).outcome == "connected"
    c.store.refresh_from_db()
    app = MarketplaceApp.objects.get(organization=world.org)
    stored = c.store.credentials
    assert stored.get("access_token") or stored.get("refresh_token")
    assert not set(app.credentials) & set(stored)  # no app key copied onto the store
    connector: Any = get_connector(c.platform.name)
    check = connector.test_connection(store_context(c.store, connector=connector))
    assert check.ok, check.detail


def test_connect_without_an_app_points_to_marketplace_apps(world: Any) -> None:
    fake = consent.PLATFORMS["wish"].make()
    with fake.running():
        store = _store(organization=world.org, platform="wish", site="wish.com", credentials={}, endpoint_url=fake.url)
        client = consent._admin(world)
        page = client.get(reverse("web:settings_store_connection", args=[store.pk])).content.decode()
        assert "data-missing-app-fields" in page and reverse("web:settings_marketplace_apps") in page
        refused = client.post(reverse("web:settings_store_authorize", args=[store.pk]))
        assert refused.status_code == 409
        assert "Marketplace apps" in refused.content.decode()
        assert not fake.requests_to("/api/v3/oauth/access_token")  # nothing was asked of Wish
        assert not StoreAuthorization.objects.filter(store=store).exists()


def test_the_data_migration_moves_agreeing_keys_into_the_app(world: Any) -> None:
    agree = [
        _store(
            organization=world.org,
            platform="shopee",
            name=f"Shopee {n}",
            credentials={
                "partner_id": "42",
                "partner_key": "same",
                "environment": "test",
                "shop_id": str(n),
                "refresh_token": f"r{n}",
            },
        )
        for n in (1, 2)
    ]
    differ = [
        _store(
            organization=world.org,
            platform="shopify",
            name=f"Shopify {n}",
            credentials={"shop": f"s{n}.myshopify.com", "client_id": f"c{n}", "client_secret": f"x{n}"},
        )
        for n in (1, 2)
    ]
    mailbox = _store(organization=world.org, platform="email", credentials={"address": "a@b.cd"})
    migration.forwards(django_apps, None)
    app = MarketplaceApp.objects.get(organization=world.org)
    assert (app.platform, app.environment, app.credentials) == (
        "shopee",
        "sandbox",
        {"partner_id": "42", "partner_key": "same"},
    )
    for n, store in zip((1, 2), agree, strict=True):
        store.refresh_from_db()
        assert store.credentials == {"shop_id": str(n), "refresh_token": f"r{n}"}
        assert effective_credentials(store) == {
            "partner_id": "42",
            "partner_key": "same",
            "environment": "test",
            "shop_id": str(n),
            "refresh_token": f"r{n}",
        }
    for n, store in zip((1, 2), differ, strict=True):
        store.refresh_from_db()
        assert store.credentials["client_secret"] == f"x{n}"  # two custom apps: each keeps its own
    mailbox.refresh_from_db()
    assert mailbox.credentials == {"address": "a@b.cd"}
    migration.forwards(django_apps, None)  # again: nothing changes
    assert MarketplaceApp.objects.count() == 1
    migration.backwards(django_apps, None)
    agree[0].refresh_from_db()
    assert agree[0].credentials["partner_key"] == "same" and agree[0].credentials["environment"] == "test"


def test_the_settings_page_registers_shows_fingerprints_and_names_the_refused_field(world: Any) -> None:
    client = Client()
    client.force_login(world.admin)
    url = reverse("web:settings_marketplace_apps")
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-app="tiktok" data-configured="no"' in page.content.decode()
    bad = client.post(
        reverse("web:settings_marketplace_app", args=["tiktok"]), {"app_key": "k\u0000", "app_secret": "s"}
    )
    assert bad.status_code == 422
    assert 'data-error="credentials.app_key"' in bad.content.decode()
    assert not MarketplaceApp.objects.exists()
    saved = client.post(
        reverse("web:settings_marketplace_app", args=["tiktok"]),
        {"environment": "production", "app_key": "ttk", "app_secret": "tts-secret"},
    )
    assert saved.status_code == 302
    html = client.get(url).content.decode()
    assert 'data-app="tiktok" data-configured="yes"' in html
    assert fingerprint("tts-secret") in html and "tts-secret" not in html
    assert 'value="ttk"' in html
    assert client.post(reverse("web:settings_marketplace_app_delete", args=["tiktok"])).status_code == 302
    assert not MarketplaceApp.objects.exists()


def test_key_rotation_re_encrypts_the_apps(world: Any, settings: Any) -> None:
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    MarketplaceApp.objects.create(
        organization=world.org, platform="wish", credentials={"client_id": "a", "client_secret": "b"}
    )
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_credentials", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key can be dropped
    assert MarketplaceApp.objects.get().credentials == {"client_id": "a", "client_secret": "b"}
