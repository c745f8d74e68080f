"""Settings > SLA for organization admins (issue 11 §2): business calendars (time zone, weekly hours
with split and overnight shifts, holidays, special days), SLA policies, which team works on which
calendar, and a try-it form running the same preview as `POST /api/v1/sla/preview`. The views parse
the forms into the services' input and render; refusals show the service's message with its field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.accounts.selectors import teams_of_organization
from aftersales.catalog.models import CustomerTier, Platform
from aftersales.core.errors import DomainError, PermissionDenied, ValidationFailed
from aftersales.inbox.workflow import TicketCategory, Urgency
from aftersales.sla.business_time import DAYS
from aftersales.sla.selectors import Preview, calendar_list, policy_detail, policy_list, sla_preview, team_calendars
from aftersales.sla.services import (
    calendar_delete,
    calendar_save,
    policy_delete,
    policy_save,
    team_calendar_set,
)

from ..access import AgentRequest, web_view

DAY_LABELS = {
    "mon": gettext_lazy("Monday"),
    "tue": gettext_lazy("Tuesday"),
    "wed": gettext_lazy("Wednesday"),
    "thu": gettext_lazy("Thursday"),
    "fri": gettext_lazy("Friday"),
    "sat": gettext_lazy("Saturday"),
    "sun": gettext_lazy("Sunday"),
}
POLICY_FIELDS = (
    "name",
    "urgency",
    "platform",
    "customer_tier",
    "category",
    "first_response_minutes",
    "resolution_minutes",
    "warning_percent",
    "calendar_id",
)


def _day_labels() -> list[tuple[str, Any]]:
    return [(d, DAY_LABELS[d]) for d in DAYS]


def _shifts_text(shifts: list[list[str]]) -> str:
    return ", ".join(f"{a}-{b}" for a, b in shifts)


def _with_week(form: dict[str, Any]) -> dict[str, Any]:
    """The form's values plus `week`: (day, label, text) for the seven day inputs."""
    return {**form, "week": [(d, label, form.get(f"day_{d}", "")) for d, label in _day_labels()]}


def calendar_form_values(cal: Any) -> dict[str, Any]:
    return _with_week(
        {
            "calendar_id": str(cal.pk),
            "name": cal.name,
            "timezone": cal.timezone,
            **{f"day_{d}": _shifts_text(cal.weekly_hours.get(d, [])) for d in DAYS},
            "holidays": "\n".join(cal.holidays),
            "special_days": "\n".join(f"{day} {_shifts_text(s)}".strip() for day, s in cal.special_days.items()),
        }
    )


def _page(
    request: AgentRequest,
    *,
    status: int = 200,
    calendar_form: dict[str, Any] | None = None,
    policy_form: dict[str, Any] | None = None,
    preview_form: dict[str, Any] | None = None,
    preview: Preview | None = None,
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    calendars = list(calendar_list(request.user))
    links = team_calendars(request.user)
    names = {c.pk: c.name for c in calendars}
    context = {
        "settings_section": "sla",
        "calendars": [(c, calendar_form_values(c)) for c in calendars],
        "policies": list(policy_list(request.user)),
        "teams": [(t, links.get(t.pk)) for t in teams_of_organization(request.user)],
        "calendar_names": names,
        "calendar_form": _with_week(calendar_form or {"timezone": "Asia/Shanghai"}),
        "policy_form": policy_form or {"warning_percent": "75"},
        "preview_form": preview_form or {},
        "preview": preview,
        "errors": errors or {},
        "urgencies": Urgency.choices,
        "platforms": Platform.choices,
        "tiers": CustomerTier.choices,
        "categories": TicketCategory.choices,
    }
    return render(request, "sla/settings.html", context, status=status)


def _refusal(exc: DomainError) -> None:
    """Refusals of the request itself (forbidden, another organization's object) are error pages."""
    if isinstance(exc, PermissionDenied) or exc.status_code == 404:
        raise exc


def _message(exc: DomainError) -> str:
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


def parse_shifts_text(text: str, *, field: str) -> list[list[str]]:
    """ "09:00-12:00, 13:30-18:30" -> [["09:00", "12:00"], ["13:30", "18:30"]] (the service checks the times)."""
    shifts: list[list[str]] = []
    for i, part in enumerate(p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        pieces = [p.strip() for p in part.split("-")]
        if len(pieces) != 2:
            raise ValidationFailed(
                _("expected shifts as HH:MM-HH:MM, separated by commas, got %(value)r") % {"value": part},
                field=f"{field}[{i}]",
            )
        shifts.append(pieces)
    return shifts


def parse_calendar_form(post: Any) -> dict[str, Any]:
    weekly = {}
    for day in DAYS:
        shifts = parse_shifts_text(post.get(f"day_{day}", ""), field=f"weekly_hours.{day}")
        if shifts:
            weekly[day] = shifts
    holidays = [line.strip() for line in post.get("holidays", "").splitlines() if line.strip()]
    special: dict[str, list[list[str]]] = {}
    for line in post.get("special_days", "").splitlines():
        if not line.strip():
            continue
        day, _sep, rest = line.strip().partition(" ")
        special[day] = parse_shifts_text(rest, field=f"special_days.{day}")
    return {
        "name": post.get("name", ""),
        "timezone": post.get("timezone", "").strip(),
        "weekly_hours": weekly,
        "holidays": holidays,
        "special_days": special,
    }


def _optional_id(value: str, field: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise ValidationFailed(_("must be a whole number"), field=field)
    return int(text)


def _whole(value: str, field: str) -> int:
    number = _optional_id(value, field)
    if number is None:
        raise ValidationFailed(_("a whole number is required"), field=field)
    return number


def policy_form_values(policy: Any) -> dict[str, Any]:
    """The policy form filled with a saved policy (to edit it)."""
    values = {f: "" if getattr(policy, f) is None else str(getattr(policy, f)) for f in POLICY_FIELDS}
    values["policy_id"] = str(policy.pk)
    values["is_active"] = "on" if policy.is_active else ""
    return values


@web_view(methods=("GET",))
def settings_sla(request: AgentRequest) -> HttpResponse:
    """The page; `?policy=<id>` fills the policy form with that policy to edit it."""
    check_perm(request.user, Permission.ADMINISTER)
    policy_id = _optional_id(request.GET.get("policy", ""), "policy")
    form = policy_form_values(policy_detail(request.user, policy_id)) if policy_id else None
    return _page(request, policy_form=form)


@web_view(methods=("POST",))
def settings_sla_calendar(request: AgentRequest) -> HttpResponse:
    """Create a calendar, or replace the one named by `calendar_id`."""
    check_perm(request.user, Permission.ADMINISTER)
    form = {k: request.POST.get(k, "") for k in ("calendar_id", "name", "timezone", "holidays", "special_days")}
    form.update({f"day_{d}": request.POST.get(f"day_{d}", "") for d in DAYS})
    try:
        calendar_id = _optional_id(form["calendar_id"], "calendar_id")
        calendar_save(user=request.user, calendar_id=calendar_id, **parse_calendar_form(request.POST))
    except DomainError as exc:
        _refusal(exc)
        return _page(request, status=exc.status_code, calendar_form=form, errors={"calendar": _message(exc)})
    messages.success(request, _("Calendar saved."))
    return redirect("web:settings_sla")


@web_view(methods=("POST",))
def settings_sla_calendar_delete(request: AgentRequest, calendar_id: int) -> HttpResponse:
    check_perm(request.user, Permission.ADMINISTER)
    try:
        calendar_delete(user=request.user, calendar_id=calendar_id)
    except DomainError as exc:
        _refusal(exc)
        return _page(request, status=exc.status_code, errors={"calendars": _message(exc)})
    messages.success(request, _("Calendar deleted."))
    return redirect("web:settings_sla")


@web_view(methods=("POST",))
def settings_sla_team(request: AgentRequest) -> HttpResponse:
    """Give a team its calendar (empty: none)."""
    check_perm(request.user, Permission.ADMINISTER)
    try:
        team_calendar_set(
            user=request.user,
            team_id=_whole(request.POST.get("team_id", ""), "team_id"),
            calendar_id=_optional_id(request.POST.get("calendar_id", ""), "calendar_id"),
        )
    except DomainError as exc:
        _refusal(exc)
        return _page(request, status=exc.status_code, errors={"teams": _message(exc)})
    messages.success(request, _("Team calendar saved."))
    return redirect("web:settings_sla")


@web_view(methods=("POST",))
def settings_sla_policy(request: AgentRequest) -> HttpResponse:
    """Create a policy, or replace the one named by `policy_id`."""
    check_perm(request.user, Permission.ADMINISTER)
    form = {k: request.POST.get(k, "") for k in (*POLICY_FIELDS, "policy_id")}
    form["is_active"] = "on" if request.POST.get("is_active") else ""
    try:
        data: dict[str, Any] = {
            k: form[k].strip() for k in ("name", "urgency", "platform", "customer_tier", "category")
        }
        for f in ("first_response_minutes", "resolution_minutes", "warning_percent"):
            data[f] = _whole(form[f], f)
        data["calendar_id"] = _optional_id(form["calendar_id"], "calendar_id")
        data["is_active"] = bool(form["is_active"])
        policy_save(user=request.user, data=data, policy_id=_optional_id(form["policy_id"], "policy_id"))
    except DomainError as exc:
        _refusal(exc)
        return _page(request, status=exc.status_code, policy_form=form, errors={"policy": _message(exc)})
    messages.success(request, _("SLA policy saved."))
    return redirect("web:settings_sla")


@web_view(methods=("POST",))
def settings_sla_policy_delete(request: AgentRequest, policy_id: int) -> HttpResponse:
    check_perm(request.user, Permission.ADMINISTER)
    policy_delete(user=request.user, policy_id=policy_id)
    messages.success(request, _("SLA policy deleted."))
    return redirect("web:settings_sla")


def _instant(value: str, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(
            _("must be a date-time with an offset, e.g. 2026-11-11T08:00:00+08:00"), field=field
        ) from None
    return parsed


@web_view(methods=("POST",))
def settings_sla_preview(request: AgentRequest) -> HttpResponse:
    """Both deadlines for an arrival (the API's preview; nothing is saved)."""
    check_perm(request.user, Permission.ADMINISTER)
    keys = ("arrival", "platform", "urgency", "customer_tier", "category", "calendar_id", "pauses")
    form = {k: request.POST.get(k, "") for k in keys}
    try:
        pauses = []
        for i, line in enumerate(form["pauses"].splitlines()):
            if not line.strip():
                continue
            start, _sep, end = line.strip().partition(" ")
            pauses.append((_instant(start, f"pauses[{i}][0]"), _instant(end, f"pauses[{i}][1]") if end else None))
        result = sla_preview(
            request.user,
            arrival=_instant(form["arrival"], "arrival"),
            platform=form["platform"],
            urgency=form["urgency"],
            customer_tier=form["customer_tier"],
            category=form["category"],
            calendar_id=_optional_id(form["calendar_id"], "calendar_id"),
            pauses=pauses,
        )
    except DomainError as exc:
        _refusal(exc)
        return _page(request, status=exc.status_code, preview_form=form, errors={"preview": _message(exc)})
    return _page(request, preview_form=form, preview=result)
