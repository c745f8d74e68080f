"""API token scopes, lifetime and minting (issue 7, finding 8), and the back-off on wrong tokens
(finding 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from aftersales.accounts import lockout
from aftersales.accounts.models import ApiToken
from aftersales.accounts.services import api_token_create

from .helpers import ApiClient, assert_error, db_state


def token(user, *scopes, **kw):  # type: ignore[no-untyped-def]
    return api_token_create(user=user, name="t", scopes=list(scopes), **kw)


# --- scopes on every route -------------------------------------------------------------------


def test_read_scope_reads_but_cannot_write(world):
    ticket = world.ticket()
    _, raw = token(world.agent, "read")
    client = ApiClient(token=raw)
    assert client.get(f"/tickets/{ticket.pk}").status_code == 200
    before = db_state()
    for method, path, body in (
        ("POST", f"/tickets/{ticket.pk}/notes", {"body": "x"}),
        ("PATCH", "/me", {"language": "zh-hans"}),
        ("DELETE", "/me/tokens/1", None),
    ):
        assert_error(client.request(method, path, body), 403, code="insufficient_scope")
    assert db_state() == before


def test_every_scope_includes_read(world, as_user):
    ticket = world.ticket()
    body = as_user(world.agent).post("/me/tokens", {"name": "w", "scopes": ["write"]}).json()
    assert body["scopes"] == ["read", "write"]
    client = ApiClient(token=body["token"])
    assert client.get("/tickets").status_code == 200
    assert client.post(f"/tickets/{ticket.pk}/notes", {"body": "checked"}).status_code == 201


def test_administering_needs_the_admin_scope(world):
    _, plain = token(world.admin, "read", "write")
    _, admin = token(world.admin, "read", "write", "admin")
    assert_error(ApiClient(token=plain).get("/language/providers"), 403, code="permission_denied")
    assert ApiClient(token=admin).get("/language/providers").status_code == 200
    assert_error(ApiClient(token=plain).get("/security/lockouts"), 403)
    assert ApiClient(token=admin).get("/security/lockouts").status_code == 200


def test_a_token_never_exceeds_its_users_role(world):
    # Even a token stored with every scope (e.g. an agent demoted after creating it) acts with the role.
    raw = "as_" + "y" * 43
    from aftersales.accounts.services import token_digest

    ApiToken.objects.create(
        user=world.agent,
        name="old",
        prefix=raw[:10],
        digest=token_digest(raw),
        scopes=["read", "write", "admin", "tokens"],
        expires_at=timezone.now() + timedelta(days=1),
    )
    assert_error(ApiClient(token=raw).get("/language/providers"), 403)
    # and an agent cannot ask for the admin scope
    assert_error(
        ApiClient(user=world.agent).post("/me/tokens", {"name": "x", "scopes": ["admin"]}), 422, field="scopes"
    )


def test_scopes_are_shown_and_validated(world, as_user):
    client = as_user(world.admin)
    created = client.post("/me/tokens", {"name": "ci", "scopes": ["write", "read", "read", "admin"]})
    assert created.status_code == 201 and created.json()["scopes"] == ["read", "write", "admin"]
    assert client.get("/me/tokens").json()[0]["scopes"] == ["read", "write", "admin"]
    before = db_state()
    assert_error(client.post("/me/tokens", {"name": "x", "scopes": []}), 422, field="scopes")
    assert_error(client.post("/me/tokens", {"name": "x", "scopes": ["root"]}), 422, field="scopes[0]")
    assert_error(client.post("/me/tokens", {"name": "x", "scopes": "read"}), 422, field="scopes")
    assert db_state() == before


# --- lifetime --------------------------------------------------------------------------------


def test_every_token_expires_by_default(world, as_user):
    body = as_user(world.agent).post("/me/tokens", {"name": "ci"}).json()
    token_row = ApiToken.objects.get(pk=body["id"])
    assert timedelta(days=89) < token_row.expires_at - timezone.now() <= timedelta(days=90)


@pytest.mark.parametrize(
    "expires_at",
    [
        "0001-01-01T00:00:00+01:00",  # far past (the fuzzer's 500)
        "9999-12-31T23:59:59-01:00",  # far future, beyond datetime's range in UTC (the fuzzer's 500)
        "2001-01-01T00:00:00Z",
        "PAST",  # a year and a day ahead (computed below)
    ],
)
def test_expiry_out_of_range_is_a_422_naming_the_field(world, as_user, expires_at):
    if expires_at == "PAST":
        expires_at = (timezone.now() + timedelta(days=366)).isoformat()
    before = db_state()
    assert_error(
        as_user(world.agent).post("/me/tokens", {"name": "x", "expires_at": expires_at}), 422, field="expires_at"
    )
    assert db_state() == before


# --- minting: from a session, or a token with the `tokens` scope, never wider or longer ---------


def test_a_token_cannot_mint_tokens_without_the_tokens_scope(world):
    _, raw = token(world.agent, "read", "write", expires_at=timezone.now() + timedelta(days=1))
    before = db_state()
    response = ApiClient(token=raw).post("/me/tokens", {"name": "forever"})
    assert_error(response, 403)
    assert "session" in response.json()["error"]["message"]
    assert db_state() == before


def test_a_tokens_scoped_token_mints_only_narrower_and_shorter_tokens(world):
    parent, raw = token(world.agent, "read", "write", "tokens", expires_at=timezone.now() + timedelta(days=7))
    client = ApiClient(token=raw)
    later = (parent.expires_at + timedelta(hours=1)).isoformat()
    assert_error(
        client.post("/me/tokens", {"name": "x", "scopes": ["read"], "expires_at": later}), 422, field="expires_at"
    )
    # without an expiry the default (90 days) would outlive the parent too
    assert_error(client.post("/me/tokens", {"name": "x", "scopes": ["read"]}), 422, field="expires_at")
    sooner = (parent.expires_at - timedelta(hours=1)).isoformat()
    ok = client.post("/me/tokens", {"name": "child", "scopes": ["read"], "expires_at": sooner})
    assert ok.status_code == 201 and ok.json()["scopes"] == ["read"]
    _, boss = token(world.admin, "write", "tokens", expires_at=timezone.now() + timedelta(days=7))
    wider = ApiClient(token=boss).post("/me/tokens", {"name": "x", "scopes": ["admin"], "expires_at": sooner})
    assert "scopes it does not have: admin" in assert_error(wider, 422, field="scopes")["message"]


# --- wrong tokens: per-IP back-off -------------------------------------------------------------


@pytest.fixture
def low_limit(settings):  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    cache.clear()
    settings.API_TOKEN_FAILURE_LIMIT = 3
    settings.API_TOKEN_FAILURE_WINDOW = 60
    yield settings
    cache.clear()


def test_wrong_tokens_back_off_per_address_with_429(world, low_limit, monkeypatch):
    _, good = token(world.agent, "read")
    attacker = ApiClient()
    wrong = {"Authorization": "Bearer as_guess"}
    for _ in range(2):
        assert_error(attacker.get("/me", headers=wrong), 401)
    third = attacker.get("/me", headers=wrong)
    assert_error(third, 429, code="throttled")
    assert third["Retry-After"] == "60"
    # blocked: even a right token from that address waits
    blocked = attacker.get("/me", headers={"Authorization": f"Bearer {good}"})
    assert_error(blocked, 429, code="throttled")
    assert 0 < int(blocked["Retry-After"]) <= 60
    # another address is not affected
    other = ApiClient().client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"}, REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 200
    # after the block, the right token works; the next block is twice as long
    real_time = lockout.time.time
    monkeypatch.setattr(lockout.time, "time", lambda: real_time() + 61)
    assert attacker.get("/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    for _ in range(2):
        attacker.get("/me", headers=wrong)
    assert attacker.get("/me", headers=wrong)["Retry-After"] == "120"


def test_client_ip_trusts_forwarded_for_only_behind_configured_proxies(settings, rf):
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="127.0.0.1")
    settings.TRUSTED_PROXY_COUNT = 0
    assert lockout.client_ip(request) == "127.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert lockout.client_ip(request) == "203.0.113.9"  # the address our proxy saw, not the client's claim
    assert lockout.client_ip(rf.get("/", HTTP_X_FORWARDED_FOR="not-an-ip", REMOTE_ADDR="127.0.0.1")) is None
