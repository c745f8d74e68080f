"""Business-time arithmetic: pure functions over business calendars, no database.

A calendar is an IANA time zone, weekly opening hours (split shifts, a shorter Saturday, overnight
shifts such as 22:00-06:00), holidays (dates closed) and special days (dates with other hours).

Definitions the rest of the app (and docs/sla.md) relies on:

- A shift belongs to the local date it starts on. An overnight shift (end at or before its start,
  e.g. 22:00-06:00) runs into the next day. A holiday closes the shifts that *start* on it (Monday's
  22:00-06:00 still runs into a Tuesday holiday); a special day replaces the shifts starting on it.
- Wall times are read in the calendar's zone and business time is counted in real (elapsed) time:
  a shift 01:00-04:00 lasts 2 h on the spring-forward night and 4 h on the fall-back night. A wall
  time in a spring-forward gap (02:30 when clocks jump from 02:00 to 03:00) is the instant of the
  jump; a repeated wall time (fall-back) is its first occurrence.
- `add_business_time(calendar, start, duration, pauses)` is the first instant at which the business
  time counted from `start`, outside the pauses, reaches `duration`. A deadline that falls exactly on
  a closing time stays there (not at the next opening). A zero duration is `start` itself.
- Pauses are half-open [from, to) intervals, in order and not overlapping (touching is fine); the
  last may be open (`to=None`: still paused), in which case a target not reached before it gives None.

Speed: `compile_calendar` turns a calendar into sorted UTC intervals (integer microseconds since the
epoch) with a running sum of business time, so a deadline is two binary searches and some
arithmetic. Intervals are built for a range of years and extended on demand.

The marketplaces' own clocks (`marketplace_due`) are elapsed time in UTC, not business time.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from itertools import pairwise
from threading import Lock
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.utils.translation import gettext as _

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
US_PER_MINUTE = 60_000_000
US_PER_SECOND = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How far a deadline may lie from its start before we give up (a calendar with almost no hours).
MAX_YEARS_AHEAD = 30
_TIME_RE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")

Pause = tuple[datetime, datetime | None]


class BusinessTimeError(ValueError):
    """Bad calendar or arguments. `field` names the input, as a dotted path (e.g. "weekly.mon[1]")."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, order=True)
class Shift:
    """Opening hours within one day, in minutes after local midnight. `end` <= `start` means the
    shift runs past midnight into the next day (stored as `end` + 1440 in `span`)."""

    start: int
    end: int

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end if self.end > self.start else self.end + MINUTES_PER_DAY)

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def label(self) -> str:
        return f"{_fmt(self.start)}-{_fmt(self.end)}"


@dataclass(frozen=True)
class Calendar:
    """A business calendar. `weekly[0]` is Monday. Build one with `calendar_from_spec` (validated)."""

    timezone: str
    weekly: tuple[tuple[Shift, ...], ...]
    holidays: frozenset[date] = frozenset()
    special_days: Mapping[date, tuple[Shift, ...]] = field(default_factory=dict)

    def shifts_on(self, day: date) -> tuple[Shift, ...]:
        if day in self.holidays:
            return ()
        special = self.special_days.get(day)
        if special is not None:
            return special
        return self.weekly[day.weekday()]

    @cached_property
    def key(self) -> tuple[object, ...]:
        return (
            self.timezone,
            self.weekly,
            tuple(sorted(self.holidays)),
            tuple(sorted(self.special_days.items())),
        )

    @cached_property
    def compiled(self) -> CompiledCalendar:
        return compile_calendar(self)


# --------------------------------------------------------------------------- parsing and validation


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_wall_time(value: object, *, field: str) -> int:
    """ "HH:MM" (00:00-24:00) -> minutes after midnight."""
    if not isinstance(value, str) or not (m := _TIME_RE.match(value)):
        raise BusinessTimeError(_("expected a time as HH:MM, got %(value)r") % {"value": value}, field=field)
    minutes = int(m.group(1)) * 60 + int(m.group(2))
    if minutes > MINUTES_PER_DAY:
        raise BusinessTimeError(_("a time cannot be later than 24:00"), field=field)
    return minutes


def parse_shifts(value: object, *, field: str) -> tuple[Shift, ...]:
    """[["09:00", "12:00"], ["13:30", "18:30"]] -> shifts, refusing overlaps within the day."""
    if not isinstance(value, list | tuple):
        raise BusinessTimeError(_("expected a list of [start, end] pairs"), field=field)
    shifts: list[Shift] = []
    for i, pair in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise BusinessTimeError(_("expected a [start, end] pair"), field=where)
        start = parse_wall_time(pair[0], field=where)
        end = parse_wall_time(pair[1], field=where)
        if start == MINUTES_PER_DAY:
            raise BusinessTimeError(_("a shift cannot start at 24:00"), field=where)
        if start == end:
            raise BusinessTimeError(_("a shift cannot start and end at the same time"), field=where)
        shifts.append(Shift(start, end))
    ordered = sorted(shifts)
    for a, b in pairwise(ordered):
        if b.span[0] < a.span[1]:
            raise BusinessTimeError(
                _("shifts %(a)s and %(b)s overlap") % {"a": a.label(), "b": b.label()},
                field=f"{field}[{shifts.index(b)}]",
            )
    # Whether an overnight shift runs into the next day's first shift is checked by `_check_spill`.
    return tuple(ordered)


def _check_spill(prev: tuple[Shift, ...], nxt: tuple[Shift, ...], *, field: str, nxt_field: str) -> None:
    """The overnight part of the previous day's shifts must end before the next day's first shift."""
    spill = max((s.span[1] - MINUTES_PER_DAY for s in prev if s.span[1] > MINUTES_PER_DAY), default=0)
    if spill and nxt and nxt[0].start < spill:
        raise BusinessTimeError(
            _("the overnight shift of %(prev)s runs into the shift %(shift)s")
            % {"prev": field, "shift": nxt[0].label()},
            field=nxt_field,
        )


def parse_timezone(value: object, *, field: str = "timezone") -> str:
    if not isinstance(value, str) or not value or value not in _zone_names():
        raise BusinessTimeError(
            _("unknown time zone %(value)r; expected an IANA name such as Europe/Berlin") % {"value": value},
            field=field,
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - listed but unreadable
        raise BusinessTimeError(_("unknown time zone %(value)r") % {"value": value}, field=field) from exc
    return value


_ZONES: frozenset[str] | None = None


def _zone_names() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


def parse_date(value: object, *, field: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise BusinessTimeError(_("expected a date as YYYY-MM-DD, got %(value)r") % {"value": value}, field=field)


def calendar_from_spec(
    *,
    timezone: object,
    weekly: object,
    holidays: object = (),
    special_days: object = None,
) -> Calendar:
    """Validate a calendar written as JSON-like data:

    weekly = {"mon": [["09:00", "12:00"], ["13:30", "18:30"]], ..., "sat": [["10:00", "14:00"]]}
    (missing days are closed), holidays = ["2026-12-25", ...], special_days = {"2026-12-24": [["09:00", "12:00"]]}.
    Raises BusinessTimeError naming the field."""
    tz = parse_timezone(timezone)
    if not isinstance(weekly, Mapping):
        raise BusinessTimeError(_("expected an object with the days mon..sun"), field="weekly")
    for key in weekly:
        if key not in DAYS:
            raise BusinessTimeError(
                _("unknown day %(day)r; expected one of %(days)s") % {"day": key, "days": ", ".join(DAYS)},
                field=f"weekly.{key}",
            )
    week = tuple(parse_shifts(weekly.get(day, []), field=f"weekly.{day}") for day in DAYS)
    for i in range(7):
        _check_spill(week[i], week[(i + 1) % 7], field=DAYS[i], nxt_field=f"weekly.{DAYS[(i + 1) % 7]}")
    if not isinstance(holidays, list | tuple | set | frozenset):
        raise BusinessTimeError(_("expected a list of dates"), field="holidays")
    closed = frozenset(parse_date(d, field=f"holidays[{i}]") for i, d in enumerate(holidays))
    special: dict[date, tuple[Shift, ...]] = {}
    if special_days:
        if not isinstance(special_days, Mapping):
            raise BusinessTimeError(_("expected an object of date: shifts"), field="special_days")
        for key, shifts in special_days.items():
            day = parse_date(key, field=f"special_days.{key}")
            special[day] = parse_shifts(shifts, field=f"special_days.{key}")
    cal = Calendar(timezone=tz, weekly=week, holidays=closed, special_days=special)
    for day in special:
        before = day - timedelta(days=1)
        _check_spill(
            cal.shifts_on(before), cal.shifts_on(day), field=before.isoformat(), nxt_field=f"special_days.{day}"
        )
        after = day + timedelta(days=1)
        _check_spill(cal.shifts_on(day), cal.shifts_on(after), field=day.isoformat(), nxt_field=f"special_days.{day}")
    return cal


def calendar_spec(cal: Calendar) -> dict[str, object]:
    """The JSON-like form `calendar_from_spec` reads."""

    def pairs(shifts: Iterable[Shift]) -> list[list[str]]:
        return [[_fmt(s.start), _fmt(s.end)] for s in shifts]

    return {
        "timezone": cal.timezone,
        "weekly": {day: pairs(cal.weekly[i]) for i, day in enumerate(DAYS) if cal.weekly[i]},
        "holidays": sorted(d.isoformat() for d in cal.holidays),
        "special_days": {d.isoformat(): pairs(s) for d, s in sorted(cal.special_days.items())},
    }


def check_aware(value: datetime, *, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise BusinessTimeError(_("a date-time needs a UTC offset or Z (naive times are ambiguous)"), field=field)
    return value


def check_pauses(pauses: Sequence[Pause], *, field: str = "pauses") -> list[tuple[int, int | None]]:
    """Pauses -> [(from_us, to_us or None)], refusing naive times, empty or reversed pauses, pauses out of
    order or overlapping, and an open pause that is not the last."""
    out: list[tuple[int, int | None]] = []
    last_end = None
    for i, pause in enumerate(pauses):
        where = f"{field}[{i}]"
        begin, end = pause
        b = to_us(check_aware(begin, field=f"{where}[0]"))
        e = None if end is None else to_us(check_aware(end, field=f"{where}[1]"))
        if e is not None and e <= b:
            raise BusinessTimeError(_("a pause must end after it starts"), field=where)
        if last_end is not None and b < last_end:
            raise BusinessTimeError(_("pauses must be in order and must not overlap"), field=where)
        if out and out[-1][1] is None:
            raise BusinessTimeError(_("only the last pause may be open (no end)"), field=where)
        out.append((b, e))
        last_end = e if e is not None else b
    return out


# --------------------------------------------------------------------------- instants as integers


def to_us(value: datetime) -> int:
    """An aware datetime -> microseconds since the Unix epoch."""
    delta = value - EPOCH
    return (delta.days * 86400 + delta.seconds) * US_PER_SECOND + delta.microseconds


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _local_to_us(naive: datetime, zone: ZoneInfo) -> int:
    """A wall time in `zone` -> its instant. Repeated times: the first; times in a gap: the jump."""
    aware = naive.replace(tzinfo=zone)
    instant = aware.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return to_us(instant)
    # In a spring-forward gap: the jump happens between the two readings of the wall time.
    a = to_us(naive.replace(tzinfo=zone, fold=1).astimezone(UTC)) // US_PER_SECOND
    b = to_us(instant) // US_PER_SECOND
    lo, hi = min(a, b), max(a, b)
    after = from_us(hi * US_PER_SECOND).astimezone(zone).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if from_us(mid * US_PER_SECOND).astimezone(zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi * US_PER_SECOND


# --------------------------------------------------------------------------- compiled calendars


class CompiledCalendar:
    """Sorted, merged UTC business intervals [starts[i], ends[i]) with `before[i]` = business time
    before interval i, for the local years [first_year, last_year]. Extends itself when asked about
    instants outside; safe to share between threads."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.zone = ZoneInfo(calendar.timezone)
        self.has_hours = any(calendar.weekly) or any(calendar.special_days.values())
        # (starts, ends, before, after): after[i] = before[i] + length of interval i. Replaced as a whole
        # when extended, so a reader holding the tuple sees consistent arrays.
        self.arrays: tuple[list[int], list[int], list[int], list[int]] = ([], [], [], [])
        self.lo_us = 0
        self.hi_us = 0
        self.first_year = 0
        self.last_year = -1
        self._lock = Lock()

    def _build(self, first_year: int, last_year: int) -> None:
        cal, zone = self.calendar, self.zone
        intervals: list[tuple[int, int]] = []
        day = date(first_year, 1, 1) - timedelta(days=1)  # the previous evening's overnight shift
        end_day = date(last_year, 12, 31)
        one = timedelta(days=1)
        while day <= end_day:
            base = datetime(day.year, day.month, day.day)  # noqa: DTZ001 - a wall time in the calendar's zone
            for shift in cal.shifts_on(day):
                a, b = shift.span
                s = _local_to_us(base + timedelta(minutes=a), zone)
                e = _local_to_us(base + timedelta(minutes=b), zone)
                if e > s:
                    intervals.append((s, e))
            day += one
        intervals.sort()
        starts: list[int] = []
        ends: list[int] = []
        for s, e in intervals:
            if ends and s <= ends[-1]:
                ends[-1] = max(ends[-1], e)
            else:
                starts.append(s)
                ends.append(e)
        before: list[int] = []
        after: list[int] = []
        total = 0
        for s, e in zip(starts, ends, strict=True):
            before.append(total)
            total += e - s
            after.append(total)
        lo = _local_to_us(datetime(first_year, 1, 1), zone)  # noqa: DTZ001 - a wall time, as above
        hi = _local_to_us(datetime(last_year + 1, 1, 1), zone)  # noqa: DTZ001 - a wall time, as above
        # Publish in one go: readers see either the old or the new arrays.
        self.arrays = (starts, ends, before, after)
        self.lo_us, self.hi_us = lo, hi
        self.first_year, self.last_year = first_year, last_year

    def cover(self, lo_us: int, hi_us: int) -> None:
        """Make sure intervals exist for [lo_us, hi_us)."""
        if self.first_year <= self.last_year and self.lo_us <= lo_us and hi_us <= self.hi_us:
            return
        with self._lock:
            if self.first_year <= self.last_year and self.lo_us <= lo_us and hi_us <= self.hi_us:
                return
            y_lo = from_us(lo_us).year - 1
            y_hi = from_us(min(hi_us, to_us(datetime(9998, 1, 1, tzinfo=UTC)))).year + 1
            if self.first_year <= self.last_year:
                y_lo, y_hi = min(y_lo, self.first_year), max(y_hi, self.last_year)
            self._build(max(y_lo, 1), min(y_hi, 9998))

    def between_us(self, a: int, b: int) -> int:
        if b <= a:
            return 0
        self.cover(a, b)
        starts, ends, before, _after = self.arrays
        return _count_to(starts, ends, before, b) - _count_to(starts, ends, before, a)

    def add_us(self, start: int, duration: int) -> int:
        """First instant >= start at which business time counted from start reaches `duration` (> 0)."""
        if duration <= 0:
            return start
        if not self.has_hours:
            raise BusinessTimeError(_("the calendar has no business hours"), field="calendar")
        self.cover(start, start + 1)
        while True:
            starts, ends, before, after = self.arrays
            target = _count_to(starts, ends, before, start) + duration
            if after and target <= after[-1]:
                j = bisect_left(after, target)
                return ends[j] - (after[j] - target)
            if self.last_year - from_us(start).year > MAX_YEARS_AHEAD:
                raise BusinessTimeError(
                    _("the deadline is more than %(years)d years away") % {"years": MAX_YEARS_AHEAD}, field="duration"
                )
            years = self.last_year - self.first_year + 1
            self.cover(self.lo_us, to_us(datetime(min(self.last_year + years, 9997), 6, 1, tzinfo=UTC)))


def _count_to(starts: list[int], ends: list[int], before: list[int], t: int) -> int:
    """Business time from the start of the arrays up to instant t (t within the covered range)."""
    i = bisect_right(starts, t) - 1
    if i < 0:
        return 0
    return before[i] + min(t, ends[i]) - starts[i]


_COMPILED: dict[tuple[object, ...], CompiledCalendar] = {}


def compile_calendar(calendar: Calendar) -> CompiledCalendar:
    """The compiled form of `calendar`, cached by its content."""
    key = calendar.key
    compiled = _COMPILED.get(key)
    if compiled is None:
        if len(_COMPILED) > 512:
            _COMPILED.clear()
        compiled = _COMPILED[key] = CompiledCalendar(calendar)
    return compiled


# --------------------------------------------------------------------------- public arithmetic


def add_business_time(
    calendar: Calendar | CompiledCalendar,
    start: datetime,
    duration: timedelta,
    pauses: Sequence[Pause] = (),
) -> datetime | None:
    """The first instant at which business time counted from `start` (outside `pauses`) reaches
    `duration`. None when an open pause begins before it is reached. Returned in UTC."""
    compiled = calendar if isinstance(calendar, CompiledCalendar) else calendar.compiled
    check_aware(start, field="start")
    if duration < timedelta(0):
        raise BusinessTimeError(_("a duration cannot be negative"), field="duration")
    s = to_us(start)
    d = duration // timedelta(microseconds=1)
    if not pauses:
        return from_us(compiled.add_us(s, d))
    result = _add_with_pauses(compiled, s, d, check_pauses(pauses))
    return None if result is None else from_us(result)


def _add_with_pauses(
    compiled: CompiledCalendar, cursor: int, remaining: int, pauses: list[tuple[int, int | None]]
) -> int | None:
    if remaining <= 0:
        return cursor
    for begin, end in pauses:
        if end is not None and end <= cursor:
            continue
        if begin > cursor:
            candidate = compiled.add_us(cursor, remaining)
            if candidate <= begin:
                return candidate
            remaining -= compiled.between_us(cursor, begin)
        if end is None:
            return None
        cursor = max(cursor, end)
    return compiled.add_us(cursor, remaining)


def business_time_between(
    calendar: Calendar | CompiledCalendar,
    start: datetime,
    end: datetime,
    pauses: Sequence[Pause] = (),
) -> timedelta:
    """Business time in [start, end) outside `pauses` (zero when end <= start)."""
    compiled = calendar if isinstance(calendar, CompiledCalendar) else calendar.compiled
    a = to_us(check_aware(start, field="start"))
    b = to_us(check_aware(end, field="end"))
    total = compiled.between_us(a, b)
    for p_from, p_to in check_pauses(pauses):
        lo = max(p_from, a)
        hi = b if p_to is None else min(p_to, b)
        if hi > lo:
            total -= compiled.between_us(lo, hi)
    return timedelta(microseconds=max(total, 0))


def is_open(calendar: Calendar | CompiledCalendar, at: datetime) -> bool:
    """Whether `at` falls within business hours."""
    compiled = calendar if isinstance(calendar, CompiledCalendar) else calendar.compiled
    t = to_us(check_aware(at, field="at"))
    compiled.cover(t, t + 1)
    starts, ends, _before, _after = compiled.arrays
    i = bisect_right(starts, t) - 1
    return i >= 0 and t < ends[i]


ALWAYS_OPEN = Calendar(timezone="UTC", weekly=tuple((Shift(0, MINUTES_PER_DAY),) for _ in range(7)))


# --------------------------------------------------------------------------- marketplace clocks

# Elapsed hours each marketplace gives a seller to answer a buyer's message, from its arrival,
# weekends and holidays included, our pauses ignored, added in UTC (a DST change in the buyer's or
# the seller's zone does not move it). Platforms whose deadline comes with each request (eBay's and
# Shopee's return/case `respond_by`) are in PAYLOAD_DUE_PLATFORMS.
MARKETPLACE_HOURS: dict[str, int] = {"amazon": 24, "tiktok": 48}
PAYLOAD_DUE_PLATFORMS = frozenset({"ebay", "shopee"})


def marketplace_due(platform: str, arrival: datetime, payload_due: datetime | None = None) -> datetime | None:
    """The marketplace's deadline for a message that arrived at `arrival`: elapsed hours (Amazon 24,
    TikTok 48), or the due date the platform sent (eBay, Shopee; also used for any platform that sent
    one), else None (no marketplace clock)."""
    check_aware(arrival, field="arrival")
    if payload_due is not None:
        return check_aware(payload_due, field="payload_due").astimezone(UTC)
    hours = MARKETPLACE_HOURS.get(platform)
    if hours is None:
        return None
    return arrival.astimezone(UTC) + timedelta(hours=hours)
