"""Brute-force protection of the sign-in (issue 7, finding 4): django-axes locks a username from an
address after AXES_FAILURE_LIMIT wrong passwords and an address after LOGIN_IP_FAILURE_LIMIT; the
right password is refused while locked; organization admins unlock their own users."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse

from aftersales.accounts.lockout import lockout_status, user_unlock
from aftersales.core.errors import NotFound, PermissionDenied
from aftersales.testing.factories import UserFactory

PASSWORD = "pw-correct-horse"  # the personas' password (testing/factories.py)
LOGIN = "/login/"


def sign_in(username: str, password: str, ip: str = "198.51.100.7", path: str = LOGIN, **extra: str):  # type: ignore[no-untyped-def]
    return Client().post(path, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def signed_in(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and "_auth_user_id" in response.wsgi_request.session


def lock(username: str, ip: str = "198.51.100.7", times: int = 10, path: str = LOGIN):  # type: ignore[no-untyped-def]
    response = None
    for _ in range(times):
        response = sign_in(username, "wrong", ip=ip, path=path)
    return response


def test_ten_wrong_passwords_lock_the_username_from_that_address(world, settings):
    assert settings.AXES_FAILURE_LIMIT == 10
    for _ in range(9):
        assert sign_in("alice", "wrong").status_code == 200  # the form again, with its error
    locked = sign_in("alice", "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed sign-ins" in page and "15 minutes" in page and locked["Retry-After"] == "900"
    right = sign_in("alice", PASSWORD)
    assert right.status_code == 429 and not signed_in(right)  # the right password no longer helps
    # the same user from another address, and another user from this one, still sign in
    assert signed_in(sign_in("alice", PASSWORD, ip="203.0.113.20"))
    assert signed_in(sign_in("bob", PASSWORD))
    assert lockout_status(world.agent).locked


def test_an_address_guessing_many_usernames_is_locked(world, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 30
    for i in range(30):
        sign_in(f"user{i % 5}", "wrong", ip="192.0.2.66")  # 6 per username: no username+IP lock
    blocked = sign_in("alice", PASSWORD, ip="192.0.2.66")
    assert blocked.status_code == 429 and not signed_in(blocked)
    assert signed_in(sign_in("alice", PASSWORD, ip="192.0.2.67"))


def test_a_successful_sign_in_forgets_that_users_failures_only(world):
    for _ in range(9):
        sign_in("alice", "wrong")
    assert signed_in(sign_in("alice", PASSWORD))
    for _ in range(9):
        assert sign_in("alice", "wrong").status_code == 200  # counting starts again


def test_the_django_admin_login_is_locked_too(world):
    operator = UserFactory(username="operator", organization=None, role=None, is_staff=True, is_superuser=True)
    admin_login = reverse("admin:login")
    locked = lock("operator", path=admin_login)
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    right = sign_in(operator.username, PASSWORD, path=admin_login)
    assert right.status_code == 429 and not signed_in(right)


def test_lockout_page_in_chinese(world):
    lock("alice")
    page = sign_in("alice", "wrong", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "登录失败次数过多" in page


def test_failures_and_lockouts_are_logged(world, caplog):
    with caplog.at_level(logging.WARNING):
        lock("alice")
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "Locking out" in messages and "alice" in messages


# --- unlocking ---------------------------------------------------------------------------------


def test_an_org_admin_unlocks_their_user_in_settings(world, login, caplog):
    lock("alice")
    admin = login(world.admin)
    page = admin.get(reverse("web:settings_security"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-lockout="alice"' in html and "Locked until" in html
    assert reverse("web:settings_security") in admin.get(reverse("web:settings")).content.decode()  # nav line
    with caplog.at_level(logging.WARNING, logger="aftersales.security"):
        response = admin.post(reverse("web:settings_security_unlock", args=[world.agent.pk]))
    assert response.status_code == 302
    assert not lockout_status(world.agent).locked
    assert signed_in(sign_in("alice", PASSWORD))
    unlock_log = next(r for r in caplog.records if getattr(r, "event", "") == "login_unlock")
    assert unlock_log.actor_id == world.admin.pk and unlock_log.user_id == world.agent.pk


def test_only_admins_of_the_same_organization_unlock(world):
    lock("alice")
    with pytest.raises(PermissionDenied):
        user_unlock(actor=world.teammate, user_id=world.agent.pk)
    with pytest.raises(NotFound):
        user_unlock(actor=world.foreign_user, user_id=world.agent.pk)
    assert lockout_status(world.agent).locked
    assert 'data-lockout="alice"' not in Client().get(reverse("web:login")).content.decode()


def test_unlock_through_the_api(world):
    from aftersales.api.tests.helpers import ApiClient

    lock("alice")
    lock("foreigner", ip="203.0.113.99")  # another seller's user: never listed to our admin
    sign_in("bob", "wrong")  # a failure, not a lockout
    admin = ApiClient(user=world.admin)
    listed = admin.get("/security/lockouts").json()
    assert [(row["username"], row["locked"], row["failures"]) for row in listed] == [
        ("alice", True, 10),
        ("bob", False, 1),
    ]
    foreign = ApiClient(user=world.foreign_user).get("/security/lockouts").json()
    assert [row["username"] for row in foreign] == ["foreigner"]
    assert admin.delete(f"/security/lockouts/{world.agent.pk}").status_code == 204
    assert [row["username"] for row in admin.get("/security/lockouts").json()] == ["bob"]
    assert signed_in(sign_in("alice", PASSWORD))
