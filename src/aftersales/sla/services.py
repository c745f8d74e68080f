"""SLA writes: calendars, policies and team calendars (admins), the per-ticket clock recomputed from
history, and the sweep that flags warnings and breaches (once each) and publishes SlaWarning /
SlaBreached. Each writer runs in one transaction; checks (`check_*`) are apart from writes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.accounts.audit import setting_audit, setting_changes_record
from aftersales.accounts.models import Organization, Permission, Team, User
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now as clock_now
from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.inbox.models import Ticket

from .business_time import BusinessTimeError, Calendar, calendar_from_spec, calendar_spec
from .events import SlaBreached, SlaWarning
from .models import BusinessCalendar, SlaClock, SlaPolicy, TeamCalendar, TicketSla
from .sources import clocks_for_tickets

logger = logging.getLogger(__name__)
SYSTEM_ACTOR = Actor.system("sla")
REFRESH_BATCH = 500
RECOMPUTE_BATCH = 50  # tickets per transaction when many are recomputed
CALENDAR_AUDIT_FIELDS = ("name", "timezone", "weekly_hours", "holidays", "special_days")


# --------------------------------------------------------------------------- calendars


def check_calendar(*, timezone: Any, weekly_hours: Any, holidays: Any, special_days: Any) -> Calendar:
    """The pure calendar, or ValidationFailed naming the field (e.g. `weekly_hours.mon.1`)."""
    try:
        return calendar_from_spec(
            timezone=timezone, weekly=weekly_hours, holidays=holidays or [], special_days=special_days or {}
        )
    except BusinessTimeError as exc:
        raise ValidationFailed(exc.message, field=_calendar_field(exc.field)) from None


def _calendar_field(field: str) -> str:
    return "weekly_hours" + field[len("weekly") :] if field.startswith("weekly") else field


def check_name(name: Any, *, field: str = "name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed(_("a name is required"), field=field)
    if len(name.strip()) > 120:
        raise ValidationFailed(_("at most 120 characters"), field=field)
    return name.strip()


def _mark_stale(organization_id: int) -> None:
    """A calendar, policy or team calendar changed: the refresh task recomputes the unresolved clocks."""
    TicketSla.objects.filter(organization_id=organization_id, resolved_at__isnull=True, is_stale=False).update(
        is_stale=True
    )


def calendar_get(user: Any, calendar_id: int) -> BusinessCalendar:
    row = BusinessCalendar.objects.filter(pk=calendar_id, organization_id=organization_of(user)).first()
    if row is None:
        raise NotFound(_("calendar not found"), field="calendar_id")
    return row


def calendar_save(
    *,
    user: Any,
    name: Any,
    timezone: Any,
    weekly_hours: Any,
    holidays: Any = (),
    special_days: Any = None,
    calendar_id: int | None = None,
) -> BusinessCalendar:
    """Create a calendar (calendar_id None) or replace one of the user's organization. Admins."""
    check_perm(user, Permission.ADMINISTER)
    org_id = organization_of(user)
    clean_name = check_name(name)
    cal = check_calendar(timezone=timezone, weekly_hours=weekly_hours, holidays=holidays, special_days=special_days)
    spec = calendar_spec(cal)
    with transaction.atomic():
        found = (
            BusinessCalendar(organization_id=org_id)
            if calendar_id is None
            else BusinessCalendar.objects.select_for_update().filter(pk=calendar_id, organization_id=org_id).first()
        )
        if found is None:
            raise NotFound(_("calendar not found"), field="calendar_id")
        row = found
        if BusinessCalendar.objects.filter(organization_id=org_id, name=clean_name).exclude(pk=row.pk).exists():
            raise ValidationFailed(_("a calendar with this name exists"), field="name")
        row.name = clean_name
        row.timezone = str(spec["timezone"])
        row.weekly_hours = spec["weekly"]
        row.holidays = spec["holidays"]
        row.special_days = spec["special_days"]
        setting_audit(row, CALENDAR_AUDIT_FIELDS, actor=user, setting=f"sla_calendar.{row.name}")
        row.save()
        _mark_stale(org_id)
    return row


def calendar_delete(*, user: Any, calendar_id: int) -> None:
    """Delete a calendar no policy uses (Conflict naming the policies otherwise); team links go with it."""
    check_perm(user, Permission.ADMINISTER)
    with transaction.atomic():
        row = calendar_get(user, calendar_id)
        users = list(SlaPolicy.objects.filter(calendar=row).values_list("name", flat=True)[:5])
        if users:
            raise Conflict(
                _("the calendar is used by the policies: %(names)s") % {"names": ", ".join(users)}, field="calendar_id"
            )
        setting_audit(row, CALENDAR_AUDIT_FIELDS, actor=user, setting=f"sla_calendar.{row.name}", deleted=True)
        row.delete()
        _mark_stale(row.organization_id)


def team_calendar_set(*, user: Any, team_id: int, calendar_id: int | None) -> TeamCalendar | None:
    """Give a team its business hours (None: the team has none; the policies' calendars apply)."""
    check_perm(user, Permission.ADMINISTER)
    org_id = organization_of(user)
    team = Team.objects.filter(pk=team_id, organization_id=org_id).first()
    if team is None:
        raise NotFound(_("team not found"), field="team_id")
    with transaction.atomic():
        setting_changes_record(
            organization_id=org_id,
            actor=user,
            setting=f"team_calendar.{team.name}",
            old={"calendar": TeamCalendar.objects.filter(team=team).values_list("calendar_id", flat=True).first()},
            new={"calendar": calendar_id},
        )
        if calendar_id is None:
            TeamCalendar.objects.filter(team=team).delete()
            link = None
        else:
            cal = calendar_get(user, calendar_id)
            link, _created = TeamCalendar.objects.update_or_create(team=team, defaults={"calendar": cal})
        _mark_stale(org_id)
    return link


# --------------------------------------------------------------------------- policies

POLICY_CHOICE_FIELDS = ("urgency", "platform", "customer_tier", "category")
MAX_TARGET_MINUTES = 365 * 24 * 60


@dataclass(frozen=True)
class PolicyInput:
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


POLICY_AUDIT_FIELDS = tuple(PolicyInput.__dataclass_fields__)  # audited as sla_policy.<name>.<field>


def check_policy(user: Any, data: dict[str, Any]) -> PolicyInput:
    """Validate a policy's fields (ValidationFailed naming the field); the calendar must be the org's."""
    clean: dict[str, Any] = {"name": check_name(data.get("name"))}
    for f in POLICY_CHOICE_FIELDS:
        value = data.get(f) or ""
        choices = getattr(SlaPolicy._meta.get_field(f), "choices", None) or []
        if value and value not in {c[0] for c in choices}:
            raise ValidationFailed(_("unknown value %(value)r") % {"value": value}, field=f)
        clean[f] = value
    for f in ("first_response_minutes", "resolution_minutes"):
        value = data.get(f)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TARGET_MINUTES:
            raise ValidationFailed(
                _("a whole number of minutes from 1 to %(max)d") % {"max": MAX_TARGET_MINUTES}, field=f
            )
        clean[f] = value
    pct = data.get("warning_percent", 75)
    if isinstance(pct, bool) or not isinstance(pct, int) or not 1 <= pct <= 99:
        raise ValidationFailed(_("a whole percentage from 1 to 99"), field="warning_percent")
    clean["warning_percent"] = pct
    calendar_id = data.get("calendar_id")
    if calendar_id is not None:
        if isinstance(calendar_id, bool) or not isinstance(calendar_id, int):
            raise ValidationFailed(_("a calendar id"), field="calendar_id")
        calendar_get(user, calendar_id)
    clean["calendar_id"] = calendar_id
    clean["is_active"] = bool(data.get("is_active", True))
    return PolicyInput(**clean)


def policy_save(*, user: Any, data: dict[str, Any], policy_id: int | None = None) -> SlaPolicy:
    """Create a policy (policy_id None) or replace one. Admins. Two active policies cannot match the
    same (urgency, platform, customer tier, category): 422 naming `urgency` with the other's name."""
    check_perm(user, Permission.ADMINISTER)
    org_id = organization_of(user)
    clean = check_policy(user, data)
    with transaction.atomic():
        found = (
            SlaPolicy(organization_id=org_id)
            if policy_id is None
            else SlaPolicy.objects.select_for_update().filter(pk=policy_id, organization_id=org_id).first()
        )
        if found is None:
            raise NotFound(_("policy not found"), field="policy_id")
        row = found
        if SlaPolicy.objects.filter(organization_id=org_id, name=clean.name).exclude(pk=row.pk).exists():
            raise ValidationFailed(_("a policy with this name exists"), field="name")
        if clean.is_active:
            same = (
                SlaPolicy.objects.filter(
                    organization_id=org_id, is_active=True, **{f: getattr(clean, f) for f in POLICY_CHOICE_FIELDS}
                )
                .exclude(pk=row.pk)
                .first()
            )
            if same is not None:
                raise ValidationFailed(
                    _("the active policy %(name)s already matches the same urgency, platform, tier and category")
                    % {"name": same.name},
                    field="urgency",
                )
        for f, value in clean.__dict__.items():
            setattr(row, f, value)
        setting_audit(row, POLICY_AUDIT_FIELDS, actor=user, setting=f"sla_policy.{row.name}")
        row.save()
        _mark_stale(org_id)
    return row


def policy_delete(*, user: Any, policy_id: int) -> None:
    check_perm(user, Permission.ADMINISTER)
    org_id = organization_of(user)
    with transaction.atomic():
        row = SlaPolicy.objects.select_for_update().filter(pk=policy_id, organization_id=org_id).first()
        if row is None:
            raise NotFound(_("policy not found"), field="policy_id")
        setting_audit(row, POLICY_AUDIT_FIELDS, actor=user, setting=f"sla_policy.{row.name}", deleted=True)
        row.delete()
        _mark_stale(org_id)


# --------------------------------------------------------------------------- the clock of a ticket


def ticket_sla_recompute(*, ticket_id: int, now: datetime | None = None) -> TicketSla | None:
    """Rebuild the ticket's clock row from its history (idempotent). Keeps the warning and breach
    claims of a clock whose due time is unchanged; a new marketplace stretch starts unflagged.
    Locks the TicketSla row (or creates it). (The batch of one of `tickets_sla_recompute`.)"""
    return tickets_sla_recompute(ticket_ids=[ticket_id], now=now).get(ticket_id)


def tickets_sla_recompute(
    *, ticket_ids: Sequence[int], now: datetime | None = None, write_items: int | None = None
) -> dict[int, TicketSla]:
    """`ticket_sla_recompute` for a batch (the worker's fan-out jobs of many tickets: core/tasks.py): the
    tickets and their histories read in a fixed number of queries (clocks_for_tickets), then one
    transaction that locks the existing rows, updates them as the single recomputation does and inserts
    the missing ones in one statement; with `write_items`, one such transaction per `write_items` tickets
    (SQLite's short worker transactions, ADR 0039). Returns the row per ticket id (a deleted ticket:
    absent)."""
    at = now or clock_now()
    tickets = list(Ticket.objects.filter(pk__in=list(dict.fromkeys(ticket_ids))).order_by("pk"))
    if not tickets:
        return {}
    computed = clocks_for_tickets(tickets, now=at)
    out: dict[int, TicketSla] = {}
    size = write_items or len(tickets)
    for start in range(0, len(tickets), size):
        out.update(_ticket_slas_write(tickets[start : start + size], computed, at=at))
    return out


def _ticket_slas_write(tickets: list[Ticket], computed: dict[int, Any], *, at: datetime) -> dict[int, TicketSla]:
    """One transaction: the tickets' rows locked and updated, the missing ones inserted in one statement."""
    out: dict[int, TicketSla] = {}
    with transaction.atomic():
        rows = {
            row.ticket_id: row
            for row in TicketSla.objects.select_for_update()
            .filter(ticket_id__in=[t.pk for t in tickets])
            .order_by("pk")
        }
        new = []
        for ticket in tickets:
            row = rows.get(ticket.pk)
            if row is None:
                row = TicketSla(ticket_id=ticket.pk, organization_id=ticket.organization_id)
                new.append(row)
            _set_clocks(row, *computed[ticket.pk], at=at)
            if ticket.pk in rows:
                row.save()
            out[ticket.pk] = row
        TicketSla.objects.bulk_create(new)
    return out


def _set_clocks(
    row: TicketSla, policy: SlaPolicy | None, calendar_name: str, history: Any, clocks: Any, *, at: datetime
) -> None:
    if row.marketplace_started_at != clocks.marketplace_started_at or row.marketplace_due != clocks.marketplace_due:
        row.marketplace_warned_at = row.marketplace_breached_at = None
    if (
        row.first_response_due != clocks.first_response_due
        and row.first_response_breached_at
        and (clocks.first_response_due is None or clocks.first_response_due > at)
    ):
        row.first_response_breached_at = None  # the due time moved later (a policy change): not breached now
    if (
        row.resolution_due != clocks.resolution_due
        and row.resolution_breached_at
        and (clocks.resolution_due is None or clocks.resolution_due > at)
    ):
        row.resolution_breached_at = None
    row.policy = policy
    row.calendar_name = calendar_name
    row.started_at = history.started_at
    for f, value in clocks.__dict__.items():
        setattr(row, f, value)
    row.computed_at = at
    row.is_stale = False


def sla_refresh(*, now: datetime | None = None, batch: int = REFRESH_BATCH) -> int:
    """Recompute the clocks that may be out of date: rows marked stale by a configuration change,
    tickets changed (urgency, category, team, tier...) after their row was computed, and tickets
    without a row. In batches; safe to run twice."""
    at = now or clock_now()
    ids = list(TicketSla.objects.filter(is_stale=True).values_list("ticket_id", flat=True)[:batch])
    recent = at - timedelta(hours=2)
    # Per organization, so that the (organization, -updated_at) index of the inbox serves the scan.
    for org_id in Organization.objects.values_list("pk", flat=True):
        room = batch - len(ids)
        if room <= 0:
            break
        ids += list(
            Ticket.objects.filter(organization_id=org_id, updated_at__gte=recent)
            .filter(Q(sla__isnull=True) | Q(updated_at__gt=F("sla__computed_at")))
            .values_list("pk", flat=True)[:room]
        )
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), RECOMPUTE_BATCH):  # (a write transaction each: SQLite's lock stays short)
        tickets_sla_recompute(ticket_ids=unique[start : start + RECOMPUTE_BATCH], now=at)
    return len(ids)


def sla_backfill(*, organization_id: int | None = None, batch: int = 500, now: datetime | None = None) -> int:
    """Compute the clocks of tickets that have none: those older than the sla app, or of an organization
    that had no policy then (sla_refresh only looks at tickets changed in the last two hours). Walks the
    tickets by id in batches (keyset: a rerun, or a crash halfway, starts over cheaply: tickets with a
    row are skipped). Each batch is read in a fixed number of queries (clocks_for_tickets) and written
    in one INSERT in its own transaction; a row the worker wrote meanwhile is kept (the insert ignores
    conflicts on the ticket key, and a new row starts unflagged either way). Returns how many rows it
    wrote."""
    at = now or clock_now()
    tickets = Ticket.objects.filter(sla__isnull=True)
    if organization_id is not None:
        tickets = tickets.filter(organization_id=organization_id)
    done, after = 0, 0
    while True:
        page = list(tickets.filter(pk__gt=after).order_by("pk")[:batch])
        if not page:
            return done
        rows = _backfill_rows(page, at)
        with transaction.atomic():
            before = TicketSla.objects.filter(ticket_id__in=[t.pk for t in page]).count()
            TicketSla.objects.bulk_create(rows, ignore_conflicts=True)
            done += TicketSla.objects.filter(ticket_id__in=[t.pk for t in page]).count() - before
        after = page[-1].pk


def _backfill_rows(tickets: list[Ticket], at: datetime) -> list[TicketSla]:
    computed = clocks_for_tickets(tickets, now=at)
    rows = []
    for ticket in tickets:
        policy, calendar_name, history, clocks = computed[ticket.pk]
        rows.append(
            TicketSla(
                ticket_id=ticket.pk,
                organization_id=ticket.organization_id,
                policy=policy,
                calendar_name=calendar_name,
                started_at=history.started_at,
                computed_at=at,
                is_stale=False,
                **clocks.__dict__,
            )
        )
    return rows


# --------------------------------------------------------------------------- warnings and breaches

CLOCK_FIELDS = {
    SlaClock.FIRST_RESPONSE: ("first_response_warn_at", "first_response_due", "first_response_at"),
    SlaClock.RESOLUTION: ("resolution_warn_at", "resolution_due", "resolved_at"),
    SlaClock.MARKETPLACE: ("marketplace_warn_at", "marketplace_due", None),
}


def sla_sweep(*, now: datetime | None = None, batch: int = 1000) -> dict[str, int]:
    """Flag clocks that reached their warning time while running, and clocks past due that did not
    stop in time. Each flag is claimed with a conditional update, so a second sweep (or two workers)
    publishes nothing twice. The flag's time is the instant it happened (the warn or due time)."""
    at = now or clock_now()
    counts = {"warnings": 0, "breaches": 0}
    for clock, (warn_f, due_f, stop_f) in CLOCK_FIELDS.items():
        prefix = clock.value
        warned_f, breached_f = f"{prefix}_warned_at", f"{prefix}_breached_at"
        running = Q(**{f"{stop_f}__isnull": True}) if stop_f else Q()
        warn_rows = TicketSla.objects.filter(
            running, **{f"{warn_f}__lte": at, f"{warned_f}__isnull": True, f"{due_f}__gt": at}
        ).values_list("ticket_id", "organization_id", warn_f, due_f)[:batch]
        for ticket_id, org_id, warn_at, due in warn_rows:
            if TicketSla.objects.filter(ticket_id=ticket_id, **{f"{warned_f}__isnull": True, warn_f: warn_at}).update(
                **{warned_f: warn_at}
            ):
                _publish(SlaWarning, ticket_id, org_id, clock, due)
                counts["warnings"] += 1
        late = Q(**{f"{stop_f}__isnull": True}) | Q(**{f"{stop_f}__gt": F(due_f)}) if stop_f else Q()
        breach_rows = TicketSla.objects.filter(
            late, **{f"{due_f}__lte": at, f"{breached_f}__isnull": True}
        ).values_list("ticket_id", "organization_id", due_f)[:batch]
        for ticket_id, org_id, due in breach_rows:
            if TicketSla.objects.filter(ticket_id=ticket_id, **{f"{breached_f}__isnull": True, due_f: due}).update(
                **{breached_f: due}
            ):
                _publish(SlaBreached, ticket_id, org_id, clock, due)
                counts["breaches"] += 1
    return counts


def _publish(kind: type, ticket_id: int, org_id: int, clock: str, due: datetime) -> None:
    with transaction.atomic():
        events.publish(kind(ticket_id=ticket_id, organization_id=org_id, clock=clock, due_at=due, actor=SYSTEM_ACTOR))


def sla_notify(*, ticket_id: int, clock: str, due_at: datetime, breached: bool) -> int:
    """Tell the assignee (in-app, and by e-mail through notifications when they have an address) that a
    clock is about to run out or ran out. Without an assignee, the members of the ticket's team are
    told; a ticket with neither tells nobody (the inbox and the ticket page show the clock). A breach
    or a warning is also told to the leads of the ticket's team (Membership.is_lead), assigned or not:
    a lead hears of a clock about to run out in time to act, not only once it has.
    One notification per user, ticket, clock, kind and due time (a retried task adds nothing)."""
    from aftersales.notifications.models import NotificationKind
    from aftersales.notifications.services import notification_create

    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return 0
    if ticket.assignee_id is not None:
        users = list(User.objects.filter(pk=ticket.assignee_id, is_active=True))
    elif ticket.team_id is not None:
        users = list(User.objects.filter(memberships__team_id=ticket.team_id, is_active=True))
    else:
        users = []
    if ticket.team_id is not None:
        told = {u.pk for u in users}
        leads = User.objects.filter(memberships__team_id=ticket.team_id, memberships__is_lead=True, is_active=True)
        users += [u for u in leads if u.pk not in told]
    created = 0
    kind = "breach" if breached else "warning"
    for user in users:
        with translation.override(user.language):
            label = SlaClock(clock).label
            if breached:
                text = _("Ticket #%(ticket)s: %(clock)s overdue since %(due)s UTC") % {
                    "ticket": ticket_id,
                    "clock": label,
                    "due": due_at.strftime("%Y-%m-%d %H:%M"),
                }
            else:
                text = _("Ticket #%(ticket)s: %(clock)s due at %(due)s UTC") % {
                    "ticket": ticket_id,
                    "clock": label,
                    "due": due_at.strftime("%Y-%m-%d %H:%M"),
                }
        if notification_create(
            user=user,
            kind=NotificationKind.REMINDER,
            text=text,
            dedupe_key=f"sla:{ticket_id}:{clock}:{kind}:{int(due_at.timestamp())}",
            ticket_id=ticket_id,
        ):
            created += 1
    return created
