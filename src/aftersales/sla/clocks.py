"""A ticket's clocks from its history: pure (no database), so recomputing is a function of the audit
trail and running it twice gives the same row.

- Our clocks (first response, resolution) start at the arrival of the message that opened the ticket
  and count business time on the calendar. Both pause while the ticket's status category is
  "waiting" (waiting on the customer, on hold) and while it is resolved; a reopened ticket resumes.
  First response stops at the first delivered agent reply; resolution at the last move into a
  resolved status (if the ticket is resolved now).
- A running clock that is paused now has no due time (it is not running towards anything).
- A stopped clock keeps the due time it had, computed with the pauses before it stopped, so "met"
  is `stopped_at <= due` and a late stop is a breach.
- The marketplace's clock: for Amazon (24 h) and TikTok (48 h), elapsed hours in UTC from the oldest
  customer message not yet answered by a delivered reply (none when everything is answered); for a
  marketplace that sends a due date with a return, refund request or case (eBay, Shopee...), the
  earliest such `respond_by` while the ticket is not resolved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .business_time import (
    MARKETPLACE_HOURS,
    Calendar,
    CompiledCalendar,
    Pause,
    add_business_time,
)

OPEN, WAITING, RESOLVED = "open", "waiting", "resolved"
# Warning for a marketplace due date sent with the request: this long before it.
RESPOND_BY_WARNING = timedelta(hours=24)


@dataclass(frozen=True)
class TicketHistory:
    started_at: datetime
    # (at, new status category) in order, from the ticket's status_changed audit rows
    category_changes: Sequence[tuple[datetime, str]]
    first_reply_at: datetime | None
    inbound_at: Sequence[datetime]  # customer messages' arrivals
    replies_at: Sequence[datetime]  # delivered replies (ours or written on the platform)
    platform: str
    respond_by: Sequence[datetime]  # the marketplace's due dates sent with requests on this ticket


@dataclass(frozen=True)
class Targets:
    first_response: timedelta | None
    resolution: timedelta | None
    warning_percent: int


@dataclass(frozen=True)
class Clocks:
    first_response_due: datetime | None
    first_response_warn_at: datetime | None
    first_response_at: datetime | None
    resolution_due: datetime | None
    resolution_warn_at: datetime | None
    resolved_at: datetime | None
    marketplace_source: str
    marketplace_started_at: datetime | None
    marketplace_due: datetime | None
    marketplace_warn_at: datetime | None
    is_paused: bool
    paused_since: datetime | None
    paused_seconds: int


def pauses_from(history: TicketHistory) -> tuple[list[Pause], str, datetime | None]:
    """Intervals when the clocks did not run ([from, to), the last one open when the ticket is waiting
    or resolved now), the current category and, when resolved now, since when."""
    pauses: list[Pause] = []
    current = OPEN
    since: datetime | None = None
    resolved_since: datetime | None = None
    for at, category in history.category_changes:
        at = max(at, history.started_at)
        if category == RESOLVED and current != RESOLVED:
            resolved_since = at
        elif category != RESOLVED:
            resolved_since = None
        stopped = category in (WAITING, RESOLVED)
        if stopped and since is None:
            since = at
        elif not stopped and since is not None:
            if at > since:
                if pauses and pauses[-1][1] == since:  # touching: one pause
                    since = pauses.pop()[0]
                pauses.append((since, at))
            since = None
        current = category
    if since is not None:
        if pauses and pauses[-1][1] == since:
            since = pauses.pop()[0]
        pauses.append((since, None))
    return pauses, current, resolved_since


def _until(pauses: list[Pause], t: datetime) -> list[Pause]:
    """The pauses as seen at instant t: those begun before t, cut at t."""
    out: list[Pause] = []
    for begin, end in pauses:
        if begin >= t:
            break
        out.append((begin, t if end is None or end > t else end))
    return out


def _due(
    calendar: Calendar | CompiledCalendar,
    start: datetime,
    target: timedelta | None,
    pauses: list[Pause],
    stopped_at: datetime | None,
) -> datetime | None:
    if target is None:
        return None
    seen = _until(pauses, stopped_at) if stopped_at is not None else pauses
    return add_business_time(calendar, start, target, seen)


def compute_clocks(
    history: TicketHistory, targets: Targets, calendar: Calendar | CompiledCalendar, *, now: datetime
) -> Clocks:
    pauses, current, resolved_at = pauses_from(history)
    start = history.started_at
    first_at = history.first_reply_at
    pct = targets.warning_percent

    def warn(target: timedelta | None) -> timedelta | None:
        return None if target is None else target * pct / 100

    fr_due = _due(calendar, start, targets.first_response, pauses, first_at)
    fr_warn = _due(calendar, start, warn(targets.first_response), pauses, first_at)
    res_due = _due(calendar, start, targets.resolution, pauses, resolved_at)
    res_warn = _due(calendar, start, warn(targets.resolution), pauses, resolved_at)

    source, mp_start, mp_due, mp_warn = "", None, None, None
    hours = MARKETPLACE_HOURS.get(history.platform)
    if hours is not None:
        source = "elapsed_hours"
        last_reply = max(history.replies_at, default=None)
        waiting = sorted(t for t in history.inbound_at if last_reply is None or t > last_reply)
        if waiting:
            mp_start = waiting[0]
            mp_due = mp_start + timedelta(hours=hours)
            mp_warn = mp_start + timedelta(hours=hours) * pct / 100
    elif history.respond_by and current != RESOLVED:
        source = "respond_by"
        mp_due = min(history.respond_by)
        mp_warn = mp_due - RESPOND_BY_WARNING

    # Time the clocks stood still before now (waiting, or resolved and then reopened); a current
    # resolution is not a pause.
    paused_seconds = 0
    for begin, end in pauses:
        stop = resolved_at if end is None and resolved_at is not None else (end or now)
        paused_seconds += max(int((stop - begin).total_seconds()), 0)
    is_paused = current == WAITING
    return Clocks(
        first_response_due=fr_due,
        first_response_warn_at=fr_warn,
        first_response_at=first_at,
        resolution_due=res_due,
        resolution_warn_at=res_warn,
        resolved_at=resolved_at,
        marketplace_source=source,
        marketplace_started_at=mp_start,
        marketplace_due=mp_due,
        marketplace_warn_at=mp_warn,
        is_paused=is_paused,
        paused_since=pauses[-1][0] if is_paused and pauses else None,
        paused_seconds=max(paused_seconds, 0),
    )
