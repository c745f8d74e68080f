"""Schemas of GET /settings/history (accounts.OrgSettingChange)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class OrgSettingChangeOut(Schema):
    setting: str = Field(..., description="e.g. refund_review.repeat_threshold, customer_notification.approved")
    old_value: Any = Field(None, description="Before the change (null for a secret)")
    new_value: Any = Field(None, description='After the change ("changed" for a secret: never its value)')
    secret: bool
    fingerprint: str = Field(..., description="A secret's SHA-256 fingerprint (first 12 hex digits); else empty")
    actor_id: int | None = Field(None, description="The user who changed it (null: deleted since)")
    actor_name: str
    via: str = Field(..., description="web, api or command")
    at: datetime

    @staticmethod
    def resolve_actor_name(obj: Any) -> str:
        return str(obj.actor) if obj.actor_id is not None and obj.actor is not None else ""


class OrgSettingChangesOut(Schema):
    changes: list[OrgSettingChangeOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next (older) page; null: last page")


class SettingHistoryFilters(Schema):
    group: str = Field(
        "", max_length=40, description="A setting group, e.g. sla_policy, store, role, customer_notification"
    )
    actor: int | None = Field(None, description="Only the changes of this user (id)")
    cursor: str = Field("", max_length=20, description="next_cursor of the previous page")
    limit: int = Field(50, ge=1, le=200)
