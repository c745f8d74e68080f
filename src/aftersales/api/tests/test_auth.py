"""Token and session authentication, CSRF on unsafe methods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from aftersales.accounts.models import ApiToken
from aftersales.accounts.services import api_token_create, api_token_revoke

from .helpers import ApiClient, assert_error, db_state

CSRF = "a" * 32  # a valid CSRF secret; the cookie and the header must carry the same one


def test_valid_token_authenticates_and_records_use(world):
    token, raw = api_token_create(user=world.agent, name="ci")
    response = ApiClient(token=raw).get("/me")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_token_write_needs_no_csrf(world):
    ticket = world.ticket()
    _, raw = api_token_create(user=world.agent, name="ci", scopes=["read", "write"])
    client = ApiClient(token=raw, enforce_csrf=True)
    response = client.post(f"/tickets/{ticket.pk}/notes", {"body": "checked the order"})
    assert response.status_code == 201


def test_revoked_token_is_refused(world):
    token, raw = api_token_create(user=world.agent, name="ci")
    api_token_revoke(user=world.agent, token_id=token.pk)
    assert_error(ApiClient(token=raw).get("/me"), 401, code="not_authenticated")


def test_expired_token_is_refused(world):
    token, raw = api_token_create(user=world.agent, name="ci", expires_at=timezone.now() + timedelta(days=1))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(ApiClient(token=raw).get("/me"), 401)


def test_wrong_and_malformed_tokens_are_refused(world):
    api_token_create(user=world.agent, name="ci")
    for header in ("Bearer as_wrong", "Bearer ", "Token as_whatever", "Basic YWxpY2U6cHc=", "Bearer " + "x" * 500):
        response = ApiClient().get("/me", headers={"Authorization": header})
        assert_error(response, 401, code="not_authenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_of_deactivated_user_is_refused(world):
    _, raw = api_token_create(user=world.agent, name="ci")
    world.agent.is_active = False
    world.agent.save()
    assert_error(ApiClient(token=raw).get("/me"), 401)


def test_a_bad_token_is_not_rescued_by_a_session(world):
    client = ApiClient(user=world.agent)
    assert client.get("/me").status_code == 200
    assert_error(client.get("/me", headers={"Authorization": "Bearer as_wrong"}), 401)


def test_anonymous_gets_401_json_on_reads_and_writes(world):
    ticket = world.ticket()
    before = db_state()
    anonymous = ApiClient(enforce_csrf=True)
    assert_error(anonymous.get("/tickets"), 401, code="not_authenticated")
    assert_error(anonymous.post(f"/tickets/{ticket.pk}/notes", {"body": "x"}), 401, code="not_authenticated")
    assert db_state() == before


def test_session_reads_need_no_csrf(world):
    client = ApiClient(user=world.agent, enforce_csrf=True)
    assert client.get("/tickets").status_code == 200


def test_session_write_without_csrf_token_is_refused(world):
    ticket = world.ticket()
    client = ApiClient(user=world.agent, enforce_csrf=True)
    before = db_state()
    assert_error(client.post(f"/tickets/{ticket.pk}/notes", {"body": "x"}), 403, code="csrf_failed")
    client.client.cookies["csrftoken"] = CSRF
    response = client.post(f"/tickets/{ticket.pk}/notes", {"body": "x"}, headers={"X-CSRFToken": "b" * 32})
    assert_error(response, 403, code="csrf_failed")
    assert db_state() == before


def test_session_write_with_csrf_token_succeeds(world):
    ticket = world.ticket()
    client = ApiClient(user=world.agent, enforce_csrf=True)
    client.client.cookies["csrftoken"] = CSRF
    response = client.post(f"/tickets/{ticket.pk}/notes", {"body": "x"}, headers={"X-CSRFToken": CSRF})
    assert response.status_code == 201


def test_token_creation_shows_the_secret_once(world, as_user):
    client = as_user(world.agent)
    year = timezone.now().year + 1
    created = client.post("/me/tokens", {"name": "  my   laptop ", "expires_at": f"{year}-01-01T00:00:00+08:00"})
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("as_") and body["name"] == "my laptop"
    assert datetime.fromisoformat(body["expires_at"]) == datetime(year - 1, 12, 31, 16, tzinfo=UTC)
    assert body["scopes"] == ["read"]  # least privilege unless asked
    listed = client.get("/me/tokens").json()
    assert [t["id"] for t in listed] == [body["id"]]
    assert "token" not in listed[0] and "digest" not in listed[0]
    assert ApiClient(token=body["token"]).get("/me").status_code == 200
    assert client.delete(f"/me/tokens/{body['id']}").status_code == 204
    assert_error(ApiClient(token=body["token"]).get("/me"), 401)
    assert client.get("/me/tokens").json() == []


def test_token_bad_input(world, as_user):
    client = as_user(world.agent)
    other, _ = api_token_create(user=world.teammate, name="bob's")
    before = db_state()
    assert_error(client.post("/me/tokens", {"name": ""}), 422, field="name")
    assert_error(client.post("/me/tokens", {"name": "x", "expires_at": "2099-01-01T00:00:00"}), 422, field="expires_at")
    assert_error(
        client.post("/me/tokens", {"name": "x", "expires_at": "2001-01-01T00:00:00Z"}), 422, field="expires_at"
    )
    assert_error(client.delete(f"/me/tokens/{other.pk}"), 404, field="token_id")  # someone else's
    assert db_state() == before
