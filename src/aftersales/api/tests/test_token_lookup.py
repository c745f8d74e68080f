"""The API token lookup (accounts.selectors.token_for_secret) reads its prepared join (core/rows.py) on every
request, with no cache: what it loads equals what the ORM loads, and a revocation, an expiry, a deactivation
or a role change applies to the very next request of the same client (issue 13, item 1)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aftersales.accounts.models import ApiToken, Organization, Role, TokenScope, User
from aftersales.accounts.selectors import token_for_secret
from aftersales.accounts.services import api_token_create, api_token_revoke

from .helpers import ApiClient, assert_error

ADMIN_SCOPES = [TokenScope.READ, TokenScope.WRITE, TokenScope.ADMIN]


def _values(obj: object) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}  # type: ignore[attr-defined]


def test_the_lookup_loads_what_the_orm_loads_in_one_statement(world):
    token, raw = api_token_create(user=world.admin, name="erp", scopes=ADMIN_SCOPES)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())  # no UPDATE below
    with CaptureQueriesContext(connection) as queries:
        found = token_for_secret(raw)
        assert found is not None
        user = found.user
        role, org = user.role, user.organization
    assert len(queries.captured_queries) == 1  # role and organization came with the join
    reference = ApiToken.objects.select_related("user", "user__role", "user__organization").get(pk=token.pk)
    assert _values(found) == _values(reference)
    assert _values(user) == _values(reference.user)
    assert _values(role) == _values(reference.user.role)
    assert _values(org) == _values(reference.user.organization)
    assert found.expires_at.tzinfo is not None and isinstance(found.scopes, list)
    assert isinstance(role, Role) and isinstance(org, Organization) and isinstance(user, User)
    assert not found._state.adding and found._state.db == "default"


def test_a_user_without_role_is_loaded_with_none(world):
    _, raw = api_token_create(user=world.agent, name="erp")
    User.objects.filter(pk=world.agent.pk).update(role=None)
    found = token_for_secret(raw)
    assert found is not None and found.user.role is None and found.user.organization == world.org


def test_wrong_and_near_tokens_find_nothing(world):
    _, raw = api_token_create(user=world.agent, name="erp")
    for wrong in ("", raw + "x", raw[:-1], raw.upper(), " " + raw, "x" * 201):
        assert token_for_secret(wrong) is None


def test_revocation_applies_to_the_next_request(world):
    token, raw = api_token_create(user=world.agent, name="erp")
    client = ApiClient(token=raw)
    assert client.get("/me").status_code == 200
    api_token_revoke(user=world.agent, token_id=token.pk)
    assert_error(client.get("/me"), 401, code="not_authenticated")


def test_expiry_applies_to_the_next_request(world):
    token, raw = api_token_create(user=world.agent, name="erp", expires_at=timezone.now() + timedelta(days=1))
    client = ApiClient(token=raw)
    assert client.get("/me").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(client.get("/me"), 401, code="not_authenticated")


def test_deactivation_and_role_change_apply_to_the_next_request(world):
    _, raw = api_token_create(user=world.admin, name="erp", scopes=ADMIN_SCOPES)
    client = ApiClient(token=raw)
    body = {
        "store_id": world.store_us.pk,
        "external_id": "tok-1",
        "body": "Where is my parcel?",
        "customer_external_id": "buyer-1",
    }
    assert client.post("/inbound/messages", body).status_code == 201
    world.admin.role = world.roles["agent"]
    world.admin.save()
    assert_error(client.post("/inbound/messages", {**body, "external_id": "tok-2"}), 403)
    world.admin.role = world.roles["admin"]
    world.admin.save()
    assert client.post("/inbound/messages", {**body, "external_id": "tok-3"}).status_code == 201
    world.admin.is_active = False
    world.admin.save()
    assert_error(client.post("/inbound/messages", {**body, "external_id": "tok-4"}), 401)
