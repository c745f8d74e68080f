"""SLA: business calendars, policies, team calendars, a ticket's clocks and the deadline preview (issue 11 §2)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Schema

from aftersales.catalog.models import CustomerTier, Platform
from aftersales.inbox.workflow import TicketCategory, Urgency

from .common import Id, InputSchema, Instant

ShiftPair = Annotated[list[Annotated[str, Field(max_length=5)]], Field(min_length=2, max_length=2)]
Shifts = Annotated[list[ShiftPair], Field(max_length=12)]
WEEKLY_DESCRIPTION = (
    'Days mon..sun, each a list of ["HH:MM", "HH:MM"] shifts (24:00 allowed as an end; an end at or before the '
    'start runs past midnight, e.g. ["22:00", "06:00"]); a missing day is closed. Example: {"mon": [["09:00", '
    '"12:00"], ["13:30", "18:30"]], "sat": [["10:00", "14:00"]]}'
)


class CalendarIn(InputSchema):
    name: str = Field(..., max_length=120)
    timezone: str = Field(..., max_length=64, examples=["Europe/Berlin"], description="IANA time zone")
    weekly_hours: dict[Annotated[str, Field(max_length=10)], Shifts] = Field(..., description=WEEKLY_DESCRIPTION)
    holidays: list[Annotated[str, Field(max_length=10)]] = Field(
        default_factory=list, max_length=1000, description="Closed dates, YYYY-MM-DD"
    )
    special_days: dict[Annotated[str, Field(max_length=10)], Shifts] = Field(
        default_factory=dict, description="YYYY-MM-DD: shifts that replace the day's usual hours ([] = closed)"
    )


class InlineCalendarIn(InputSchema):
    name: str = Field("", max_length=120)
    timezone: str = Field(..., max_length=64, examples=["Europe/Berlin"])
    weekly_hours: dict[Annotated[str, Field(max_length=10)], Shifts] = Field(..., description=WEEKLY_DESCRIPTION)
    holidays: list[Annotated[str, Field(max_length=10)]] = Field(default_factory=list, max_length=1000)
    special_days: dict[Annotated[str, Field(max_length=10)], Shifts] = Field(default_factory=dict)


class CalendarOut(Schema):
    id: int
    name: str
    timezone: str
    weekly_hours: dict[str, list[list[str]]]
    holidays: list[str]
    special_days: dict[str, list[list[str]]]


class PolicyIn(InputSchema):
    name: str = Field(..., max_length=120)
    urgency: Urgency | None = Field(None, description="Empty: any urgency")
    platform: Platform | None = Field(None, description="Empty: any platform")
    customer_tier: CustomerTier | None = Field(None, description="Empty: any tier")
    category: TicketCategory | None = Field(None, description="Empty: any category")
    first_response_minutes: int = Field(..., ge=1, le=525_600, description="Business minutes")
    resolution_minutes: int = Field(..., ge=1, le=525_600, description="Business minutes")
    warning_percent: int = Field(75, ge=1, le=99, description="Warn when this share of the target is used")
    calendar_id: Id | None = Field(None, description="Empty: around the clock (unless the ticket's team has one)")
    is_active: bool = True

    def as_data(self) -> dict[str, Any]:
        data = self.model_dump()
        for f in ("urgency", "platform", "customer_tier", "category"):
            data[f] = data[f].value if data[f] is not None and hasattr(data[f], "value") else (data[f] or "")
        return data


class PolicyOut(Schema):
    id: int
    name: str
    urgency: str
    platform: str
    customer_tier: str
    category: str
    first_response_minutes: int
    resolution_minutes: int
    warning_percent: int
    calendar_id: int | None
    is_active: bool
    specificity: int = Field(..., description="urgency 8 + platform 4 + customer tier 2 + category 1: the highest wins")

    @staticmethod
    def resolve_specificity(obj: Any) -> int:
        return int(obj.specificity())


class TeamCalendarIn(InputSchema):
    calendar_id: Id | None = Field(..., description="null: the team has no calendar of its own")


class TeamCalendarOut(Schema):
    team_id: int
    calendar_id: int | None


class PreviewIn(InputSchema):
    arrival: Instant = Field(..., description="When the customer's message arrived, with its offset")
    platform: Platform | None = None
    urgency: Urgency | None = None
    customer_tier: CustomerTier | None = None
    category: TicketCategory | None = None
    policy_id: Id | None = Field(None, description="Use this policy; else the best match of the facts above")
    calendar_id: Id | None = Field(None, description="Count on this calendar instead of the policy's")
    team_id: Id | None = Field(None, description="Count on this team's calendar, if it has one")
    calendar: InlineCalendarIn | None = Field(None, description="An unsaved calendar to count on")
    pauses: list[Annotated[list[Instant | None], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list,
        max_length=200,
        description="[[from, to], ...] in order, not overlapping; the last `to` may be null (still waiting)",
    )
    marketplace_respond_by: Instant | None = Field(None, description="The due date a marketplace sent (eBay, Shopee)")


class PreviewOut(Schema):
    policy_id: int | None
    policy_name: str
    calendar_name: str = Field(..., description='"" = around the clock')
    first_response_minutes: int | None
    resolution_minutes: int | None
    first_response_due: datetime | None = Field(..., description="null: no policy, or a pause still open")
    resolution_due: datetime | None
    marketplace_due: datetime | None = Field(..., description="Amazon 24 h, TikTok 48 h elapsed; eBay/Shopee: given")


class ClockOut(Schema):
    clock: str
    label: str
    due: datetime | None
    stopped_at: datetime | None
    state: str = Field(..., description="none, running, warning, paused, overdue, met, missed")
    warned_at: datetime | None
    breached_at: datetime | None
    source: str = Field("", description="marketplace: elapsed_hours or respond_by")


class TicketClocksOut(Schema):
    ticket_id: int
    policy_id: int | None
    policy_name: str
    calendar_name: str
    started_at: datetime
    first_response: ClockOut
    resolution: ClockOut
    marketplace: ClockOut
    is_paused: bool
    paused_seconds: int
    computed_at: datetime | None = Field(..., description="null: not stored yet, computed for this answer")
