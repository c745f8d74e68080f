from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from aftersales.accounts.models import Organization, Role, User
from aftersales.accounts.permissions import can_approve_amount, has_perm, ticket_scope_q
from aftersales.accounts.selectors import user_for_token
from aftersales.accounts.services import api_token_create, api_token_revoke, organization_create, user_set_language
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.inbox.models import Ticket


def test_organization_create_sets_up_roles_and_admin(db):
    org, admin = organization_create(
        name="Yiwu Home Goods", admin_username="boss", admin_email="boss@example.cn", admin_password="s3cure-Passw0rd!"
    )
    assert sorted(Role.objects.filter(organization=org).values_list("kind", flat=True)) == [
        "admin",
        "agent",
        "approver",
        "viewer",
    ]
    assert has_perm(admin, "administer") and admin.check_password("s3cure-Passw0rd!")
    # The organization's admin administers it in the agent UI, never in the (unscoped) Django admin.
    assert not admin.is_staff and not admin.is_superuser
    with pytest.raises(Conflict):
        organization_create(
            name="Yiwu Home Goods", admin_username="x", admin_email="x@y.z", admin_password="s3cure-Passw0rd!"
        )
    assert Organization.objects.count() == 1  # nothing half-written


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": " "}, "name"),
        ({"timezone_name": "Mars/Olympus"}, "timezone"),
        ({"admin_password": "123"}, "admin_password"),
    ],
)
def test_organization_create_validates(db, kwargs, field):
    args = {
        "name": "Shop",
        "admin_username": "a",
        "admin_email": "a@b.c",
        "admin_password": "s3cure-Passw0rd!",
    } | kwargs
    with pytest.raises(ValidationFailed) as exc:
        organization_create(**args)
    assert exc.value.field == field
    assert not Organization.objects.exists() and not User.objects.exists()


def test_create_organization_command(db, monkeypatch):
    monkeypatch.setenv("AFTERSALES_ADMIN_PASSWORD", "s3cure-Passw0rd!")
    call_command(
        "create_organization",
        "Guangzhou Apparel",
        "--admin",
        "mei",
        "--email",
        "mei@example.cn",
        stdout=io.StringIO(),
    )
    assert User.objects.get(username="mei").organization.name == "Guangzhou Apparel"
    with pytest.raises(CommandError, match="timezone"):
        call_command("create_organization", "X", "--admin", "z", "--email", "z@x.y", "--timezone", "Nope/Nope")


def test_tokens_authenticate_until_revoked_or_expired(world):
    token, raw = api_token_create(user=world.agent, name="ERP sync")
    assert raw.startswith("as_") and token.digest != raw and raw not in token.prefix + token.digest
    assert user_for_token(raw) == world.agent
    assert user_for_token(raw + "x") is None
    api_token_revoke(user=world.agent, token_id=token.pk)
    assert user_for_token(raw) is None
    soon, raw2 = api_token_create(user=world.agent, name="short", expires_at=timezone.now() + timedelta(seconds=60))
    type(soon).objects.filter(pk=soon.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert user_for_token(raw2) is None
    world.teammate.is_active = False
    world.teammate.save()
    _, raw3 = api_token_create(user=world.teammate, name="t")
    assert user_for_token(raw3) is None


def test_scope_matrix(world):
    us = world.ticket()
    de = world.ticket(store=world.store_de)
    routed = world.ticket(store=world.store_de, team=world.team_us)
    mine = world.ticket(store=world.store_de, assignee=world.agent)
    foreign = world.foreign_ticket()

    def visible(user):  # type: ignore[no-untyped-def]
        return set(Ticket.objects.filter(ticket_scope_q(user)).values_list("pk", flat=True))

    assert visible(world.agent) == {us.pk, routed.pk, mine.pk}
    assert visible(world.outsider) == {de.pk, routed.pk, mine.pk}  # all on the DE store
    assert visible(world.admin) == {us.pk, de.pk, routed.pk, mine.pk}
    assert visible(world.viewer) == {us.pk, routed.pk}
    assert foreign.pk in visible(world.foreign_user)
    world.agent.is_active = False
    assert visible(world.agent) == set()


def test_team_scope_by_language_and_category(world):
    from aftersales.testing.factories import TeamFactory, UserFactory

    team = TeamFactory(organization=world.org, languages=["de", "fr"], sku_categories=["phones"])
    user = UserFactory(organization=world.org, role=world.roles["agent"])
    team.members.add(user)
    match = world.ticket(language="de", sku_category="phones")
    world.ticket(language="de", sku_category="apparel")
    world.ticket(language="en", sku_category="phones")
    assert list(Ticket.objects.filter(ticket_scope_q(user)).values_list("pk", flat=True)) == [match.pk]


def test_approval_limits(world):
    from decimal import Decimal

    assert can_approve_amount(world.approver, Decimal("100"), "USD")
    assert not can_approve_amount(world.approver, Decimal("100.01"), "USD")
    assert not can_approve_amount(world.approver, Decimal("1"), "EUR")
    assert not can_approve_amount(world.agent, Decimal("1"), "USD")
    assert can_approve_amount(world.admin, Decimal("100000"), "USD")


def test_user_language(world):
    assert user_set_language(user=world.agent, language="zh-hans").language == "zh-hans"
    with pytest.raises(ValidationFailed):
        user_set_language(user=world.agent, language="fr")
