"""Users, teams and roles through the API (routers/people.py): the same services as the web UI."""

from __future__ import annotations

from urllib.parse import urlparse

from django.test import Client

from aftersales.accounts.models import Role, Team, User

from .helpers import assert_error, db_state


def test_invite_then_the_user_sets_a_password_and_signs_in(
    world, as_user, mailoutbox, django_capture_on_commit_callbacks
):
    client = as_user(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/users",
            {
                "username": "mei",
                "email": "mei@example.cn",
                "display_name": "Mei Lin",
                "role_id": world.roles["agent"].pk,
                "team_ids": [world.team_us.pk],
                "language": "zh-hans",
            },
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["emailed"] is True and body["set_password_url"] in mailoutbox[0].body
    user = body["user"]
    assert user["username"] == "mei" and user["has_password"] is False and user["is_active"] is True
    assert user["role"]["name"] == "agent" and [t["name"] for t in user["teams"]] == ["US team"]
    path = urlparse(body["set_password_url"]).path
    done = Client().post(path, {"password": "Jade-Harbour-2026", "password_confirm": "Jade-Harbour-2026"})
    assert done.status_code == 302
    assert Client().login(username="mei", password="Jade-Harbour-2026")
    assert client.get(f"/users/{user['id']}").json()["has_password"] is True


def test_invite_refusals_name_the_field_and_write_nothing(world, as_user):
    client = as_user(world.admin)
    before = db_state()
    agent = world.roles["agent"].pk
    assert_error(client.post("/users", {"username": "alice", "role_id": agent}), 409, field="username")
    assert_error(client.post("/users", {"username": "a b", "role_id": agent}), 422, field="username")
    assert_error(client.post("/users", {"username": "mei", "role_id": agent, "email": "x"}), 422, field="email")
    assert_error(client.post("/users", {"username": "mei", "role_id": agent, "is_staff": True}), 422, field="is_staff")
    assert_error(client.post("/users", {"username": "mei", "role_id": agent, "language": "fr"}), 422, field="language")
    foreign_role = Role.objects.filter(organization=world.foreign_org).first().pk
    assert_error(client.post("/users", {"username": "mei", "role_id": foreign_role}), 404, field="role_id")
    assert db_state() == before


def test_admin_list_and_patch(world, as_user):
    client = as_user(world.admin)
    listed = client.get("/organization/users").json()
    assert {u["username"] for u in listed} == {"alice", "bob", "carol", "victor", "peter", "ada"}
    response = client.patch(f"/users/{world.agent.pk}", {"role_id": world.roles["viewer"].pk, "team_ids": []})
    assert response.status_code == 200 and response.json()["role"]["kind"] == "viewer"
    assert response.json()["teams"] == []
    # null and absent keep the value
    kept = client.patch(f"/users/{world.agent.pk}", {"display_name": None, "is_active": False}).json()
    assert kept["display_name"] == "Alice" and kept["is_active"] is False
    assert_error(client.patch(f"/users/{world.admin.pk}", {"is_active": False}), 409, field="is_active")
    assert_error(client.patch(f"/users/{world.admin.pk}", {"role_id": world.roles["agent"].pk}), 409, field="role_id")
    # The colleague list keeps its shape and behaviour (active users only) for everyone.
    colleagues = as_user(world.teammate).get("/users").json()
    assert "alice" not in {c["username"] for c in colleagues} and set(colleagues[0]) == {
        "id",
        "username",
        "display_name",
        "role",
    }


def test_password_reset_link(world, as_user):
    body = as_user(world.admin).post(f"/users/{world.teammate.pk}/password-reset").json()
    assert "/set-password/" in body["set_password_url"] and body["user"]["username"] == "bob"


def test_teams(world, as_user):
    client = as_user(world.admin)
    created = client.post(
        "/teams",
        {"name": "Asia", "languages": ["ja", "KO"], "platforms": ["shopee"], "member_ids": [world.agent.pk]},
    )
    assert created.status_code == 201
    team = created.json()
    assert team["languages"] == ["ja", "ko"] and team["member_ids"] == [world.agent.pk] and team["store_ids"] == []
    patched = client.patch(f"/teams/{team['id']}", {"store_ids": [world.store_us.pk], "languages": None}).json()
    assert patched["store_ids"] == [world.store_us.pk] and patched["languages"] == ["ja", "ko"]
    before = db_state()
    assert_error(client.post("/teams", {"name": "X", "platforms": ["myspace"]}), 422, field="platforms")
    assert_error(client.post("/teams", {"name": "X", "store_ids": [world.foreign_store.pk]}), 404, field="store_ids")
    assert_error(client.post("/teams", {"name": "asia"}), 409, field="name")
    assert_error(client.post("/teams", {"name": "X", "colour": "red"}), 422, field="colour")
    assert db_state() == before
    assert client.delete(f"/teams/{team['id']}").status_code == 204
    assert not Team.objects.filter(pk=team["id"]).exists()


def test_roles(world, as_user):
    client = as_user(world.admin)
    created = client.post(
        "/roles",
        {"name": "Leads", "permissions": ["view", "approve"], "approval_limit_amount": "250.5"},
    )
    assert created.status_code == 201
    role = created.json()
    assert role["approval_limit"] == {"amount": "250.50", "currency": "USD"} and role["user_count"] == 0
    assert role["kind"] == "approver" and role["permissions"] == ["view", "approve"]
    listed = {r["name"]: r["user_count"] for r in client.get("/roles").json()}
    assert listed["agent"] == 3 and listed["Leads"] == 0
    before = db_state()
    for body, field in [
        ({"approval_limit_amount": "-1"}, "approval_limit_amount"),
        ({"approval_limit_amount": 1.005}, "approval_limit_amount"),
        ({"approval_limit_amount": "1000000001"}, "approval_limit_amount"),
        ({"approval_limit_currency": "usd"}, "approval_limit_currency"),
        ({"permissions": ["view", "fly"]}, "permissions"),
        ({"name": "agent"}, "name"),
    ]:
        response = client.patch(f"/roles/{role['id']}", body)
        assert response.status_code in (409, 422) and response.json()["error"]["field"] == field, (body, response)
    assert_error(client.patch(f"/roles/{world.roles['admin'].pk}", {"permissions": ["view"]}), 409, field="permissions")
    assert_error(client.delete(f"/roles/{world.roles['agent'].pk}"), 409, field="role_id")
    assert db_state() == before
    assert client.delete(f"/roles/{role['id']}").status_code == 204


def test_foreign_admin_cannot_reach_our_people(world, as_user):
    client = as_user(world.foreign_user)
    before = db_state()
    assert_error(client.patch(f"/users/{world.agent.pk}", {"is_active": False}), 404, field="user_id")
    assert_error(client.post(f"/users/{world.agent.pk}/password-reset"), 404, field="user_id")
    assert_error(client.patch(f"/teams/{world.team_us.pk}", {"member_ids": [world.foreign_user.pk]}), 404)
    assert_error(client.delete(f"/roles/{world.roles['viewer'].pk}"), 404, field="role_id")
    assert {u["username"] for u in client.get("/organization/users").json()} == {"foreigner"}
    assert db_state() == before
    assert User.objects.get(pk=world.agent.pk).is_active
