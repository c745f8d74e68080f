"""Users, teams and roles as an organization's admin sees and changes them (accounts.people).

Write schemas refuse unknown fields (InputSchema). In PATCH bodies a field left out, or null, keeps
its value. Lengths and choices are checked by the services, which name the field in a 422."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from aftersales.accounts.models import Permission, RoutingStrategy, UserLanguage

from .accounts import TeamOut
from .common import Id, InputSchema, MoneyOut, money

MAX_IDS = 500


class RoleRef(Schema):
    id: int
    name: str
    kind: str


class TeamRef(Schema):
    id: int
    name: str


SKILLS_DOC = "Routing by skill: what this agent handles; empty means any"


class UserAdminOut(Schema):
    id: int
    username: str
    display_name: str = Field(..., description="The display name, or the username when none is set")
    email: str
    language: str
    is_active: bool
    has_password: bool = Field(..., description="False until an invited user has chosen a password")
    role: RoleRef | None
    teams: list[TeamRef]
    last_login: datetime | None
    date_joined: datetime
    skill_languages: list[str] = Field(..., description=SKILLS_DOC)
    skill_platforms: list[str] = Field(..., description=SKILLS_DOC)
    skill_categories: list[str] = Field(..., description=f"Ticket categories. {SKILLS_DOC}")

    @staticmethod
    def resolve_display_name(obj: Any) -> str:
        return str(obj)

    @staticmethod
    def resolve_has_password(obj: Any) -> bool:
        return bool(obj.has_usable_password())

    @staticmethod
    def resolve_teams(obj: Any) -> list[Any]:
        return sorted(obj.teams.all(), key=lambda t: t.name)


class UserInviteIn(InputSchema):
    username: str = Field(..., max_length=300)
    email: str = Field("", max_length=300, description="Where the set-password link is e-mailed (optional)")
    display_name: str = Field("", max_length=300)
    role_id: Id
    team_ids: list[Id] = Field([], max_length=MAX_IDS)
    language: UserLanguage = UserLanguage.EN


class UserPatchIn(InputSchema):
    """`is_active: false` deactivates the user (never yourself, never the last active admin)."""

    display_name: str | None = Field(None, max_length=300)
    email: str | None = Field(None, max_length=300)
    role_id: Id | None = None
    team_ids: list[Id] | None = Field(None, max_length=MAX_IDS, description="Replaces the user's teams")
    language: UserLanguage | None = None
    is_active: bool | None = None
    skill_languages: list[str] | None = Field(None, max_length=MAX_IDS, description=SKILLS_DOC)
    skill_platforms: list[str] | None = Field(None, max_length=MAX_IDS, description=SKILLS_DOC)
    skill_categories: list[str] | None = Field(None, max_length=MAX_IDS, description=f"Ticket categories. {SKILLS_DOC}")


class SetPasswordLinkOut(Schema):
    user: UserAdminOut
    set_password_url: str = Field(
        ..., description="One-time link for the user to choose a password: shown this once, never stored"
    )
    emailed: bool = Field(..., description="Whether the link was also e-mailed to the user")


class TeamAdminOut(TeamOut):
    """A team as its organization's admin sees it: its scope and its members."""

    member_ids: list[int]
    lead_ids: list[int] = Field(..., description="Members told when one of the team's tickets breaches an SLA")
    routing_strategy: str = Field(..., description="How routing by skill picks an agent: least_loaded or round_robin")

    @staticmethod
    def resolve_member_ids(obj: Any) -> list[int]:
        return sorted(u.pk for u in obj.members.all())

    @staticmethod
    def resolve_lead_ids(obj: Any) -> list[int]:
        return sorted(m.user_id for m in obj.memberships.all() if m.is_lead)


SCOPE_DOC = "Empty means all"


class TeamIn(InputSchema):
    name: str = Field(..., max_length=300)
    store_ids: list[Id] = Field([], max_length=MAX_IDS, description=SCOPE_DOC)
    platforms: list[str] = Field([], max_length=MAX_IDS, description=SCOPE_DOC)
    languages: list[str] = Field([], max_length=MAX_IDS, description=f"ISO 639-1 codes. {SCOPE_DOC}")
    sku_categories: list[str] = Field([], max_length=MAX_IDS, description=SCOPE_DOC)
    member_ids: list[Id] = Field([], max_length=MAX_IDS)
    lead_ids: list[Id] = Field([], max_length=MAX_IDS, description="Team leads, among the members")
    routing_strategy: RoutingStrategy | None = Field(None, description="least_loaded (default) or round_robin")


class TeamPatchIn(InputSchema):
    name: str | None = Field(None, max_length=300)
    store_ids: list[Id] | None = Field(None, max_length=MAX_IDS)
    platforms: list[str] | None = Field(None, max_length=MAX_IDS)
    languages: list[str] | None = Field(None, max_length=MAX_IDS)
    sku_categories: list[str] | None = Field(None, max_length=MAX_IDS)
    member_ids: list[Id] | None = Field(None, max_length=MAX_IDS)
    lead_ids: list[Id] | None = Field(None, max_length=MAX_IDS, description="Replaces the team's leads (members)")
    routing_strategy: RoutingStrategy | None = None


class RoleAdminOut(Schema):
    id: int
    name: str
    kind: str
    permissions: list[str]
    approval_limit: MoneyOut
    user_count: int = Field(..., description="Users with this role, active or not")

    @staticmethod
    def resolve_approval_limit(obj: Any) -> dict[str, str]:
        return money(obj.approval_limit_amount, obj.approval_limit_currency)


PERMISSIONS_DOC = f"Some of: {', '.join(Permission.values)} (every role has view)"
AMOUNT_DOC = "Largest refund the role may approve: 0 to 1000000000, at most 2 decimal places"


class RoleIn(InputSchema):
    name: str = Field(..., max_length=300)
    permissions: list[str] = Field(..., max_length=20, description=PERMISSIONS_DOC)
    approval_limit_amount: Decimal = Field(Decimal("0"), description=AMOUNT_DOC)
    approval_limit_currency: str | None = Field(
        None, max_length=10, description="ISO 4217; the organization's currency when left out"
    )


class RolePatchIn(InputSchema):
    name: str | None = Field(None, max_length=300)
    permissions: list[str] | None = Field(None, max_length=20, description=PERMISSIONS_DOC)
    approval_limit_amount: Decimal | None = Field(None, description=AMOUNT_DOC)
    approval_limit_currency: str | None = Field(None, max_length=10, description="ISO 4217")
