"""Settings pages for administrators: users, teams, roles (web/views/settings_people.py)."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from aftersales.accounts.models import Role, Team, User


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def field_error(response: Any, field: str) -> str:
    match = re.search(rf'id="error-{field}">([^<]*)<', response.content.decode())
    assert match, f"no error shown next to {field}"
    return match.group(1)


def test_the_settings_navigation_shows_people_sections_to_admins_only(world):
    page = signed_in(world.admin).get("/settings/").content.decode()
    for url in ("/settings/users/", "/settings/teams/", "/settings/roles/"):
        assert f'href="{url}"' in page
    agent_page = signed_in(world.agent).get("/settings/").content.decode()
    assert "/settings/users/" not in agent_page
    current = signed_in(world.admin).get("/settings/teams/").content.decode()
    assert re.search(r'href="/settings/teams/"\s+aria-current="page"', current)


def test_users_page_lists_only_the_organization(world):
    page = signed_in(world.admin).get("/settings/users/").content.decode()
    assert "alice" in page and "ada" in page.lower()
    assert "foreigner" not in page


def test_invite_shows_the_link_once_and_errors_next_to_fields(world, mailoutbox):
    client = signed_in(world.admin)
    taken = client.post(
        "/settings/users/invite/", {"username": "alice", "role_id": world.roles["agent"].pk, "language": "en"}
    )
    assert taken.status_code == 409 and "taken" in field_error(taken, "username")
    assert 'value="alice"' in taken.content.decode()  # the form keeps what was typed
    bad_email = client.post(
        "/settings/users/invite/",
        {"username": "mei", "email": "nope", "role_id": world.roles["agent"].pk, "language": "en"},
    )
    assert bad_email.status_code == 422 and field_error(bad_email, "email")
    response = client.post(
        "/settings/users/invite/",
        {
            "username": "mei",
            "email": "mei@example.cn",
            "display_name": "Mei",
            "role_id": world.roles["agent"].pk,
            "team_ids": [world.team_us.pk],
            "language": "zh-hans",
        },
    )
    assert response.status_code == 200
    link = re.search(r"data-set-password-link>([^<]+)<", response.content.decode())
    assert link and "/set-password/" in link.group(1)
    user = User.objects.get(username="mei")
    assert user.organization == world.org and not user.has_usable_password()
    # The link is not shown again.
    assert link.group(1) not in client.get("/settings/users/").content.decode()


def test_edit_user_and_refusals_next_to_the_field(world):
    client = signed_in(world.admin)
    page = client.get(f"/settings/users/{world.agent.pk}/")
    assert page.status_code == 200 and "alice" in page.content.decode()
    response = client.post(
        f"/settings/users/{world.agent.pk}/",
        {
            "display_name": "Alice W",
            "email": "alice@example.com",
            "role_id": world.roles["approver"].pk,
            "team_ids": [world.team_de.pk],
            "language": "en",
            "is_active": ["0"],
        },
    )
    assert response.status_code == 302 and response["Location"] == "/settings/users/"
    world.agent.refresh_from_db()
    assert world.agent.display_name == "Alice W" and not world.agent.is_active
    assert world.agent.role == world.roles["approver"] and list(world.agent.teams.all()) == [world.team_de]
    myself = client.post(
        f"/settings/users/{world.admin.pk}/",
        {"role_id": world.roles["admin"].pk, "language": "en", "is_active": ["0"]},
    )
    assert myself.status_code == 409 and field_error(myself, "is_active")
    world.admin.refresh_from_db()
    assert world.admin.is_active


def test_password_reset_shows_a_link(world):
    response = signed_in(world.admin).post(f"/settings/users/{world.agent.pk}/password-reset/")
    assert response.status_code == 200 and "data-set-password-link" in response.content.decode()


def test_teams_create_edit_delete(world):
    client = signed_in(world.admin)
    bad = client.post("/settings/teams/new/", {"name": "Asia", "languages": ["klingon"]})
    assert bad.status_code == 422 and field_error(bad, "languages")
    assert not Team.objects.filter(name="Asia").exists()
    created = client.post(
        "/settings/teams/new/",
        {"name": "Asia", "languages": ["ja", "ko"], "platforms": ["shopee"], "member_ids": [world.agent.pk]},
    )
    assert created.status_code == 302
    team = Team.objects.get(organization=world.org, name="Asia")
    assert team.languages == ["ja", "ko"] and list(team.members.all()) == [world.agent]
    page = client.get(f"/settings/teams/{team.pk}/").content.decode()
    assert 'value="ja" checked' in page
    dup = client.post(f"/settings/teams/{team.pk}/", {"name": "US team"})
    assert dup.status_code == 409 and field_error(dup, "name")
    assert client.post(f"/settings/teams/{team.pk}/delete/").status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()


def test_roles_create_edit_delete(world):
    client = signed_in(world.admin)
    bad = client.post(
        "/settings/roles/new/", {"name": "Leads", "permissions": ["view", "approve"], "approval_limit_amount": "1.005"}
    )
    assert bad.status_code == 422 and "2 decimal" in field_error(bad, "approval_limit_amount")
    created = client.post(
        "/settings/roles/new/",
        {
            "name": "Leads",
            "permissions": ["view", "approve"],
            "approval_limit_amount": "500",
            "approval_limit_currency": "EUR",
        },
    )
    assert created.status_code == 302
    role = Role.objects.get(organization=world.org, name="Leads")
    assert str(role.approval_limit_amount) == "500.00" and role.approval_limit_currency == "EUR"
    bad_currency = client.post(
        f"/settings/roles/{role.pk}/", {"name": "Leads", "permissions": ["view"], "approval_limit_currency": "eur"}
    )
    assert bad_currency.status_code == 422 and field_error(bad_currency, "approval_limit_currency")
    in_use = client.post(f"/settings/roles/{world.roles['agent'].pk}/delete/")
    assert in_use.status_code == 409 and "in use" in in_use.content.decode()
    own = client.post(f"/settings/roles/{world.roles['admin'].pk}/", {"name": "admin", "permissions": ["view"]})
    assert own.status_code == 409 and field_error(own, "permissions")
    assert client.post(f"/settings/roles/{role.pk}/delete/").status_code == 302
    assert not Role.objects.filter(pk=role.pk).exists()


def test_pages_render_in_chinese(world):
    User.objects.filter(pk=world.admin.pk).update(language="zh-hans")
    client = signed_in(User.objects.get(pk=world.admin.pk))
    for url, word in (("/settings/users/", "邀请"), ("/settings/teams/", "团队"), ("/settings/roles/", "角色")):
        assert word in client.get(url).content.decode(), url
