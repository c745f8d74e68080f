"""POST /api/v1/stores/{id}/authorization and /stores/authorization/callback: the same services as
the store page's "Connect" (channels/tests/test_authorization.py covers the platforms), bound to
the API token that started it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from aftersales.accounts.models import TokenScope
from aftersales.accounts.services import api_token_create
from aftersales.api.tests.helpers import ApiClient, assert_error
from aftersales.catalog.models import Store
from aftersales.channels.connectors.wish import fake_auth
from aftersales.channels.connectors.wish.fake import WishFake
from aftersales.channels.models import StoreAuthorization
from aftersales.testing.factories import StoreFactory


@pytest.fixture
def wish(world: Any, settings: Any) -> Iterator[tuple[WishFake, Store]]:
    settings.SITE_URL = "https://support.example.com"
    fake = WishFake()
    fake_auth.install(fake, redirect_uri="https://support.example.com/settings/stores/authorization/callback/")
    with fake.running():
        store: Any = StoreFactory(
            organization=world.org,
            platform="wish",
            site="wish.com",
            credentials={"client_id": fake.client_id, "client_secret": fake.client_secret},
            endpoint_url=fake.url,
        )
        yield fake, store


def _token(user: Any) -> str:
    _row, secret = api_token_create(
        user=user, name="connect", scopes=[TokenScope.READ, TokenScope.WRITE, TokenScope.ADMIN]
    )
    return secret


def test_an_integration_connects_a_store_with_its_token(world: Any, wish: tuple[WishFake, Store]) -> None:
    fake, store = wish
    api = ApiClient(token=_token(world.admin))
    started = api.post(f"/stores/{store.pk}/authorization", {})
    assert started.status_code == 201, started.content
    body = started.json()
    assert body["redirect_uri"] == "https://support.example.com/settings/stores/authorization/callback/"
    link = urlsplit(body["url"])
    assert link.path == "/v3/oauth/authorize"
    assert parse_qs(link.query) == {"client_id": [fake.client_id], "state": [body["state"]]}
    back = urlsplit(httpx.get(body["url"], follow_redirects=False).headers["location"])
    params = {k: v[0] for k, v in parse_qs(back.query).items()}
    # Another token of the same admin did not start it: 400 naming state.
    other = ApiClient(token=_token(world.admin))
    assert_error(other.post("/stores/authorization/callback", {"params": params}), 400, field="state")
    done = api.post("/stores/authorization/callback", {"params": params})
    assert done.status_code == 200, done.content
    assert done.json()["store_id"] == store.pk
    assert done.json()["account_id"] == fake.merchant_id
    (grant,) = fake.requests_to("/api/v3/oauth/access_token")
    assert {k: v[0] for k, v in grant.query.items()} == {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "code": params["code"],
        "grant_type": "authorization_code",
        "redirect_uri": body["redirect_uri"],
    }
    store.refresh_from_db()
    assert store.credentials["refresh_token"] == fake.refresh_token
    assert_error(api.post("/stores/authorization/callback", {"params": params}), 400, field="state")
    assert StoreAuthorization.objects.get().outcome == "connected"


def test_bad_input_is_refused_by_name(world: Any, wish: tuple[WishFake, Store]) -> None:
    _fake, store = wish
    api = ApiClient(token=_token(world.admin))
    assert_error(api.post("/stores/authorization/callback", {"params": {}}), 400, field="state")
    assert_error(
        api.post("/stores/authorization/callback", {"params": {"state": "x:y", "code": "c"}}), 400, field="state"
    )
    assert_error(api.post("/stores/authorization/callback", {}), 422)
    assert_error(api.post(f"/stores/{world.store_us.pk}/authorization", {}), 409, field="credentials.lwa_client_id")
    assert_error(api.post(f"/stores/{world.foreign_store.pk}/authorization", {}), 404)
    started = api.post(f"/stores/{store.pk}/authorization", {}).json()
    query = {"state": started["state"], "code": "ok123", "error": "access_denied"}
    assert_error(api.post("/stores/authorization/callback", {"params": query}), 400, field="error")
    agent = ApiClient(user=world.agent)
    assert_error(agent.post(f"/stores/{store.pk}/authorization", {}), 403)
