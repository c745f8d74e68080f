"""Follow-ups (issue 11 section 5): settings, the coupon pool, a ticket's follow-up log and CSAT,
CSAT per agent / team. Class names are prefixed (FollowUp..., Csat...) to stay unique in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from aftersales.followups.models import CsatResponse, FollowUp, FollowUpSettings
from aftersales.followups.selectors import CsatRow, TicketFollowUps
from aftersales.followups.services import SettingsInput

from .common import Id, InputSchema


class FollowUpSettingsIn(InputSchema):
    stall_enabled: bool
    stall_days: int = Field(..., description="Days without a tracking event (1-60)")
    stall_template_id: Id | None = None
    csat_enabled: bool
    csat_delay_hours: int = Field(..., description="Hours after the ticket is solved (0-720)")
    csat_sample_percent: int = Field(..., description="Share of solved tickets surveyed (0-100), by ticket")
    csat_link_days: int = Field(..., description="Days the survey link works (1-90)")
    csat_template_id: Id | None = None
    thanks_enabled: bool
    thanks_categories: list[str] = Field(..., description="Ticket categories that count as complaints")
    coupon_pattern: str = Field("", description="e.g. SORRY-{code}; used when the pool is empty")
    thanks_template_id: Id | None = None
    warranty_delivery_enabled: bool = True

    def to_input(self) -> SettingsInput:
        return SettingsInput(**self.model_dump())


class FollowUpSettingsOut(Schema):
    stall_enabled: bool
    stall_days: int
    stall_template_id: int | None
    csat_enabled: bool
    csat_delay_hours: int
    csat_sample_percent: int
    csat_link_days: int
    csat_template_id: int | None
    thanks_enabled: bool
    thanks_categories: list[str]
    coupon_pattern: str
    thanks_template_id: int | None
    warranty_delivery_enabled: bool


def settings_out(row: FollowUpSettings) -> FollowUpSettingsOut:
    return FollowUpSettingsOut(**{name: getattr(row, name) for name in FollowUpSettingsOut.model_fields})


class CouponImportIn(InputSchema):
    csv: str = Field(..., max_length=1_000_000, description="One code per line (first column); header `code` optional")


class CouponImportOut(Schema):
    imported: int
    already_there: int


class CsatOut(Schema):
    rating: int
    comment: str
    language: str
    rated_at: datetime
    changes: int
    agent_id: int | None
    team_id: int | None


def csat_out(row: CsatResponse) -> CsatOut:
    return CsatOut(
        rating=row.rating,
        comment=row.comment,
        language=row.language,
        rated_at=row.rated_at,
        changes=row.changes,
        agent_id=row.agent_id,
        team_id=row.team_id,
    )


class FollowUpOut(Schema):
    id: int
    kind: str
    outcome: Literal["sent", "skipped"]
    reason: str
    detail: str
    language: str
    message_id: int | None
    coupon_code: str
    expires_at: datetime | None
    created_at: datetime


class TicketFollowUpsOut(Schema):
    follow_ups: list[FollowUpOut]
    csat: CsatOut | None


def ticket_follow_ups_out(found: TicketFollowUps) -> TicketFollowUpsOut:
    def one(row: FollowUp) -> FollowUpOut:
        return FollowUpOut(
            id=row.pk,
            kind=row.kind,
            outcome=row.outcome,  # type: ignore[arg-type]
            reason=row.reason,
            detail=row.detail,
            language=row.language,
            message_id=row.message_id,
            coupon_code=row.coupon_code,
            expires_at=row.expires_at,
            created_at=row.created_at,
        )

    return TicketFollowUpsOut(
        follow_ups=[one(r) for r in found.follow_ups], csat=csat_out(found.csat) if found.csat else None
    )


class CsatGroupOut(Schema):
    group_id: int | None
    name: str
    responses: int
    average: float
    satisfied_percent: float


def csat_group_out(row: CsatRow) -> CsatGroupOut:
    return CsatGroupOut(**row.__dict__)
