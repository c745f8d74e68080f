"""sla.business_time: table-driven cases (split shifts, a shorter Saturday, holidays, special days,
overnight shifts, DST gaps and repeats, pauses touching and spanning nights, marketplace clocks, bad
input) and properties (the counted time up to the deadline equals the target; the deadline is the first
such instant; monotonic in the duration; the compiled fast path equals a naive minute-stepping
reference on random calendars in zones with and without DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.sla.business_time import (
    DAYS,
    BusinessTimeError,
    Calendar,
    add_business_time,
    business_time_between,
    calendar_from_spec,
    calendar_spec,
    is_open,
    marketplace_due,
)

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
M = timedelta(minutes=1)

SPLIT = [["09:00", "12:00"], ["13:30", "18:30"]]
OFFICE = calendar_from_spec(
    timezone="Europe/Berlin",
    weekly={"mon": SPLIT, "tue": SPLIT, "wed": SPLIT, "thu": SPLIT, "fri": SPLIT, "sat": [["10:00", "14:00"]]},
    holidays=["2026-12-25", "2026-12-26"],
    special_days={"2026-12-24": [["09:00", "12:00"]]},
)
NIGHTS = calendar_from_spec(
    timezone="Europe/Berlin",
    weekly={d: [["22:00", "06:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    holidays=["2026-12-08"],
)
ALL_DAY = calendar_from_spec(timezone="Europe/Berlin", weekly={d: [["00:00", "24:00"]] for d in DAYS})


def b(y: int, mo: int, d: int, h: int = 0, mi: int = 0, fold: int = 0) -> datetime:
    """A Berlin wall time."""
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN, fold=fold)


# 2026-12-07 is a Monday.
ADD_CASES = [
    # (id, calendar, start, duration, pauses, expected deadline)
    ("before opening", OFFICE, b(2026, 12, 7, 7), 1 * H, [], b(2026, 12, 7, 10)),
    ("on a closing time stays there", OFFICE, b(2026, 12, 7, 9), 3 * H, [], b(2026, 12, 7, 12)),
    ("end of day stays", OFFICE, b(2026, 12, 7, 9), 8 * H, [], b(2026, 12, 7, 18, 30)),
    ("one minute past lunch", OFFICE, b(2026, 12, 7, 9), 3 * H + M, [], b(2026, 12, 7, 13, 31)),
    ("starts during lunch", OFFICE, b(2026, 12, 7, 12, 45), 1 * H, [], b(2026, 12, 7, 14, 30)),
    ("starts after closing", OFFICE, b(2026, 12, 7, 20), 2 * H, [], b(2026, 12, 8, 11)),
    ("12 h over two days", OFFICE, b(2026, 12, 7, 9), 12 * H, [], b(2026, 12, 8, 14, 30)),
    ("friday evening to the short saturday", OFFICE, b(2026, 12, 11, 18), 1 * H, [], b(2026, 12, 12, 10, 30)),
    ("saturday to monday", OFFICE, b(2026, 12, 12, 13), 2 * H, [], b(2026, 12, 14, 10)),
    ("sunday arrival", OFFICE, b(2026, 12, 13, 15), 30 * M, [], b(2026, 12, 14, 9, 30)),
    ("special short christmas eve, holidays", OFFICE, b(2026, 12, 24, 11), 2 * H, [], b(2026, 12, 28, 10)),
    ("zero duration is the start", OFFICE, b(2026, 12, 13, 15), timedelta(0), [], b(2026, 12, 13, 15)),
    (
        "microseconds kept",
        OFFICE,
        b(2026, 12, 7, 9) + timedelta(microseconds=7),
        1 * H,
        [],
        b(2026, 12, 7, 10) + timedelta(microseconds=7),
    ),
    # overnight shifts
    ("overnight within a night", NIGHTS, b(2026, 12, 7, 23), 2 * H, [], b(2026, 12, 8, 1)),
    ("overnight ends at 06:00 and stays", NIGHTS, b(2026, 12, 7, 22), 8 * H, [], b(2026, 12, 8, 6)),
    ("overnight morning part", NIGHTS, b(2026, 12, 7, 3), 2 * H, [], b(2026, 12, 8, 0)),  # no Sunday night shift
    ("overnight runs into a holiday", NIGHTS, b(2026, 12, 7, 22), 9 * H, [], b(2026, 12, 9, 23)),
    ("friday night into saturday", NIGHTS, b(2026, 12, 11, 23), 8 * H, [], b(2026, 12, 14, 23)),
    # pauses
    (
        "pause inside a shift",
        OFFICE,
        b(2026, 12, 7, 9),
        3 * H,
        [(b(2026, 12, 7, 10), b(2026, 12, 7, 11))],
        b(2026, 12, 7, 14, 30),
    ),
    (
        "pause outside hours changes nothing",
        OFFICE,
        b(2026, 12, 7, 9),
        8 * H,
        [(b(2026, 12, 7, 19), b(2026, 12, 8, 8))],
        b(2026, 12, 7, 18, 30),
    ),
    (
        "pause touching the night",
        OFFICE,
        b(2026, 12, 7, 17),
        2 * H,
        [(b(2026, 12, 7, 18, 30), b(2026, 12, 8, 9))],
        b(2026, 12, 8, 9, 30),
    ),
    (
        "pause spanning the night",
        OFFICE,
        b(2026, 12, 7, 17),
        2 * H,
        [(b(2026, 12, 7, 18), b(2026, 12, 8, 10))],
        b(2026, 12, 8, 11),
    ),
    (
        "pause spanning a night shift",
        NIGHTS,
        b(2026, 12, 7, 22),
        2 * H,
        [(b(2026, 12, 7, 23), b(2026, 12, 8, 5))],
        b(2026, 12, 8, 6),
    ),
    (
        "pause started before the start",
        OFFICE,
        b(2026, 12, 7, 10),
        1 * H,
        [(b(2026, 12, 7, 8), b(2026, 12, 7, 11))],
        b(2026, 12, 7, 12),
    ),
    (
        "deadline at a pause's start",
        OFFICE,
        b(2026, 12, 7, 9),
        1 * H,
        [(b(2026, 12, 7, 10), b(2026, 12, 7, 11))],
        b(2026, 12, 7, 10),
    ),
    (
        "two pauses touching each other",
        OFFICE,
        b(2026, 12, 7, 9),
        2 * H,
        [(b(2026, 12, 7, 9, 30), b(2026, 12, 7, 10)), (b(2026, 12, 7, 10), b(2026, 12, 7, 10, 30))],
        b(2026, 12, 7, 12),
    ),
    (
        "open pause after the deadline",
        OFFICE,
        b(2026, 12, 7, 9),
        1 * H,
        [(b(2026, 12, 7, 10, 30), None)],
        b(2026, 12, 7, 10),
    ),
    ("open pause before the deadline", OFFICE, b(2026, 12, 7, 9), 2 * H, [(b(2026, 12, 7, 10, 30), None)], None),
    # DST: Europe/Berlin springs forward 2026-03-29 02:00 -> 03:00 and falls back 2026-10-25 03:00 -> 02:00.
    ("spring forward: 24 wall hours are 23", ALL_DAY, b(2026, 3, 29, 0), 23 * H, [], b(2026, 3, 30, 0)),
    ("fall back: 24 wall hours are 25", ALL_DAY, b(2026, 10, 25, 0), 25 * H, [], b(2026, 10, 26, 0)),
    (
        "fall back: repeated hour counted twice",
        ALL_DAY,
        b(2026, 10, 25, 2, 30),
        1 * H,
        [],
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    ),  # 02:30 CET, the second one
]


@pytest.mark.parametrize(
    ("cal", "start", "duration", "pauses", "expected"), [c[1:] for c in ADD_CASES], ids=[c[0] for c in ADD_CASES]
)
def test_add_business_time(
    cal: Calendar, start: datetime, duration: timedelta, pauses: list, expected: datetime | None
) -> None:  # type: ignore[type-arg]
    got = add_business_time(cal, start, duration, pauses)
    assert got == expected
    if got is not None:
        assert got.tzinfo is UTC
        closed = [(p0, p1) for p0, p1 in pauses if p1 is not None]
        assert business_time_between(cal, start, got, closed) == duration


def night_shift_calendar(day: str, shift: list[str]) -> Calendar:
    return calendar_from_spec(timezone="Europe/Berlin", weekly={day: [shift]})


DST_CASES = [
    # (id, calendar, day start, day end, business time counted that day)
    (
        "01:00-04:00 on the spring-forward night lasts 2 h",
        night_shift_calendar("sun", ["01:00", "04:00"]),
        b(2026, 3, 29),
        b(2026, 3, 30),
        2 * H,
    ),
    (
        "01:00-04:00 on the fall-back night lasts 4 h",
        night_shift_calendar("sun", ["01:00", "04:00"]),
        b(2026, 10, 25),
        b(2026, 10, 26),
        4 * H,
    ),
    (
        "an overnight shift across spring-forward",
        night_shift_calendar("sat", ["22:00", "06:00"]),
        b(2026, 3, 28),
        b(2026, 3, 30),
        7 * H,
    ),
    (
        "an overnight shift across fall-back",
        night_shift_calendar("sat", ["22:00", "06:00"]),
        b(2026, 10, 24),
        b(2026, 10, 26),
        9 * H,
    ),
    (
        "a shift starting in the gap starts at the jump",
        night_shift_calendar("sun", ["02:30", "04:00"]),
        b(2026, 3, 29),
        b(2026, 3, 30),
        1 * H,
    ),
    (
        "a shift ending in the gap ends at the jump",
        night_shift_calendar("sun", ["01:30", "02:30"]),
        b(2026, 3, 29),
        b(2026, 3, 30),
        30 * M,
    ),
    (
        "a shift wholly in the gap is empty",
        night_shift_calendar("sun", ["02:10", "02:50"]),
        b(2026, 3, 29),
        b(2026, 3, 30),
        timedelta(0),
    ),
    (
        "a repeated wall time is its first occurrence",
        night_shift_calendar("sun", ["02:30", "04:00"]),
        b(2026, 10, 25),
        b(2026, 10, 26),
        2 * H + 30 * M,
    ),
    ("an ordinary week", OFFICE, b(2026, 12, 7), b(2026, 12, 14), 5 * 8 * H + 4 * H),
    ("christmas week", OFFICE, b(2026, 12, 21), b(2026, 12, 28), 3 * 8 * H + 3 * H),
]


@pytest.mark.parametrize(("cal", "start", "end", "expected"), [c[1:] for c in DST_CASES], ids=[c[0] for c in DST_CASES])
def test_business_time_between(cal: Calendar, start: datetime, end: datetime, expected: timedelta) -> None:
    assert business_time_between(cal, start, end) == expected


def test_other_zones_and_years() -> None:
    ny = calendar_from_spec(timezone="America/New_York", weekly={d: [["09:00", "17:00"]] for d in DAYS[:5]})
    # US DST begins 2027-03-14 (a Sunday): Friday 16:00 EST + 2 h -> Monday 10:00 EDT.
    start = datetime(2027, 3, 12, 16, tzinfo=ZoneInfo("America/New_York"))
    assert add_business_time(ny, start, 2 * H) == datetime(2027, 3, 15, 14, tzinfo=UTC)
    shanghai = calendar_from_spec(timezone="Asia/Shanghai", weekly={"mon": [["09:00", "18:00"]]})
    # far ahead: a one-day-a-week calendar, 900 h -> the end of the 100th Monday (99 weeks later)
    got = add_business_time(shanghai, datetime(2026, 12, 7, 1, tzinfo=UTC), 900 * H)
    assert got == datetime(2026, 12, 7, 10, tzinfo=UTC) + timedelta(weeks=99)
    # far behind the first compiled range
    assert add_business_time(shanghai, datetime(2001, 1, 1, tzinfo=UTC), 9 * H) == datetime(2001, 1, 1, 10, tzinfo=UTC)


def test_is_open() -> None:
    assert is_open(OFFICE, b(2026, 12, 7, 9))
    assert not is_open(OFFICE, b(2026, 12, 7, 12))
    assert not is_open(OFFICE, b(2026, 12, 25, 10))
    assert is_open(NIGHTS, b(2026, 12, 8, 3))  # the holiday's morning belongs to Monday's night
    assert not is_open(NIGHTS, b(2026, 12, 9, 3))  # no shift starts on the holiday


def test_spec_round_trip() -> None:
    again = calendar_from_spec(**calendar_spec(OFFICE))  # type: ignore[arg-type]
    assert again == OFFICE
    assert calendar_spec(OFFICE)["weekly"]["sat"] == [["10:00", "14:00"]]  # type: ignore[index]


# --------------------------------------------------------------------------- marketplace clocks


def test_amazon_24_elapsed_hours_in_utc_across_dst() -> None:
    # Saturday 2026-03-28 10:00 Berlin; the buyer's clocks spring forward that night: still 24 real hours.
    arrival = b(2026, 3, 28, 10)
    due = marketplace_due("amazon", arrival)
    assert due == datetime(2026, 3, 29, 9, tzinfo=UTC)
    assert due.astimezone(BERLIN).hour == 11  # 25 wall hours later
    assert marketplace_due("tiktok", arrival) == datetime(2026, 3, 30, 9, tzinfo=UTC)


def test_payload_due_platforms() -> None:
    arrival = b(2026, 12, 7, 10)
    respond_by = datetime(2026, 12, 10, 23, 59, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert marketplace_due("ebay", arrival, respond_by) == respond_by.astimezone(UTC)
    assert marketplace_due("shopee", arrival, None) is None
    assert marketplace_due("shopify", arrival) is None
    assert marketplace_due("email", arrival) is None


# --------------------------------------------------------------------------- bad input

BAD_SPECS = [
    ({"timezone": "Mars/Olympus", "weekly": {}}, "timezone"),
    ({"timezone": "", "weekly": {}}, "timezone"),
    ({"timezone": "Europe/Berlin", "weekly": {"monday": []}}, "weekly.monday"),
    ({"timezone": "Europe/Berlin", "weekly": {"mon": [["9:00", "12:00"]]}}, "weekly.mon[0]"),
    ({"timezone": "Europe/Berlin", "weekly": {"mon": [["09:00", "25:00"]]}}, "weekly.mon[0]"),
    ({"timezone": "Europe/Berlin", "weekly": {"mon": [["24:00", "06:00"]]}}, "weekly.mon[0]"),
    ({"timezone": "Europe/Berlin", "weekly": {"mon": [["09:00", "09:00"]]}}, "weekly.mon[0]"),
    ({"timezone": "Europe/Berlin", "weekly": {"mon": [["09:00"]]}}, "weekly.mon[0]"),
    ({"timezone": "Europe/Berlin", "weekly": {"mon": [["09:00", "12:00"], ["11:00", "14:00"]]}}, "weekly.mon[1]"),
    ({"timezone": "Europe/Berlin", "weekly": {"mon": [["13:00", "18:00"], ["09:00", "13:30"]]}}, "weekly.mon[0]"),
    ({"timezone": "Europe/Berlin", "weekly": {"mon": [["22:00", "06:00"]], "tue": [["05:00", "12:00"]]}}, "weekly.tue"),
    ({"timezone": "Europe/Berlin", "weekly": {"sun": [["22:00", "06:00"]], "mon": [["05:00", "12:00"]]}}, "weekly.mon"),
    ({"timezone": "Europe/Berlin", "weekly": {"mon": "09-17"}}, "weekly.mon"),
    ({"timezone": "Europe/Berlin", "weekly": []}, "weekly"),
    ({"timezone": "Europe/Berlin", "weekly": {}, "holidays": ["2026-02-30"]}, "holidays[0]"),
    ({"timezone": "Europe/Berlin", "weekly": {}, "holidays": "2026-12-25"}, "holidays"),
    ({"timezone": "Europe/Berlin", "weekly": {}, "special_days": {"xmas": []}}, "special_days.xmas"),
    (
        {
            "timezone": "Europe/Berlin",
            "weekly": {"mon": [["22:00", "06:00"]]},
            "special_days": {"2026-12-08": [["05:00", "09:00"]]},
        },
        "special_days.2026-12-08",
    ),
]


@pytest.mark.parametrize(("spec", "field"), BAD_SPECS)
def test_bad_calendars_name_the_field(spec: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(BusinessTimeError) as info:
        calendar_from_spec(**spec)
    assert info.value.field == field


def test_touching_shifts_are_fine() -> None:
    cal = calendar_from_spec(
        timezone="UTC",
        weekly={
            "mon": [["09:00", "12:00"], ["12:00", "13:00"]],
            "tue": [["00:00", "01:00"]],
            "sun": [["23:00", "24:00"]],
        },
    )
    assert business_time_between(cal, datetime(2026, 12, 6, tzinfo=UTC), datetime(2026, 12, 9, tzinfo=UTC)) == 6 * H


def test_bad_arguments() -> None:
    start = b(2026, 12, 7, 9)
    with pytest.raises(BusinessTimeError) as info:
        add_business_time(OFFICE, datetime(2026, 12, 7, 9), H)
    assert info.value.field == "start"
    with pytest.raises(BusinessTimeError) as info:
        add_business_time(OFFICE, start, -H)
    assert info.value.field == "duration"
    cases = [
        ([(start + 2 * H, start + H)], "pauses[0]"),
        ([(start + H, start + 3 * H), (start + 2 * H, start + 4 * H)], "pauses[1]"),
        ([(start + 3 * H, start + 4 * H), (start + H, start + 2 * H)], "pauses[1]"),
        ([(start + H, None), (start + 3 * H, start + 4 * H)], "pauses[1]"),
        ([(datetime(2026, 12, 7, 10), start + 4 * H)], "pauses[0][0]"),
        ([(start, datetime(2026, 12, 7, 10))], "pauses[0][1]"),
    ]
    for pauses, field in cases:
        with pytest.raises(BusinessTimeError) as info:
            add_business_time(OFFICE, start, H, pauses)
        assert info.value.field == field, pauses
    closed = calendar_from_spec(timezone="UTC", weekly={})
    with pytest.raises(BusinessTimeError) as info:
        add_business_time(closed, start, H)
    assert info.value.field == "calendar"
    assert add_business_time(closed, start, timedelta(0)) == start
    holidays_only = calendar_from_spec(timezone="UTC", weekly={}, special_days={"2026-12-08": [["09:00", "10:00"]]})
    with pytest.raises(BusinessTimeError) as info:
        add_business_time(holidays_only, start, 2 * H)
    assert info.value.field == "duration"


# --------------------------------------------------------------------------- properties

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Shanghai", "Australia/Lord_Howe", "UTC", "America/Santiago"]


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    """Random valid calendars: 0-2 shifts a day on a 30-minute grid, sometimes overnight, some holidays."""
    zone = draw(st.sampled_from(ZONES))
    weekly: dict[str, list[list[str]]] = {}
    for day in DAYS:
        kind = draw(st.integers(0, 4))
        if kind == 0:
            continue
        if kind == 4:  # an overnight shift
            s = draw(st.integers(36, 46))
            e = draw(st.integers(1, 8))
            weekly[day] = [[f"{s // 2:02d}:{s % 2 * 30:02d}", f"{e // 2:02d}:{e % 2 * 30:02d}"]]
            continue
        points = sorted(draw(st.lists(st.integers(0, 48), min_size=2, max_size=4, unique=True)))
        if len(points) % 2:
            points = points[:-1]
        weekly[day] = [
            [f"{p // 2:02d}:{p % 2 * 30:02d}", f"{q // 2:02d}:{q % 2 * 30:02d}"]
            for p, q in zip(points[::2], points[1::2], strict=True)
        ]
    # Drop a next morning's shift that an overnight shift runs into.
    for i, day in enumerate(DAYS):
        nxt = DAYS[(i + 1) % 7]
        if day in weekly and weekly[day][-1][1] < weekly[day][-1][0] and nxt in weekly:
            spill = weekly[day][-1][1]
            weekly[nxt] = [s for s in weekly[nxt] if s[0] >= spill]
            if not weekly[nxt]:
                del weekly[nxt]
    if not weekly:
        weekly = {"wed": [["10:00", "11:30"]]}
    holidays = draw(st.lists(st.dates(date(2026, 3, 20), date(2026, 4, 10)), max_size=3))
    return calendar_from_spec(timezone=zone, weekly=weekly, holidays=holidays)


# Around DST changes in both hemispheres (Berlin/New York in March, Santiago/Lord Howe in April).
instants = st.datetimes(datetime(2026, 3, 5), datetime(2026, 4, 8), timezones=st.just(UTC)).map(
    lambda d: d.replace(second=0, microsecond=0)
)
minutes = st.integers(1, 12 * 60).map(lambda m: timedelta(minutes=m))


def reference_intervals(cal: Calendar, first: date, last: date) -> list[tuple[datetime, datetime]]:
    """Shift instants day by day, converting wall times on their own (no merging, no prefix sums)."""
    zone = ZoneInfo(cal.timezone)

    def instant(day: date, minute: int) -> datetime:
        naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
        for fold in (0, 1):
            aware = naive.replace(tzinfo=zone, fold=fold)
            if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
                return aware.astimezone(UTC)
        # in a gap: step minute by minute (transitions are on whole minutes) to the first valid reading
        probe = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
        while probe.astimezone(zone).replace(tzinfo=None) < naive:
            probe += M
        return probe

    out = []
    day = first
    while day <= last:
        for shift in cal.shifts_on(day):
            a, bb = shift.span
            out.append((instant(day, a), instant(day, bb)))
        day += timedelta(days=1)
    return out


def reference_deadline(
    cal: Calendar, start: datetime, duration: timedelta, pauses: list[tuple[datetime, datetime]]
) -> datetime:
    intervals = reference_intervals(cal, start.date() - timedelta(days=2), start.date() + timedelta(days=40))
    counted = timedelta(0)
    t = start
    while True:
        if counted >= duration:
            return t
        open_now = any(s <= t < e for s, e in intervals) and not any(p0 <= t < p1 for p0, p1 in pauses)
        if open_now:
            counted += M
        t += M


@st.composite
def pause_lists(draw: st.DrawFn, start: datetime) -> list[tuple[datetime, datetime]]:
    offsets = sorted(draw(st.lists(st.integers(-600, 6000), max_size=6, unique=True)))
    if len(offsets) % 2:
        offsets = offsets[:-1]
    return [(start + o * M, start + p * M) for o, p in zip(offsets[::2], offsets[1::2], strict=True)]


PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(calendars(), instants, minutes, st.data())
def test_fast_path_equals_minute_stepping_reference(
    cal: Calendar, start: datetime, duration: timedelta, data: st.DataObject
) -> None:
    pauses = data.draw(pause_lists(start))
    assert add_business_time(cal, start, duration, pauses) == reference_deadline(cal, start, duration, pauses)


@PROPERTY
@given(calendars(), instants, minutes, st.data())
def test_counted_time_up_to_the_deadline_is_the_target(
    cal: Calendar, start: datetime, duration: timedelta, data: st.DataObject
) -> None:
    pauses = data.draw(pause_lists(start))
    deadline = add_business_time(cal, start, duration, pauses)
    assert deadline is not None and deadline >= start
    assert business_time_between(cal, start, deadline, pauses) == duration
    # the first such instant: a microsecond earlier, the target is not reached yet
    assert business_time_between(cal, start, deadline - timedelta(microseconds=1), pauses) < duration


@PROPERTY
@given(calendars(), instants, minutes, minutes)
def test_monotonic_in_the_duration(cal: Calendar, start: datetime, d1: timedelta, d2: timedelta) -> None:
    lo, hi = sorted((d1, d2))
    first, second = add_business_time(cal, start, lo), add_business_time(cal, start, hi)
    assert first is not None and second is not None and first <= second
    # and additive: the deadline of lo + (hi - lo) counted from lo's deadline is hi's deadline
    assert add_business_time(cal, first, hi - lo) == second


@PROPERTY
@given(calendars(), instants, instants)
def test_between_is_additive(cal: Calendar, a: datetime, c: datetime) -> None:
    lo, hi = sorted((a, c))
    mid = lo + (hi - lo) / 2
    assert business_time_between(cal, lo, hi) == business_time_between(cal, lo, mid) + business_time_between(
        cal, mid, hi
    )
    assert business_time_between(cal, lo, hi) <= hi - lo
