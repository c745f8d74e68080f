"""accounts.people: administering users, teams and roles inside one's own organization."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.test import Client

from aftersales.accounts import people
from aftersales.accounts.models import Membership, Role, Team, User
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

NON_ADMINS = ("agent", "teammate", "outsider", "viewer", "approver")


def invite(world: Any, **kwargs: Any) -> people.SetPasswordLink:
    args = {
        "actor": world.admin,
        "username": "mei",
        "email": "mei@example.cn",
        "display_name": "Mei Lin",
        "role_id": world.roles["agent"].pk,
        "team_ids": [world.team_us.pk],
        "language": "zh-hans",
    } | kwargs
    return people.user_invite(**args)


# --- users ----------------------------------------------------------------------------------------


def test_invite_creates_a_user_without_password_and_a_working_link(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        link = invite(world)
    user = User.objects.get(username="mei")
    assert user.organization == world.org and user.role == world.roles["agent"] and user.language == "zh-hans"
    assert not user.has_usable_password() and not user.is_staff and not user.is_superuser
    assert list(user.teams.all()) == [world.team_us]
    assert link.emailed and len(mail.outbox) == 1 and link.url in mail.outbox[0].body
    assert mail.outbox[0].to == ["mei@example.cn"]

    # End to end: open the link, set a password, sign in with it; the link then stops working.
    client = Client()
    path = urlparse(link.url).path
    page = client.get(path)
    assert page.status_code == 200 and b"mei" in page.content
    short = client.post(path, {"password": "123", "password_confirm": "123"})
    assert short.status_code == 422 and b"field-error" in short.content
    done = client.post(path, {"password": "Jade-Harbour-2026", "password_confirm": "Jade-Harbour-2026"})
    assert done.status_code == 302 and done["Location"] == "/login/"
    assert Client().login(username="mei", password="Jade-Harbour-2026")
    signed_in = Client()
    response = signed_in.post("/login/", {"username": "mei", "password": "Jade-Harbour-2026"})
    assert response.status_code == 302 and signed_in.get("/").status_code == 200
    again = Client().get(path)
    assert again.status_code == 200 and b"invalid, used or expired" in again.content
    assert people.password_link_user(uidb64=path.split("/")[2], token=path.split("/")[3]) is None


def test_invite_without_email_is_not_mailed(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        link = invite(world, email="", team_ids=[])
    assert not link.emailed and mail.outbox == []


@pytest.mark.parametrize(
    ("kwargs", "field", "error"),
    [
        ({"username": ""}, "username", ValidationFailed),
        ({"username": "has space"}, "username", ValidationFailed),
        ({"username": "ALICE"}, "username", Conflict),  # alice exists (case-insensitive)
        ({"username": "foreigner"}, "username", Conflict),
        ({"email": "not-an-email"}, "email", ValidationFailed),
        ({"display_name": "x" * 121}, "display_name", ValidationFailed),
        ({"language": "fr"}, "language", ValidationFailed),
        ({"role_id": None}, "role_id", ValidationFailed),
    ],
)
def test_invite_validates_naming_the_field(world, kwargs, field, error):
    with pytest.raises(error) as exc:
        invite(world, **kwargs)
    assert exc.value.field == field
    assert not User.objects.filter(username__in=["mei", "has space", ""]).exists()


def test_invite_refuses_another_organizations_role_and_teams(world):
    foreign_role = Role.objects.filter(organization=world.foreign_org).first()
    foreign_team = Team.objects.create(organization=world.foreign_org, name="Theirs")
    with pytest.raises(NotFound) as exc:
        invite(world, role_id=foreign_role.pk)
    assert exc.value.field == "role_id"
    with pytest.raises(NotFound) as exc:
        invite(world, team_ids=[world.team_us.pk, foreign_team.pk])
    assert exc.value.field == "team_ids"
    assert not User.objects.filter(username="mei").exists()


@pytest.mark.parametrize("persona", NON_ADMINS)
def test_only_admins_administer_people(world, persona):
    actor = getattr(world, persona)
    calls = [
        lambda: invite(world, actor=actor),
        lambda: people.user_update(actor=actor, user_id=world.agent.pk, display_name="X"),
        lambda: people.user_password_reset(actor=actor, user_id=world.agent.pk),
        lambda: people.team_create(actor=actor, name="New"),
        lambda: people.team_delete(actor=actor, team_id=world.team_us.pk),
        lambda: people.role_update(actor=actor, role_id=world.roles["agent"].pk, name="X"),
        lambda: people.role_delete(actor=actor, role_id=world.roles["viewer"].pk),
        lambda: people.people_users(actor),
        lambda: people.people_roles(actor),
        lambda: people.people_teams(actor),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()


def test_another_organizations_admin_gets_not_found(world):
    foreign = world.foreign_user
    for call, field in [
        (lambda: people.user_update(actor=foreign, user_id=world.agent.pk, is_active=False), "user_id"),
        (lambda: people.user_password_reset(actor=foreign, user_id=world.agent.pk), "user_id"),
        (lambda: people.people_user(foreign, user_id=world.agent.pk), "user_id"),
        (lambda: people.team_update(actor=foreign, team_id=world.team_us.pk, name="Mine"), "team_id"),
        (lambda: people.team_delete(actor=foreign, team_id=world.team_us.pk), "team_id"),
        (lambda: people.role_update(actor=foreign, role_id=world.roles["agent"].pk, name="Mine"), "role_id"),
        (lambda: people.role_delete(actor=foreign, role_id=world.roles["viewer"].pk), "role_id"),
    ]:
        with pytest.raises(NotFound) as exc:
            call()
        assert exc.value.field == field
    assert world.agent.pk not in {u.pk for u in people.people_users(foreign)}
    world.agent.refresh_from_db()
    assert world.agent.is_active and Team.objects.filter(pk=world.team_us.pk, name="US team").exists()


def test_update_user_role_teams_name_and_active(world):
    user = people.user_update(
        actor=world.admin,
        user_id=world.agent.pk,
        display_name="  Alice   Wong ",
        role_id=world.roles["approver"].pk,
        team_ids=[world.team_de.pk],
        language="zh-hans",
    )
    user.refresh_from_db()
    assert user.display_name == "Alice Wong" and user.role == world.roles["approver"] and user.language == "zh-hans"
    assert list(user.teams.all()) == [world.team_de]
    people.user_deactivate(actor=world.admin, user_id=world.agent.pk)
    world.agent.refresh_from_db()
    assert not world.agent.is_active
    assert not Client().login(username="alice", password="pw-correct-horse")
    people.user_update(actor=world.admin, user_id=world.agent.pk, is_active=True)
    assert Client().login(username="alice", password="pw-correct-horse")


def test_never_yourself_never_the_last_admin(world):
    with pytest.raises(Conflict) as exc:
        people.user_deactivate(actor=world.admin, user_id=world.admin.pk)
    assert exc.value.field == "is_active"
    with pytest.raises(Conflict) as exc:
        people.user_update(actor=world.admin, user_id=world.admin.pk, role_id=world.roles["agent"].pk)
    assert exc.value.field == "role_id"
    with pytest.raises(Conflict) as exc:  # the admin role is the actor's own
        people.role_update(actor=world.admin, role_id=world.roles["admin"].pk, permissions=["view"])
    assert exc.value.field == "permissions"
    world.admin.refresh_from_db()
    assert world.admin.is_active and world.admin.role == world.roles["admin"]
    assert "administer" in Role.objects.get(pk=world.roles["admin"].pk).permissions

    # A second admin may be demoted or deactivated while one remains.
    second = User.objects.create(username="zoe", organization=world.org, role=world.roles["admin"])
    people.user_update(actor=world.admin, user_id=second.pk, role_id=world.roles["agent"].pk)
    people.user_update(actor=world.admin, user_id=second.pk, role_id=world.roles["admin"].pk)
    people.user_deactivate(actor=world.admin, user_id=second.pk)


def test_last_admin_rule_when_the_actor_lost_the_right_meanwhile(world):
    """Two admins demoting each other at once: the second write finds its actor no longer admin."""
    second = User.objects.create(username="zoe", organization=world.org, role=world.roles["admin"])
    stale_second = User.objects.select_related("role").get(pk=second.pk)
    people.user_update(actor=world.admin, user_id=second.pk, role_id=world.roles["agent"].pk)
    with pytest.raises(PermissionDenied):
        people.user_update(actor=stale_second, user_id=world.admin.pk, role_id=world.roles["agent"].pk)
    world.admin.refresh_from_db()
    assert world.admin.role == world.roles["admin"]


def test_password_reset_link(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        link = people.user_password_reset(actor=world.admin, user_id=world.agent.pk)
    assert link.emailed and mail.outbox[0].to == [world.agent.email]
    path = urlparse(link.url).path
    _, _, uidb64, token, _ = path.split("/")
    assert people.password_link_user(uidb64=uidb64, token=token) == world.agent
    # The old password still works until replaced; signing in with it voids the link (Django's
    # tokens hash the last sign-in), so a leaked link is useless once the user has signed in.
    stale = people.user_password_reset(actor=world.admin, user_id=world.agent.pk)
    assert Client().login(username="alice", password="pw-correct-horse")
    _, _, stale_uid, stale_token, _ = urlparse(stale.url).path.split("/")
    assert people.password_link_user(uidb64=stale_uid, token=stale_token) is None
    link = people.user_password_reset(actor=world.admin, user_id=world.agent.pk)
    _, _, uidb64, token, _ = urlparse(link.url).path.split("/")
    people.user_password_set(
        uidb64=uidb64, token=token, password="Rosewood-Lane-88", password_confirm="Rosewood-Lane-88"
    )
    assert Client().login(username="alice", password="Rosewood-Lane-88")
    with pytest.raises(NotFound):
        people.user_password_set(
            uidb64=uidb64, token=token, password="Other-Pass-4455", password_confirm="Other-Pass-4455"
        )
    people.user_deactivate(actor=world.admin, user_id=world.agent.pk)
    with pytest.raises(Conflict):
        people.user_password_reset(actor=world.admin, user_id=world.agent.pk)


@pytest.mark.parametrize(("uidb64", "token"), [("", ""), ("!!", "x"), ("MTIzNDU2Nzg5", "abc-def"), ("zzzz", "1-2")])
def test_bad_links_find_nobody(world, uidb64, token):
    assert people.password_link_user(uidb64=uidb64, token=token) is None


def test_password_set_validates(world):
    link = people.user_password_reset(actor=world.admin, user_id=world.agent.pk)
    _, _, uidb64, token, _ = urlparse(link.url).path.split("/")
    for password, confirm, field in [
        ("", "", "password"),
        ("Rosewood-Lane-88", "Rosewood-Lane-89", "password_confirm"),
        ("12345678", "12345678", "password"),
        ("alice", "alice", "password"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            people.user_password_set(uidb64=uidb64, token=token, password=password, password_confirm=confirm)
        assert exc.value.field == field


# --- teams ----------------------------------------------------------------------------------------


def test_team_create_update_delete(world):
    team = people.team_create(
        actor=world.admin,
        name=" EU  desk ",
        store_ids=[world.store_de.pk],
        platforms=["EBAY", "amazon"],
        languages=["de", "fr", "de"],
        sku_categories=["phones"],
        member_ids=[world.agent.pk, world.outsider.pk],
    )
    team.refresh_from_db()
    assert team.name == "EU desk" and list(team.stores.all()) == [world.store_de]
    assert team.platforms == ["amazon", "ebay"] and team.languages == ["de", "fr"]
    assert team.sku_categories == ["phones"]
    assert set(team.members.values_list("username", flat=True)) == {"alice", "carol"}
    people.team_update(actor=world.admin, team_id=team.pk, name="EU", member_ids=[world.outsider.pk], platforms=[])
    team.refresh_from_db()
    assert team.name == "EU" and team.platforms == [] and team.languages == ["de", "fr"]
    assert list(team.members.values_list("username", flat=True)) == ["carol"]
    ticket = world.ticket(team=team)
    people.team_delete(actor=world.admin, team_id=team.pk)
    ticket.refresh_from_db()
    assert ticket.team_id is None and not Membership.objects.filter(team_id=team.pk).exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "error"),
    [
        ({"name": " "}, "name", ValidationFailed),
        ({"name": "x" * 121}, "name", ValidationFailed),
        ({"name": "us TEAM"}, "name", Conflict),
        ({"platforms": ["myspace"]}, "platforms", ValidationFailed),
        ({"languages": ["klingon"]}, "languages", ValidationFailed),
        ({"sku_categories": ["weapons"]}, "sku_categories", ValidationFailed),
    ],
)
def test_team_validation_names_the_field(world, kwargs, field, error):
    with pytest.raises(error) as exc:
        people.team_create(actor=world.admin, **({"name": "New"} | kwargs))
    assert exc.value.field == field
    assert not Team.objects.filter(name="New").exists()


def test_team_refuses_another_organizations_stores_and_users(world):
    with pytest.raises(NotFound) as exc:
        people.team_create(actor=world.admin, name="New", store_ids=[world.foreign_store.pk])
    assert exc.value.field == "store_ids"
    with pytest.raises(NotFound) as exc:
        people.team_update(actor=world.admin, team_id=world.team_us.pk, member_ids=[world.foreign_user.pk])
    assert exc.value.field == "member_ids"
    assert not Team.objects.filter(name="New").exists()
    assert world.foreign_user not in world.team_us.members.all()


# --- roles ----------------------------------------------------------------------------------------


def test_role_create_update_delete(world):
    role = people.role_create(
        actor=world.admin,
        name="Senior agent",
        permissions=["approve", "view", "reply", "process"],
        approval_limit_amount="250.5",
        approval_limit_currency="EUR",
    )
    assert role.permissions == ["view", "process", "reply", "approve"] and role.kind == "approver"
    assert role.approval_limit_amount == Decimal("250.50") and role.approval_limit_currency == "EUR"
    people.role_update(actor=world.admin, role_id=role.pk, name="Lead", approval_limit_amount=Decimal("1000000000"))
    role.refresh_from_db()
    assert role.name == "Lead" and role.approval_limit_amount == Decimal("1000000000")
    people.user_update(actor=world.admin, user_id=world.agent.pk, role_id=role.pk)
    with pytest.raises(Conflict) as exc:
        people.role_delete(actor=world.admin, role_id=role.pk)
    assert exc.value.field == "role_id"
    people.user_update(actor=world.admin, user_id=world.agent.pk, role_id=world.roles["agent"].pk)
    people.role_delete(actor=world.admin, role_id=role.pk)
    assert not Role.objects.filter(pk=role.pk).exists()
    roles = {r.name: r.user_count for r in people.people_roles(world.admin)}
    assert roles["agent"] == 3 and "Lead" not in roles


@pytest.mark.parametrize(
    ("kwargs", "field", "error"),
    [
        ({"name": ""}, "name", ValidationFailed),
        ({"name": "Agent"}, "name", Conflict),
        ({"permissions": []}, "permissions", ValidationFailed),
        ({"permissions": ["reply"]}, "permissions", ValidationFailed),  # every role views
        ({"permissions": ["view", "fly"]}, "permissions", ValidationFailed),
        ({"approval_limit_amount": "-1"}, "approval_limit_amount", ValidationFailed),
        ({"approval_limit_amount": "1000000000.01"}, "approval_limit_amount", ValidationFailed),
        ({"approval_limit_amount": "1.005"}, "approval_limit_amount", ValidationFailed),
        ({"approval_limit_amount": "NaN"}, "approval_limit_amount", ValidationFailed),
        ({"approval_limit_amount": "Infinity"}, "approval_limit_amount", ValidationFailed),
        ({"approval_limit_amount": "12abc"}, "approval_limit_amount", ValidationFailed),
        ({"approval_limit_amount": 1.5}, "approval_limit_amount", ValidationFailed),
        ({"approval_limit_currency": "usd"}, "approval_limit_currency", ValidationFailed),
        ({"approval_limit_currency": "USDX"}, "approval_limit_currency", ValidationFailed),
        ({"approval_limit_currency": "ZZZ"}, "approval_limit_currency", ValidationFailed),
    ],
)
def test_role_validation_names_the_field(world, kwargs, field, error):
    args = {"actor": world.admin, "name": "New", "permissions": ["view"]} | kwargs
    with pytest.raises(error) as exc:
        people.role_create(**args)
    assert exc.value.field == field
    assert not Role.objects.filter(name="New").exists()


def test_an_admin_role_keeps_administer_while_it_holds_the_last_admins(world):
    owners = people.role_create(actor=world.admin, name="Owners", permissions=["view", "administer"])
    zoe = User.objects.create(username="zoe", organization=world.org, role=owners)
    # Ada (role "admin") stays an admin: Owners may lose the right.
    people.role_update(actor=world.admin, role_id=owners.pk, permissions=["view"])
    zoe.refresh_from_db()
    assert zoe.role.kind == "viewer"
