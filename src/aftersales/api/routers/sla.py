"""SLA (issue 11 §2): the deadline preview (any member; writes nothing), business calendars, policies
and team calendars (admins; another organization's ids answer 404), and a ticket's clocks."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.sla import selectors, services

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.sla import (
    CalendarIn,
    CalendarOut,
    PolicyIn,
    PolicyOut,
    PreviewIn,
    PreviewOut,
    TeamCalendarIn,
    TeamCalendarOut,
    TicketClocksOut,
)

router = Router(tags=["sla"])


def _value(choice: Any) -> str:
    return str(choice.value) if choice is not None else ""


@router.post("/sla/preview", response=with_errors({200: PreviewOut}))
def preview_sla(request: HttpRequest, payload: PreviewIn) -> Any:
    """Both deadlines (ours: first response and resolution on business time; the marketplace's) for a
    message arriving at `arrival`, creating nothing. 422 names the field: naive times, pauses out of
    order or overlapping (`pauses.1`), a bad inline calendar (`calendar.weekly_hours.mon.0`)."""
    return selectors.sla_preview(
        current_user(request),
        arrival=payload.arrival,
        platform=_value(payload.platform),
        urgency=_value(payload.urgency),
        customer_tier=_value(payload.customer_tier),
        category=_value(payload.category),
        policy_id=payload.policy_id,
        calendar_id=payload.calendar_id,
        team_id=payload.team_id,
        calendar=payload.calendar.model_dump() if payload.calendar else None,
        pauses=[(p[0], p[1]) for p in payload.pauses],  # type: ignore[misc]
        marketplace_respond_by=payload.marketplace_respond_by,
    )


# --- calendars -----------------------------------------------------------------------------------


@router.get("/sla/calendars", response=with_errors({200: list[CalendarOut]}))
def list_sla_calendars(request: HttpRequest) -> Any:
    """The organization's business calendars. Admins only."""
    return list(selectors.calendar_list(current_user(request)))


@router.post("/sla/calendars", response=with_errors({201: CalendarOut}))
def create_sla_calendar(request: HttpRequest, payload: CalendarIn) -> Status[Any]:
    """Create a calendar. 422 names the field: `timezone`, `weekly_hours.mon.1` (overlapping shifts),
    `holidays.0`, `special_days.2026-12-24.0`. Admins only."""
    row = services.calendar_save(user=current_user(request), **payload.model_dump())
    return Status(201, row)


@router.get("/sla/calendars/{calendar_id}", response=with_errors({200: CalendarOut}))
def get_sla_calendar(request: HttpRequest, calendar_id: Id) -> Any:
    return selectors.calendar_detail(current_user(request), calendar_id)


@router.put("/sla/calendars/{calendar_id}", response=with_errors({200: CalendarOut}))
def update_sla_calendar(request: HttpRequest, calendar_id: Id, payload: CalendarIn) -> Any:
    """Replace a calendar; the clocks of unresolved tickets are recomputed in the background."""
    return services.calendar_save(user=current_user(request), calendar_id=calendar_id, **payload.model_dump())


@router.delete("/sla/calendars/{calendar_id}", response=with_errors({204: None}))
def delete_sla_calendar(request: HttpRequest, calendar_id: Id) -> Status[None]:
    """Delete a calendar no policy uses (409 naming the policies otherwise)."""
    services.calendar_delete(user=current_user(request), calendar_id=calendar_id)
    return Status(204, None)


@router.get("/sla/team-calendars", response=with_errors({200: list[TeamCalendarOut]}))
def list_sla_team_calendars(request: HttpRequest) -> Any:
    """Which teams count on which calendar. Admins only."""
    links = selectors.team_calendars(current_user(request))
    return [{"team_id": team, "calendar_id": cal} for team, cal in sorted(links.items())]


@router.put("/sla/team-calendars/{team_id}", response=with_errors({200: TeamCalendarOut}))
def set_sla_team_calendar(request: HttpRequest, team_id: Id, payload: TeamCalendarIn) -> Any:
    """Give a team its business hours (null: none; the policies' calendars apply). Admins only."""
    services.team_calendar_set(user=current_user(request), team_id=team_id, calendar_id=payload.calendar_id)
    return {"team_id": team_id, "calendar_id": payload.calendar_id}


# --- policies ------------------------------------------------------------------------------------


@router.get("/sla/policies", response=with_errors({200: list[PolicyOut]}))
def list_sla_policies(request: HttpRequest) -> Any:
    """The organization's SLA policies, active first. Admins only."""
    return list(selectors.policy_list(current_user(request)))


@router.post("/sla/policies", response=with_errors({201: PolicyOut}))
def create_sla_policy(request: HttpRequest, payload: PolicyIn) -> Status[Any]:
    """Create a policy. Two active policies cannot name the same urgency, platform, tier and category
    (422 on `urgency`). Admins only."""
    return Status(201, services.policy_save(user=current_user(request), data=payload.as_data()))


@router.get("/sla/policies/{policy_id}", response=with_errors({200: PolicyOut}))
def get_sla_policy(request: HttpRequest, policy_id: Id) -> Any:
    return selectors.policy_detail(current_user(request), policy_id)


@router.put("/sla/policies/{policy_id}", response=with_errors({200: PolicyOut}))
def update_sla_policy(request: HttpRequest, policy_id: Id, payload: PolicyIn) -> Any:
    return services.policy_save(user=current_user(request), data=payload.as_data(), policy_id=policy_id)


@router.delete("/sla/policies/{policy_id}", response=with_errors({204: None}))
def delete_sla_policy(request: HttpRequest, policy_id: Id) -> Status[None]:
    services.policy_delete(user=current_user(request), policy_id=policy_id)
    return Status(204, None)


# --- a ticket's clocks ---------------------------------------------------------------------------


@router.get("/tickets/{ticket_id}/sla", response=with_errors({200: TicketClocksOut}))
def get_ticket_sla(request: HttpRequest, ticket_id: Id) -> Any:
    """Our first-response and resolution clocks and the marketplace's, with their states. A ticket the
    user cannot see answers 404."""
    return selectors.ticket_clocks_by_id(current_user(request), ticket_id)
