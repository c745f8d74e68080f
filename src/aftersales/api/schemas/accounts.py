"""The signed-in user, colleagues, teams, stores, API tokens, saved views, notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import AwareDatetime

from aftersales.accounts.models import TokenScope, UserLanguage

from .common import Id, InputSchema


class TeamOut(Schema):
    id: int
    name: str
    store_ids: list[int]
    platforms: list[str]
    languages: list[str]
    sku_categories: list[str]

    @staticmethod
    def resolve_store_ids(obj: Any) -> list[int]:
        return sorted(store.pk for store in obj.stores.all())


class RoleOut(Schema):
    kind: str
    name: str
    permissions: list[str]


class ColleagueOut(Schema):
    id: int
    username: str
    display_name: str
    role: str | None

    @staticmethod
    def resolve_display_name(obj: Any) -> str:
        return str(obj)

    @staticmethod
    def resolve_role(obj: Any) -> str | None:
        return obj.role.kind if obj.role_id else None


class OrganizationOut(Schema):
    id: int
    name: str
    slug: str
    timezone: str
    default_currency: str


class TeamRef(Schema):
    id: int
    name: str


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    language: str
    organization: OrganizationOut | None
    role: RoleOut | None
    teams: list[TeamRef]


class MePatchIn(InputSchema):
    language: UserLanguage


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(..., description="First characters of the token, to recognise it")
    scopes: list[TokenScope] = Field(..., description="What the token may do (never more than your role)")
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime


class TokenCreateIn(InputSchema):
    name: str = Field(..., max_length=200)
    scopes: list[TokenScope] = Field(
        [TokenScope.READ],
        max_length=len(TokenScope.values),
        description="read: GET requests; write: changes; admin: organization settings (admins); "
        "tokens: create tokens (no wider nor longer-lived than itself). Default: read.",
    )
    expires_at: AwareDatetime | None = Field(
        None,
        description="ISO 8601 with offset, in the future and at most 365 days ahead; omit for 90 days",
    )


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="The secret, shown this once only: send it as 'Authorization: Bearer <token>'")


class LockoutOut(Schema):
    user_id: int
    username: str
    failures: int = Field(..., description="Failed sign-ins within the cool-off, every address together")
    locked: bool
    locked_until: datetime | None
    ip_addresses: list[str]
    last_failure_at: datetime | None


class SavedViewOut(Schema):
    id: int
    name: str
    filters: dict[str, str]
    sort: str
    created_at: datetime


class SavedViewIn(InputSchema):
    name: str = Field(..., max_length=200)
    filters: dict[str, str | list[str] | int | bool] = Field(
        {}, description='Inbox filters, as in GET /tickets (e.g. {"status": "open", "platform": "amazon,ebay"})'
    )
    sort: str = "-updated_at"


class NotificationOut(Schema):
    id: int
    kind: str
    text: str
    ticket_id: int | None
    created_at: datetime
    read_at: datetime | None


class NotificationListOut(Schema):
    items: list[NotificationOut]
    unread_count: int


class MarkReadIn(InputSchema):
    ids: list[Id] | None = Field(None, max_length=1000, description="Notifications to mark read; omit for all")


class MarkReadOut(Schema):
    marked: int
