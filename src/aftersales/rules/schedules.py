"""When a rule is active (docs/rules.md "Schedules"): dated windows (an 11.11 rule set) and/or
business hours of an SLA business calendar (sla.business_time). Empty = always.

    {"windows": [{"start": "2026-11-10T00:00:00+08:00", "end": "2026-11-12T00:00:00+08:00"}],
     "business_hours": {"calendar_id": 4}}

A window is half-open [start, end); several windows are alternatives."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from aftersales.sla.business_time import Calendar, is_open

from .conditions import path_error

MAX_WINDOWS = 50


def _instant(value: Any, *, path: str) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise path_error(path, _("must be a date and time with its offset, e.g. 2026-11-11T00:00:00+08:00"))
    return parsed


def check_schedule(raw: Any, *, calendars: Mapping[int, Calendar]) -> dict[str, Any]:
    """The schedule normalised; refusals name `schedule.windows[i].end` etc."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise path_error("schedule", _("must be an object"))
    for key in raw:
        if key not in ("windows", "business_hours"):
            raise path_error(f"schedule.{key}", _("unknown key"))
    out: dict[str, Any] = {}
    windows = raw.get("windows") or []
    if not isinstance(windows, list) or len(windows) > MAX_WINDOWS:
        raise path_error("schedule.windows", _("must be a list of at most %(n)s windows") % {"n": MAX_WINDOWS})
    clean = []
    for i, window in enumerate(windows):
        path = f"schedule.windows[{i}]"
        if not isinstance(window, dict) or set(window) != {"start", "end"}:
            raise path_error(path, _('must be {"start": ..., "end": ...}'))
        start = _instant(window["start"], path=f"{path}.start")
        end = _instant(window["end"], path=f"{path}.end")
        if end <= start:
            raise path_error(f"{path}.end", _("must be after the start"))
        clean.append({"start": start.isoformat(), "end": end.isoformat()})
    if clean:
        out["windows"] = clean
    hours = raw.get("business_hours")
    if hours is not None:
        cid = hours.get("calendar_id") if isinstance(hours, dict) else None
        if isinstance(cid, bool) or not isinstance(cid, int):
            raise path_error("schedule.business_hours", _('must name a business calendar: {"calendar_id": <id>}'))
        if cid not in calendars:
            raise path_error("schedule.business_hours.calendar_id", _("no such business calendar"))
        out["business_hours"] = {"calendar_id": cid}
    return out


def schedule_matcher(schedule: Mapping[str, Any], calendars: Mapping[int, Calendar]) -> Any:
    """A predicate over an instant, built once per compiled rule (None when always active)."""
    if not schedule:
        return None
    windows = [
        (_instant(w["start"], path="start"), _instant(w["end"], path="end")) for w in schedule.get("windows", ())
    ]
    hours = schedule.get("business_hours")
    calendar = calendars.get(hours["calendar_id"]) if hours else None
    if hours and calendar is None:  # its calendar was deleted: never active until the rule is edited
        return lambda at: False

    def active(at: datetime) -> bool:
        if windows and not any(start <= at < end for start, end in windows):
            return False
        return calendar is None or is_open(calendar.compiled, at)

    return active
