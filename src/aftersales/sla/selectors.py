"""SLA reads: calendars and policies of the user's organization, a ticket's clocks (as the ticket page
and GET /tickets/{id}/sla show them) and the side-effect-free preview of deadlines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, check_ticket, organization_of
from aftersales.core.clock import now as clock_now
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.inbox.models import Ticket

from .business_time import (
    ALWAYS_OPEN,
    BusinessTimeError,
    Calendar,
    Pause,
    add_business_time,
    calendar_from_spec,
    check_aware,
    check_pauses,
    marketplace_due,
)
from .models import BusinessCalendar, SlaClock, SlaPolicy, TeamCalendar, TicketSla
from .sources import clocks_for_ticket, policy_for


def calendar_list(user: Any) -> QuerySet[BusinessCalendar]:
    check_perm(user, Permission.ADMINISTER)
    return BusinessCalendar.objects.filter(organization_id=organization_of(user)).order_by("name", "pk")


def calendar_detail(user: Any, calendar_id: int) -> BusinessCalendar:
    check_perm(user, Permission.ADMINISTER)
    row = BusinessCalendar.objects.filter(pk=calendar_id, organization_id=organization_of(user)).first()
    if row is None:
        raise NotFound(_("calendar not found"), field="calendar_id")
    return row


def policy_list(user: Any) -> QuerySet[SlaPolicy]:
    check_perm(user, Permission.ADMINISTER)
    return (
        SlaPolicy.objects.filter(organization_id=organization_of(user))
        .select_related("calendar")
        .order_by("-is_active", "name", "pk")
    )


def policy_detail(user: Any, policy_id: int) -> SlaPolicy:
    check_perm(user, Permission.ADMINISTER)
    row = (
        SlaPolicy.objects.filter(pk=policy_id, organization_id=organization_of(user)).select_related("calendar").first()
    )
    if row is None:
        raise NotFound(_("policy not found"), field="policy_id")
    return row


def team_calendars(user: Any) -> dict[int, int]:
    """{team id: calendar id} for the user's organization (admins)."""
    check_perm(user, Permission.ADMINISTER)
    return dict(
        TeamCalendar.objects.filter(team__organization_id=organization_of(user)).values_list("team_id", "calendar_id")
    )


# --------------------------------------------------------------------------- a ticket's clocks


@dataclass(frozen=True)
class ClockView:
    clock: str
    label: str
    due: datetime | None
    stopped_at: datetime | None  # met (or missed) at; None while running
    state: str  # none, running, paused, warning, overdue, met, missed
    warned_at: datetime | None
    breached_at: datetime | None
    source: str = ""

    @property
    def is_late(self) -> bool:
        return self.state in ("overdue", "missed")


@dataclass(frozen=True)
class TicketClocks:
    ticket_id: int
    policy_id: int | None
    policy_name: str
    calendar_name: str
    started_at: datetime
    first_response: ClockView
    resolution: ClockView
    marketplace: ClockView
    is_paused: bool
    paused_seconds: int
    computed_at: datetime | None  # None: computed now for this view (no stored row yet)


def _state(
    due: datetime | None, warn_at: datetime | None, stopped: datetime | None, paused: bool, now: datetime
) -> str:
    if stopped is not None:
        if due is None:
            return "met" if not paused else "none"
        return "met" if stopped <= due else "missed"
    if due is None:
        return "paused" if paused else "none"
    if due <= now:
        return "overdue"
    if warn_at is not None and warn_at <= now:
        return "warning"
    return "running"


def clocks_view(row: Any, *, now: datetime, policy_name: str = "") -> TicketClocks:
    """The view of a TicketSla row (or of an unsaved one with the same attributes)."""
    paused = bool(row.is_paused)

    def view(
        clock: SlaClock, due: Any, warn: Any, stopped: Any, warned: Any, breached: Any, source: str = ""
    ) -> ClockView:
        state = _state(due, warn, stopped, paused and clock != SlaClock.MARKETPLACE, now)
        return ClockView(clock.value, str(clock.label), due, stopped, state, warned, breached, source)

    return TicketClocks(
        ticket_id=row.ticket_id,
        policy_id=row.policy_id,
        policy_name=policy_name,
        calendar_name=row.calendar_name,
        started_at=row.started_at,
        first_response=view(
            SlaClock.FIRST_RESPONSE,
            row.first_response_due,
            row.first_response_warn_at,
            row.first_response_at,
            row.first_response_warned_at,
            row.first_response_breached_at,
        ),
        resolution=view(
            SlaClock.RESOLUTION,
            row.resolution_due,
            row.resolution_warn_at,
            row.resolved_at,
            row.resolution_warned_at,
            row.resolution_breached_at,
        ),
        marketplace=view(
            SlaClock.MARKETPLACE,
            row.marketplace_due,
            row.marketplace_warn_at,
            None,
            row.marketplace_warned_at,
            row.marketplace_breached_at,
            row.marketplace_source,
        ),
        is_paused=paused,
        paused_seconds=row.paused_seconds,
        computed_at=None if row._state.adding else row.computed_at,
    )


def ticket_clocks(user: Any, ticket: Ticket, *, now: datetime | None = None) -> TicketClocks:
    """The clocks of a ticket the user may see (NotFound otherwise). A ticket without a stored row
    (its first event not processed yet) is computed on the fly; nothing is written."""
    check_ticket(user, ticket)
    at = now or clock_now()
    row = TicketSla.objects.filter(ticket_id=ticket.pk).select_related("policy").first()
    if row is not None:
        return clocks_view(row, now=at, policy_name=row.policy.name if row.policy else "")
    policy, calendar_name, history, clocks = clocks_for_ticket(ticket, now=at)
    unsaved = TicketSla(
        ticket_id=ticket.pk,
        organization_id=ticket.organization_id,
        policy_id=policy.pk if policy else None,
        calendar_name=calendar_name,
        started_at=history.started_at,
        computed_at=at,
        **clocks.__dict__,
    )
    return clocks_view(unsaved, now=at, policy_name=policy.name if policy else "")


def ticket_clocks_by_id(user: Any, ticket_id: int) -> TicketClocks:
    ticket = Ticket.objects.filter(pk=ticket_id, organization_id=organization_of(user)).first()
    if ticket is None:
        raise NotFound(_("ticket not found"), field="ticket_id")
    return ticket_clocks(user, ticket)


@dataclass(frozen=True)
class RowClocks:
    """What an inbox row shows: our running clock (first response while it runs, else resolution) and
    the marketplace's, each only while it runs (running, warning, overdue or paused)."""

    ours: ClockView | None
    marketplace: ClockView | None


ROW_STATES = frozenset({"running", "warning", "overdue", "paused"})
_ROW_FIELDS = (
    "ticket_id",
    "policy_id",
    "calendar_name",
    "started_at",
    "is_paused",
    "paused_seconds",
    "computed_at",
    "first_response_due",
    "first_response_warn_at",
    "first_response_at",
    "first_response_warned_at",
    "first_response_breached_at",
    "resolution_due",
    "resolution_warn_at",
    "resolved_at",
    "resolution_warned_at",
    "resolution_breached_at",
    "marketplace_due",
    "marketplace_warn_at",
    "marketplace_warned_at",
    "marketplace_breached_at",
    "marketplace_source",
)


def inbox_row_clocks(ticket_ids: list[int], *, now: datetime | None = None) -> dict[int, RowClocks]:
    """The clocks of an inbox page's tickets (already filtered to what the user may see by the inbox
    selector): one primary-key lookup of their stored rows, nothing computed on the fly (a ticket
    without a row shows no clock until the worker computes it)."""
    if not ticket_ids:
        return {}
    at = now or clock_now()
    out: dict[int, RowClocks] = {}
    for row in TicketSla.objects.filter(ticket_id__in=ticket_ids).only(*_ROW_FIELDS):
        view = clocks_view(row, now=at)
        running = [c for c in (view.first_response, view.resolution) if c.state in ROW_STATES]
        out[row.ticket_id] = RowClocks(
            ours=running[0] if running else None,
            marketplace=view.marketplace if view.marketplace.state in ROW_STATES else None,
        )
    return out


# --------------------------------------------------------------------------- preview


@dataclass(frozen=True)
class Preview:
    policy_id: int | None
    policy_name: str
    calendar_name: str
    first_response_minutes: int | None
    resolution_minutes: int | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    marketplace_due: datetime | None


class _Facts:
    def __init__(self, **kw: str) -> None:
        self.__dict__.update(kw)


def sla_preview(
    user: Any,
    *,
    arrival: datetime,
    platform: str = "",
    urgency: str = "",
    customer_tier: str = "",
    category: str = "",
    policy_id: int | None = None,
    calendar_id: int | None = None,
    calendar: dict[str, Any] | None = None,
    team_id: int | None = None,
    pauses: Sequence[tuple[datetime, datetime | None]] = (),
    marketplace_respond_by: datetime | None = None,
) -> Preview:
    """Both deadlines for a message arriving at `arrival` (with its offset), creating nothing.
    The policy: `policy_id`, else the most specific active policy matching the facts. The calendar:
    the inline `calendar`, else `calendar_id`, else the team's, else the policy's, else around the
    clock. 422 naming the field for naive times, pauses out of order, a bad inline calendar."""
    check_perm(user, Permission.VIEW)
    org_id = organization_of(user)
    try:
        check_aware(arrival, field="arrival")
        checked: list[Pause] = list(pauses)
        check_pauses(checked)
        if marketplace_respond_by is not None:
            check_aware(marketplace_respond_by, field="marketplace_respond_by")
    except BusinessTimeError as exc:
        raise ValidationFailed(exc.message, field=exc.field) from None
    if policy_id is not None:
        policy = SlaPolicy.objects.filter(pk=policy_id, organization_id=org_id).select_related("calendar").first()
        if policy is None:
            raise NotFound(_("policy not found"), field="policy_id")
    else:
        facts = _Facts(urgency=urgency, platform=platform, customer_tier=customer_tier, category=category)
        policy = policy_for(
            facts,  # type: ignore[arg-type]
            list(SlaPolicy.objects.filter(organization_id=org_id, is_active=True).select_related("calendar")),
        )
    cal: Calendar = ALWAYS_OPEN
    name = ""
    row: BusinessCalendar | None = None
    if calendar is not None:
        try:
            cal = calendar_from_spec(
                timezone=calendar.get("timezone"),
                weekly=calendar.get("weekly_hours", {}),
                holidays=calendar.get("holidays", []),
                special_days=calendar.get("special_days", {}),
            )
        except BusinessTimeError as exc:
            field = exc.field.replace("weekly", "weekly_hours", 1) if exc.field.startswith("weekly") else exc.field
            raise ValidationFailed(exc.message, field=f"calendar.{field}") from None
        name = str(calendar.get("name") or "")
    else:
        if calendar_id is not None:
            row = BusinessCalendar.objects.filter(pk=calendar_id, organization_id=org_id).first()
            if row is None:
                raise NotFound(_("calendar not found"), field="calendar_id")
        elif team_id is not None:
            link = (
                TeamCalendar.objects.filter(team_id=team_id, team__organization_id=org_id)
                .select_related("calendar")
                .first()
            )
            row = link.calendar if link else None
        if row is None and policy is not None:
            row = policy.calendar
        if row is not None:
            cal, name = row.as_calendar(), row.name
    try:

        def due(minutes: int | None) -> datetime | None:
            if minutes is None:
                return None
            return add_business_time(cal, arrival, timedelta(minutes=minutes), checked)

        first = due(policy.first_response_minutes if policy else None)
        resolution = due(policy.resolution_minutes if policy else None)
    except BusinessTimeError as exc:
        raise ValidationFailed(exc.message, field=exc.field) from None
    return Preview(
        policy_id=policy.pk if policy else None,
        policy_name=policy.name if policy else "",
        calendar_name=name,
        first_response_minutes=policy.first_response_minutes if policy else None,
        resolution_minutes=policy.resolution_minutes if policy else None,
        first_response_due=first,
        resolution_due=resolution,
        marketplace_due=marketplace_due(platform, arrival, marketplace_respond_by),
    )
