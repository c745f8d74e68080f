"""The Django admin belongs to the installation's operator alone (issue 7, finding 1): no member of
an organization may use it, whatever their role, even when marked staff or superuser by mistake."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from aftersales.accounts.models import User
from aftersales.testing.factories import UserFactory

PERSONAS = ("agent", "teammate", "outsider", "viewer", "approver", "admin", "foreign_user")
ADMIN_URLS = ("/admin/", "/admin/accounts/user/", "/admin/accounts/organization/", "/admin/accounts/role/")


def make_operator() -> User:
    return UserFactory(username="operator", organization=None, role=None, is_staff=True, is_superuser=True)


def promote(user: User) -> User:
    """What the old create_organization did to every organization's admin."""
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    return User.objects.get(pk=user.pk)


def assert_refused(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302, (url, response.status_code)
    assert response["Location"].startswith("/admin/login/"), response["Location"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("staff", [False, True], ids=["member", "member-marked-staff"])
def test_organization_members_never_use_the_django_admin(world: Any, persona: str, staff: bool) -> None:
    user = getattr(world, persona)
    if staff:
        user = promote(user)
    client = Client()
    client.force_login(user)
    for url in ADMIN_URLS:
        assert_refused(client, url)
    # Nor through the admin's own login form.
    response = Client().post("/admin/login/?next=/admin/", {"username": user.username, "password": "pw-correct-horse"})
    assert response.status_code == 200 and b"operator account" in response.content
    assert "_auth_user_id" not in response.wsgi_request.session


def test_cross_tenant_takeover_through_the_admin_is_closed(world: Any) -> None:
    """The finding's exploit: organization B's admin opens organization A's user in the admin and
    sets their password. Every step is refused and the password stays."""
    attacker = promote(world.foreign_user)
    client = Client()
    client.force_login(attacker)
    url = f"/admin/accounts/user/{world.agent.pk}/password/"
    assert_refused(client, url)
    response = client.post(url, {"password1": "taken-Over-2026!", "password2": "taken-Over-2026!"})
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    world.agent.refresh_from_db()
    assert world.agent.check_password("pw-correct-horse")


def test_the_operator_uses_the_admin(world: Any) -> None:
    make_operator()
    client = Client()
    assert client.login(username="operator", password="pw-correct-horse")
    for url in ADMIN_URLS:
        assert client.get(url).status_code == 200, url
    assert b"alice" in client.get("/admin/accounts/user/").content
    login = Client().post("/admin/login/?next=/admin/", {"username": "operator", "password": "pw-correct-horse"})
    assert login.status_code == 302 and login["Location"] == "/admin/"


def test_an_inactive_or_non_staff_operator_is_refused(world: Any) -> None:
    operator = make_operator()
    client = Client()
    client.force_login(operator)
    User.objects.filter(pk=operator.pk).update(is_staff=False)
    assert_refused(client, "/admin/")
