"""The personas every permission test needs: in one organization an agent and a teammate (same
team, scoped to the US Amazon store), an outsider agent (another team, another store), a viewer,
an approver and an admin; and a user of a foreign organization."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from aftersales.accounts.models import DEFAULT_ROLE_PERMISSIONS, Membership, Organization, Role, RoleKind, Team, User
from aftersales.catalog.models import Platform, Store

from .factories import OrganizationFactory, StoreFactory, TeamFactory, TicketFactory, UserFactory


@dataclass
class World:
    org: Organization
    store_us: Store
    store_de: Store
    team_us: Team
    team_de: Team
    agent: User
    teammate: User
    outsider: User
    viewer: User
    approver: User
    admin: User
    foreign_org: Organization
    foreign_store: Store
    foreign_user: User
    roles: dict[str, Role]

    def ticket(self, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("store", self.store_us)
        return TicketFactory(**kwargs)

    def foreign_ticket(self, **kwargs):  # type: ignore[no-untyped-def]
        return TicketFactory(store=self.foreign_store, **kwargs)


def make_roles(org: Organization) -> dict[str, Role]:
    roles = {}
    for kind in RoleKind:
        roles[kind.value] = Role.objects.create(
            organization=org,
            kind=kind,
            name=kind.value,
            permissions=[str(p) for p in DEFAULT_ROLE_PERMISSIONS[kind]],
            approval_limit_amount=Decimal("100") if kind == RoleKind.APPROVER else Decimal("0"),
        )
    return roles


def build_world() -> World:
    org = OrganizationFactory(name="Shenzhen Gadgets", slug="shenzhen-gadgets")
    roles = make_roles(org)
    store_us = StoreFactory(organization=org, name="Amazon US", platform=Platform.AMAZON, site="amazon.com")
    store_de = StoreFactory(
        organization=org, name="eBay DE", platform=Platform.EBAY, site="ebay.de", default_language="de"
    )
    team_us = TeamFactory(organization=org, name="US team")
    team_us.stores.add(store_us)
    team_de = TeamFactory(organization=org, name="DE team")
    team_de.stores.add(store_de)

    def user(name: str, kind: str, team: Team | None) -> User:
        u = UserFactory(username=name, organization=org, role=roles[kind], display_name=name.title())
        if team is not None:
            Membership.objects.create(team=team, user=u)
        return u

    foreign_org = OrganizationFactory(name="Other Seller", slug="other-seller")
    foreign_roles = make_roles(foreign_org)
    foreign_store = StoreFactory(organization=foreign_org, name="Other Amazon", platform=Platform.AMAZON)
    foreign_user = UserFactory(username="foreigner", organization=foreign_org, role=foreign_roles["admin"])
    return World(
        org=org,
        store_us=store_us,
        store_de=store_de,
        team_us=team_us,
        team_de=team_de,
        agent=user("alice", "agent", team_us),
        teammate=user("bob", "agent", team_us),
        outsider=user("carol", "agent", team_de),
        viewer=user("victor", "viewer", team_us),
        approver=user("peter", "approver", team_us),
        admin=user("ada", "admin", None),
        foreign_org=foreign_org,
        foreign_store=foreign_store,
        foreign_user=foreign_user,
        roles=roles,
    )
