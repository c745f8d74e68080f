"""Follow-ups: the organization's settings and coupon pool (admins), a ticket's follow-up log with
its CSAT rating, CSAT per agent or team over a period. The same services and selectors as
Settings > Follow-ups and the ticket page."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.followups.selectors import csat_summary, followup_settings, ticket_follow_ups
from aftersales.followups.services import coupons_import, followup_settings_save

from ..auth import current_user
from ..schemas.common import Id, Instant, with_errors
from ..schemas.followups import (
    CouponImportIn,
    CouponImportOut,
    CsatGroupOut,
    FollowUpSettingsIn,
    FollowUpSettingsOut,
    TicketFollowUpsOut,
    csat_group_out,
    settings_out,
    ticket_follow_ups_out,
)

router = Router(tags=["follow-ups"])


@router.get("/followups/settings", response=with_errors({200: FollowUpSettingsOut}))
def get_followup_settings(request: HttpRequest) -> Any:
    """Stalled-parcel messages, CSAT surveys, thank-you coupons, warranty reminder delivery. Admins only."""
    return settings_out(followup_settings(current_user(request)))


@router.put("/followups/settings", response=with_errors({200: FollowUpSettingsOut}))
def save_followup_settings(request: HttpRequest, payload: FollowUpSettingsIn) -> Any:
    """Replace the settings. 422 names the field (a number out of range, an unknown category or
    template, a coupon pattern without `{code}`)."""
    return settings_out(followup_settings_save(user=current_user(request), values=payload.to_input()))


@router.post("/followups/coupons/import", response=with_errors({201: CouponImportOut}))
def import_coupons(request: HttpRequest, payload: CouponImportIn) -> Status[Any]:
    """Add coupon codes to the pool (all or nothing; a bad line is named `csv[line]`)."""
    result = coupons_import(user=current_user(request), csv_text=payload.csv)
    return Status(201, CouponImportOut(imported=result.imported, already_there=result.already_there))


@router.get("/tickets/{ticket_id}/follow-ups", response=with_errors({200: TicketFollowUpsOut}))
def get_ticket_follow_ups(request: HttpRequest, ticket_id: Id) -> Any:
    """What was sent or skipped on the ticket and why, and the buyer's CSAT rating."""
    return ticket_follow_ups_out(ticket_follow_ups(current_user(request), ticket_id))


@router.get("/followups/csat", response=with_errors({200: list[CsatGroupOut]}))
def get_csat_summary(
    request: HttpRequest,
    group_by: Literal["agent", "team"] = "agent",
    since: Instant | None = None,
    until: Instant | None = None,
) -> Any:
    """CSAT per agent or team over [since, until): ratings, average, share rated 4-5. Approvers and admins."""
    rows = csat_summary(current_user(request), group_by=group_by, since=since, until=until)
    return [csat_group_out(r) for r in rows]
