"""Connecting a store through its platform's consent page, over real HTTP against the local fakes
(channels/authorization.py, connectors/<platform>/auth.py and fake_auth.py): the admin's round
trip (store page -> the platform's consent page -> our callback), the exact exchange request each
platform received, the tokens saved encrypted and working, and every forged, replayed, expired or
foreign callback refused with a 400 naming the parameter, nothing saved."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from aftersales.catalog.models import Store
from aftersales.channels.authorization import REDIRECT_PATH, redirect_uri
from aftersales.channels.connectors.aliexpress import fake_auth as aliexpress_auth
from aftersales.channels.connectors.aliexpress.fake import AliExpressFake
from aftersales.channels.connectors.amazon import fake_auth as amazon_auth
from aftersales.channels.connectors.amazon.fake import AmazonFake
from aftersales.channels.connectors.ebay import fake_auth as ebay_auth
from aftersales.channels.connectors.ebay.fake import EbayFake
from aftersales.channels.connectors.shopee import fake_auth as shopee_auth
from aftersales.channels.connectors.shopee.client import sign as shopee_sign
from aftersales.channels.connectors.shopee.fake import ShopeeFake
from aftersales.channels.connectors.shopify import fake_auth as shopify_auth
from aftersales.channels.connectors.shopify.auth import query_hmac
from aftersales.channels.connectors.shopify.fake import ShopifyFake
from aftersales.channels.connectors.tiktok import fake_auth as tiktok_auth
from aftersales.channels.connectors.tiktok.fake import TikTokFake
from aftersales.channels.connectors.wish import fake_auth as wish_auth
from aftersales.channels.connectors.wish.fake import WishFake
from aftersales.channels.models import StoreAuthorization, StoreSync
from aftersales.channels.registry import get_connector
from aftersales.channels.sync import store_context
from aftersales.testing.factories import StoreFactory
from aftersales.testing.fake_consent import ConsentCodes
from aftersales.testing.fake_platform import FakePlatform


@dataclass
class Platform:
    name: str
    site: str
    make: Callable[[], FakePlatform]
    install: Callable[[Any], ConsentCodes]
    app_keys: Callable[[Any], dict[str, str]]
    grant_path: str
    shop: Callable[[Any], str] = lambda fake: ""


PLATFORMS = {
    "shopee": Platform(
        "shopee",
        "shopee.sg",
        ShopeeFake,
        shopee_auth.install,
        lambda f: {"partner_id": str(f.partner_id), "partner_key": f.partner_key},
        "/api/v2/auth/token/get",
    ),
    "tiktok": Platform(
        "tiktok",
        "tiktok.us",
        TikTokFake,
        lambda f: tiktok_auth.install(f, redirect_uri=redirect_uri()),
        lambda f: {"app_key": f.app_key, "app_secret": f.app_secret},
        "/api/v2/token/get",
    ),
    "aliexpress": Platform(
        "aliexpress",
        "aliexpress.com",
        AliExpressFake,
        aliexpress_auth.install,
        lambda f: {"app_key": f.app_key, "app_secret": f.app_secret},
        "/rest/auth/token/create",
    ),
    "wish": Platform(
        "wish",
        "wish.com",
        WishFake,
        lambda f: wish_auth.install(f, redirect_uri=redirect_uri()),
        lambda f: {"client_id": f.client_id, "client_secret": f.client_secret},
        "/api/v3/oauth/access_token",
    ),
    "amazon": Platform(
        "amazon",
        "amazon.com",
        AmazonFake,
        lambda f: amazon_auth.install(f, redirect_uri=redirect_uri()),
        lambda f: {
            "lwa_client_id": f.client_id,
            "lwa_client_secret": f.client_secret,
            "application_id": amazon_auth.APPLICATION_ID,
        },
        "/auth/o2/token",
    ),
    "ebay": Platform(
        "ebay",
        "ebay.com",
        EbayFake,
        lambda f: ebay_auth.install(f, accept_url=redirect_uri()),
        lambda f: {"client_id": f.client_id, "client_secret": f.client_secret, "ru_name": ebay_auth.RU_NAME},
        "/identity/v1/oauth2/token",
    ),
    "shopify": Platform(
        "shopify",
        "",
        ShopifyFake,
        shopify_auth.install,
        lambda f: {"shop": f.shop, "client_id": f.client_id, "client_secret": f.client_secret},
        "/admin/oauth/access_token",
        shop=lambda f: f.shop,
    ),
}


@dataclass
class Connecting:
    platform: Platform
    fake: Any
    codes: ConsentCodes
    store: Store


@pytest.fixture(autouse=True)
def site(settings: Any) -> None:
    settings.SITE_URL = "http://testserver"


def _setup(world: Any, name: str) -> Iterator[Connecting]:
    platform = PLATFORMS[name]
    fake = platform.make()
    codes = platform.install(fake)
    with fake.running():
        store: Any = StoreFactory(
            organization=world.org,
            platform=name,
            site=platform.site,
            credentials=platform.app_keys(fake),
            endpoint_url=fake.url,
        )
        yield Connecting(platform, fake, codes, store)


@pytest.fixture(params=sorted(PLATFORMS))
def connecting(request: Any, world: Any) -> Iterator[Connecting]:
    yield from _setup(world, request.param)


@pytest.fixture
def shopee(world: Any) -> Iterator[Connecting]:
    yield from _setup(world, "shopee")


@pytest.fixture
def shopify(world: Any) -> Iterator[Connecting]:
    yield from _setup(world, "shopify")


def _consent(client: Client, c: Connecting) -> str:
    """Connect -> the platform's consent page (which approves at once) -> our callback's URL."""
    started = client.post(reverse("web:settings_store_authorize", args=[c.store.pk]), {"shop": c.platform.shop(c.fake)})
    assert started.status_code == 302, started.content
    assert started["Location"].startswith(c.fake.url)
    consent = httpx.get(started["Location"], follow_redirects=False)
    assert consent.status_code == 302, consent.text
    back = urlsplit(consent.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == redirect_uri()
    assert back.path == REDIRECT_PATH == reverse("web:store_authorization_callback")
    return f"{back.path}?{back.query}"


def _admin(world: Any) -> Client:
    client = Client()
    client.force_login(world.admin)
    return client


def _refused(response: Any, field: str, words: str) -> None:
    assert response.status_code == 400, response.content
    assert words in response.content.decode()
    assert field


def test_the_store_page_offers_connect_and_the_round_trip_connects_the_store(
    world: Any, connecting: Connecting, django_capture_on_commit_callbacks: Any
) -> None:
    c = connecting
    client = _admin(world)
    page = client.get(reverse("web:settings_store_connection", args=[c.store.pk]))
    html = page.content.decode()
    assert 'data-authorization="not-connected"' in html
    assert "http://testserver" + REDIRECT_PATH in html
    assert c.fake.url in page["Content-Security-Policy"]  # the form may be redirected to the platform
    callback = _consent(client, c)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        done = client.get(callback)
    assert done.status_code == 302, done.content
    assert (
        done["Location"].endswith(f"/settings/stores/{c.store.pk}/connection/#authorization")
        or "#authorization" in (done["Location"])
    )
    assert len(callbacks) == 1  # the first sync, queued after commit
    assert len(c.fake.requests_to(c.platform.grant_path)) == 1  # the code traded once
    c.store.refresh_from_db()
    creds = c.store.credentials
    assert creds["access_token"]
    row = StoreAuthorization.objects.get(store=c.store)
    assert row.outcome == "connected" and row.used_at is not None
    # The tokens work: the connector's own connection test passes against the fake.
    connector: Any = get_connector(c.platform.name)
    check = connector.test_connection(store_context(c.store, connector=connector))
    assert check.ok, check.detail
    page = client.get(reverse("web:settings_store_connection", args=[c.store.pk]))
    assert 'data-authorization="connected"' in page.content.decode()
    # The same callback again: refused, nothing changes (the connection test may have renewed the
    # access token: compare with the credentials as they are now).
    c.store.refresh_from_db()
    creds = dict(c.store.credentials)
    calls = len(c.fake.requests_to(c.platform.grant_path))
    again = client.get(callback)
    _refused(again, "state", "already used")
    c.store.refresh_from_db()
    assert c.store.credentials == creds
    assert len(c.fake.requests_to(c.platform.grant_path)) == calls  # the replay called nothing


def test_after_a_shopify_install_the_granted_scopes_are_read_and_gaps_shown(
    world: Any, shopify: Connecting, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    c = shopify
    c.fake.granted_scopes = ["read_orders", "read_returns", "write_orders"]  # the merchant narrowed it
    client = _admin(world)
    callback = _consent(client, c)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert client.get(callback).status_code == 302
    queued: list[tuple[int, str]] = []
    monkeypatch.setattr("aftersales.channels.tasks.sync_store_stream", lambda *args: queued.append(args))
    callbacks[0]()  # after commit: the grant read, then the first sync queued
    assert StoreSync.objects.get(store=c.store).granted_scopes == ["read_orders", "read_returns", "write_orders"]
    assert "currentAppInstallation" in c.fake.graphql_calls[-1]["query"]
    assert queued and all(store_id == c.store.pk for store_id, _stream in queued)
    html = client.get(reverse("web:settings_store_connection", args=[c.store.pk])).content.decode()
    assert 'data-scope-gap="decide_return"' in html and 'data-scope-gap="issue_refund"' not in html


def test_shopee_signs_the_auth_link_and_token_get_exactly(world: Any, shopee: Connecting) -> None:
    c, fake = shopee, shopee.fake
    client = _admin(world)
    started = client.post(reverse("web:settings_store_authorize", args=[c.store.pk]))
    link = urlsplit(started["Location"])
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert link.path == "/api/v2/shop/auth_partner"
    assert set(query) == {"partner_id", "timestamp", "sign", "redirect"}
    expected = shopee_sign(fake.partner_key, fake.partner_id, "/api/v2/shop/auth_partner", int(query["timestamp"]))
    assert query["sign"] == expected
    assert query["redirect"].startswith("http://testserver" + REDIRECT_PATH + "?state=")
    consent = httpx.get(started["Location"], follow_redirects=False)
    back = urlsplit(consent.headers["location"])
    params = parse_qs(back.query)
    assert set(params) == {"state", "code", "shop_id"}
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    (grant,) = fake.requests_to("/api/v2/auth/token/get")
    assert grant.method == "POST"
    stamp = int(grant.arg("timestamp") or "")
    assert grant.arg("sign") == shopee_sign(fake.partner_key, fake.partner_id, "/api/v2/auth/token/get", stamp)
    assert grant.json() == {"code": params["code"][0], "shop_id": fake.shop_id, "partner_id": fake.partner_id}
    c.store.refresh_from_db()
    assert c.store.credentials["shop_id"] == str(fake.shop_id)
    assert c.store.credentials["refresh_token"] == fake.refresh_token
    assert c.store.external_id == str(fake.shop_id)


def test_shopee_callbacks_missing_or_malformed_parameters_are_refused_by_name(world: Any, shopee: Connecting) -> None:
    client = _admin(world)
    callback = _consent(client, shopee)
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    for changed, field in (
        ({"shop_id": ""}, "shop_id"),
        ({"shop_id": "12a"}, "shop_id"),
        ({"code": "a b"}, "code"),
        ({"code": ""}, "code"),
    ):
        answer = client.get(REDIRECT_PATH + "?" + urlencode({**query, **changed}))
        assert answer.status_code == 400, (changed, answer.content)
        assert field in answer.content.decode()
    assert not shopee.fake.requests_to("/api/v2/auth/token/get")  # nothing was called
    # The state was not spent by the refused callbacks: the genuine one still connects.
    assert client.get(callback).status_code == 302


def test_forged_expired_foreign_and_other_session_states_are_refused(world: Any, shopee: Connecting) -> None:
    client = _admin(world)
    callback = _consent(client, shopee)
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    forged = {**query, "state": query["state"][:-2] + ("AA" if not query["state"].endswith("AA") else "BB")}
    _refused(client.get(REDIRECT_PATH + "?" + urlencode(forged)), "state", "not one this site issued")
    _refused(client.get(REDIRECT_PATH + "?" + urlencode({**query, "state": ""})), "state", "missing")
    # The same admin in another browser session, and another organization's admin.
    other = Client()
    other.force_login(world.admin)
    _refused(other.get(callback), "state", "another session")
    foreign = Client()
    foreign.force_login(world.foreign_user)
    answer = foreign.get(callback)
    assert answer.status_code in (400, 403)
    # An agent may not finish it at all.
    agent = Client()
    agent.force_login(world.agent)
    assert agent.get(callback).status_code == 403
    # Expired.
    StoreAuthorization.objects.update(expires_at=StoreAuthorization.objects.get().created_at - timedelta(seconds=1))
    _refused(client.get(callback), "state", "expired")
    shopee.store.refresh_from_db()
    assert "access_token" not in shopee.store.credentials
    assert not shopee.fake.requests_to("/api/v2/auth/token/get")


def test_the_platform_refusing_consent_or_the_code_is_shown_and_saves_nothing(world: Any, shopee: Connecting) -> None:
    client = _admin(world)
    shopee.codes.denied = True
    callback = _consent(client, shopee)
    _refused(client.get(callback), "error", "did not authorise")
    assert StoreAuthorization.objects.get().outcome == "refused"
    shopee.codes.denied = False
    # A code the platform does not know (a stale one): 409 with the platform's words.
    callback = _consent(client, shopee)
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    answer = client.get(REDIRECT_PATH + "?" + urlencode({**query, "code": "0123456789abcdef"}))
    assert answer.status_code == 409
    assert "Invalid code" in answer.content.decode()
    shopee.store.refresh_from_db()
    assert "refresh_token" not in shopee.store.credentials
    page = client.get(reverse("web:settings_store_connection", args=[shopee.store.pk]))
    assert "data-last-refused" in page.content.decode()


def test_shopify_install_checks_the_shop_the_hmac_and_asks_an_offline_token(world: Any, shopify: Connecting) -> None:
    c, fake = shopify, shopify.fake
    client = _admin(world)
    for bad in ("evil.example.com", "https://x.myshopify.com", "x.myshopify.com.evil.com", "x.myshopify.com/admin"):
        answer = client.post(reverse("web:settings_store_authorize", args=[c.store.pk]), {"shop": bad})
        assert answer.status_code == 422, bad
        assert 'data-error="shop"' in answer.content.decode()
    started = client.post(reverse("web:settings_store_authorize", args=[c.store.pk]), {"shop": fake.shop})
    link = urlsplit(started["Location"])
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert link.path == "/admin/oauth/authorize"
    assert set(query) == {"client_id", "scope", "redirect_uri", "state"}
    assert query["scope"] == (
        "read_orders,write_orders,read_returns,write_returns,read_fulfillments,read_customers,"
        "write_merchant_managed_fulfillment_orders,write_third_party_fulfillment_orders"
    )  # mark shipped's fulfilment-order scopes (an order management app's, per the Admin schema)
    assert query["redirect_uri"] == "http://testserver" + REDIRECT_PATH
    assert "grant_options[]" not in query  # offline access
    back = urlsplit(httpx.get(started["Location"], follow_redirects=False).headers["location"])
    params = {k: v[0] for k, v in parse_qs(back.query).items()}
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    # A tampered parameter breaks the HMAC; a re-signed one for another shop is not this install's.
    _refused(client.get(REDIRECT_PATH + "?" + urlencode({**params, "code": "forged1"})), "hmac", "hmac")
    other = {**params, "shop": "other-shop.myshopify.com"}
    other["hmac"] = query_hmac(fake.client_secret, {k: v for k, v in other.items() if k != "hmac"})
    _refused(client.get(REDIRECT_PATH + "?" + urlencode(other)), "shop", "not the shop")
    stale = {**params, "timestamp": str(int(params["timestamp"]) - 7200)}
    stale["hmac"] = query_hmac(fake.client_secret, {k: v for k, v in stale.items() if k != "hmac"})
    _refused(client.get(REDIRECT_PATH + "?" + urlencode(stale)), "timestamp", "timestamp")
    assert not [r for r in fake.requests_to("/admin/oauth/access_token") if b'"code"' in r.body]
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    (grant,) = [r for r in fake.requests_to("/admin/oauth/access_token") if b'"code"' in r.body]
    assert grant.json() == {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "code": params["code"],
        "expiring": 1,
    }
    c.store.refresh_from_db()
    creds = c.store.credentials
    assert creds["access_token"] == fake.access_token and creds["refresh_token"] == fake.refresh_token
    assert creds["access_token_expires_at"]


def test_connect_needs_the_app_keys_and_a_platform_with_a_consent_page(world: Any, shopee: Connecting) -> None:
    client = _admin(world)
    store: Any = StoreFactory(organization=world.org, platform="shopee", site="shopee.sg", credentials={})
    answer = client.post(reverse("web:settings_store_authorize", args=[store.pk]))
    assert answer.status_code == 409
    assert "data-missing-app-fields" in answer.content.decode()
    amazon = client.post(reverse("web:settings_store_authorize", args=[world.store_us.pk]))
    assert amazon.status_code == 409  # no LWA client / application id yet
    mailbox: Any = StoreFactory(organization=world.org, platform="email", site="", credentials={})
    assert client.post(reverse("web:settings_store_authorize", args=[mailbox.pk])).status_code == 409
    assert client.post(reverse("web:settings_store_authorize", args=[world.foreign_store.pk])).status_code == 404


def test_a_store_may_await_its_connection_but_not_half_pasted_tokens() -> None:
    from aftersales.channels.credentials import check_platform_credentials
    from aftersales.core.errors import ValidationFailed

    assert check_platform_credentials("shopee", {"partner_id": "1", "partner_key": "k"}) == {
        "partner_id": "1",
        "partner_key": "k",
    }
    with pytest.raises(ValidationFailed) as refused:
        check_platform_credentials("shopee", {"partner_id": "1", "partner_key": "k", "refresh_token": "r"})
    assert refused.value.field == "credentials.shop_id"
    with pytest.raises(ValidationFailed) as refused:
        check_platform_credentials("tiktok", {"app_key": "a", "app_secret": "s", "shop_cipher": "c"})
    assert refused.value.field == "credentials.refresh_token"


def test_ebay_consent_sends_the_runame_and_trades_the_code_with_basic_auth(world: Any) -> None:
    for c in _setup(world, "ebay"):
        client = _admin(world)
        started = client.post(reverse("web:settings_store_authorize", args=[c.store.pk]))
        link = urlsplit(started["Location"])
        query = {k: v[0] for k, v in parse_qs(link.query).items()}
        assert link.path == "/oauth2/authorize"
        assert query["redirect_uri"] == ebay_auth.RU_NAME and query["response_type"] == "code"
        assert "https://api.ebay.com/oauth/api_scope/sell.fulfillment" in query["scope"].split()
        back = urlsplit(httpx.get(started["Location"], follow_redirects=False).headers["location"])
        params = {k: v[0] for k, v in parse_qs(back.query).items()}
        assert params["code"].startswith("v^1.1#")
        assert client.get(f"{back.path}?{back.query}").status_code == 302
        grants = [r for r in c.fake.requests_to("/identity/v1/oauth2/token") if b"authorization_code" in r.body]
        (grant,) = grants
        assert {k: v[0] for k, v in parse_qs(grant.body.decode()).items()} == {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": ebay_auth.RU_NAME,
        }
        assert grant.headers["authorization"].startswith("Basic ")
        c.store.refresh_from_db()
        assert c.store.credentials["refresh_token"] == c.fake.refresh_token


def test_amazon_website_authorization_trades_the_spapi_code_with_lwa(world: Any) -> None:
    for c in _setup(world, "amazon"):
        client = _admin(world)
        started = client.post(reverse("web:settings_store_authorize", args=[c.store.pk]))
        link = urlsplit(started["Location"])
        query = {k: v[0] for k, v in parse_qs(link.query).items()}
        assert link.path == "/apps/authorize/consent"
        assert set(query) == {"application_id", "state"}  # no version=beta: a published app
        back = urlsplit(httpx.get(started["Location"], follow_redirects=False).headers["location"])
        params = {k: v[0] for k, v in parse_qs(back.query).items()}
        assert set(params) == {"state", "selling_partner_id", "spapi_oauth_code"}
        bad = {**params, "selling_partner_id": "a2fake-seller"}
        _refused(client.get(REDIRECT_PATH + "?" + urlencode(bad)), "selling_partner_id", "selling_partner_id")
        assert client.get(f"{back.path}?{back.query}").status_code == 302
        grants = [r for r in c.fake.requests_to("/auth/o2/token") if b"authorization_code" in r.body]
        (grant,) = grants
        assert {k: v[0] for k, v in parse_qs(grant.body.decode()).items()} == {
            "grant_type": "authorization_code",
            "code": params["spapi_oauth_code"],
            "redirect_uri": redirect_uri(),
            "client_id": c.fake.client_id,
            "client_secret": c.fake.client_secret,
        }
        c.store.refresh_from_db()
        assert c.store.credentials["refresh_token"].startswith("Atzr|")
        assert c.store.external_id == c.fake.seller_id
