"""SLA deadlines per second (issue 11, target >= 100,000/s), in-process, one core.

Calendars: an office (Europe/Berlin, Mon-Fri 09:00-12:00 + 13:30-18:30, Saturday 10:00-14:00, 12
holidays a year for 2026-2027, a short Christmas Eve), a night desk (America/New_York, 22:00-06:00
Mon-Fri) and a 24/7 desk (Asia/Shanghai). Arrivals: random instants over two years (DST changes
included), targets drawn from typical policies (2 h, 4 h, 8 h, 12 h, 24 h, 48 h of business time).

Measured: `add_business_time(calendar, arrival, target)` (the public function, datetimes in and out,
first call of each calendar compiled before timing), the same with two pauses per ticket, and
`business_time_between` over the same pairs. Each is run --repeat times; the median is reported.

    .venv/bin/python bench/sla.py [--n 200000] [--repeat 5] [--append]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings.test")


def calendars() -> list:
    from aftersales.sla.business_time import DAYS, calendar_from_spec

    split = [["09:00", "12:00"], ["13:30", "18:30"]]
    holidays = [
        f"{y}-{md}"
        for y in (2026, 2027)
        for md in ("01-01", "04-03", "04-06", "05-01", "05-14", "05-25", "10-03", "12-25", "12-26", "12-31")
    ]
    office = calendar_from_spec(
        timezone="Europe/Berlin",
        weekly={**dict.fromkeys(DAYS[:5], split), "sat": [["10:00", "14:00"]]},
        holidays=holidays,
        special_days={"2026-12-24": [["09:00", "12:00"]], "2027-12-24": [["09:00", "12:00"]]},
    )
    nights = calendar_from_spec(
        timezone="America/New_York", weekly={d: [["22:00", "06:00"]] for d in DAYS[:5]}, holidays=holidays[:6]
    )
    always = calendar_from_spec(timezone="Asia/Shanghai", weekly={d: [["00:00", "24:00"]] for d in DAYS})
    return [office, office, office, nights, always]


def sample(n: int, seed: int = 11) -> list[tuple]:
    rnd = random.Random(seed)
    cals = calendars()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    targets = [timedelta(hours=h) for h in (2, 4, 8, 12, 12, 24, 48)]
    out = []
    for _ in range(n):
        start = base + timedelta(seconds=rnd.randrange(2 * 365 * 86400), microseconds=rnd.randrange(1_000_000))
        p1 = start + timedelta(minutes=rnd.randrange(30, 600))
        p2 = p1 + timedelta(minutes=rnd.randrange(5, 3000))
        p3 = p2 + timedelta(minutes=rnd.randrange(5, 600))
        p4 = p3 + timedelta(minutes=rnd.randrange(5, 3000))
        out.append((rnd.choice(cals), start, rnd.choice(targets), [(p1, p2), (p3, p4)]))
    return out


def timed(fn, rows: list[tuple], repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median rates per wall-clock second and per CPU second of this process (on a machine shared with
    other jobs the CPU-time rate is what one core does; the wall-clock rate depends on the load)."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn(rows)
        wall.append(len(rows) / (time.perf_counter() - started))
        cpu.append(len(rows) / max(time.process_time() - cpu_started, 1e-9))
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    import django

    django.setup()
    from aftersales.sla.business_time import add_business_time, business_time_between

    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--append", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    rows = sample(args.n)
    for cal in {id(c): c for c, *_ in rows}.values():  # compile each calendar over the sampled years
        add_business_time(cal, datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1))
        add_business_time(cal, datetime(2028, 1, 30, tzinfo=UTC), timedelta(hours=1))

    def plain(rows: list[tuple]) -> None:
        for cal, start, target, _pauses in rows:
            add_business_time(cal, start, target)

    def paused(rows: list[tuple]) -> None:
        for cal, start, target, pauses in rows:
            add_business_time(cal, start, target, pauses)

    deadlines = [add_business_time(cal, s, t) for cal, s, t, _p in rows]

    def between(rows: list[tuple]) -> None:
        for (cal, start, _t, _p), end in zip(rows, deadlines, strict=True):
            business_time_between(cal, start, end)

    r_plain = timed(plain, rows, args.repeat)
    r_paused = timed(paused, rows, args.repeat)
    r_between = timed(between, rows, args.repeat)
    load = os.getloadavg()
    lines = [
        f"- `add_business_time` (no pauses): **{r_plain[1]:,.0f} deadlines per CPU second** "
        f"({r_plain[0]:,.0f} per wall-clock second at this load) (target >= 100,000/s)",
        f"- `add_business_time` with two pauses per ticket: **{r_paused[1]:,.0f} per CPU second** "
        f"({r_paused[0]:,.0f} per wall-clock second)",
        f"- `business_time_between` (arrival -> deadline): **{r_between[1]:,.0f} per CPU second** "
        f"({r_between[0]:,.0f} per wall-clock second)",
        f"- {args.n:,} tickets (3/5 office Europe/Berlin split shifts + short Saturday + holidays, 1/5 night desk "
        f"America/New_York 22:00-06:00, 1/5 24/7 Asia/Shanghai), arrivals over 2026-2027, targets 2-48 h; "
        f"median of {args.repeat} runs, one process, one core",
        f"- machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}; "
        f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (shared with other agents' runs)",
    ]
    print("\n".join(lines))
    if args.append:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as fh:
            fh.write(
                f"\n## SLA deadlines (bench/sla.py, {stamp})\n\n"
                f"Command: `.venv/bin/python bench/sla.py --n {args.n} --repeat {args.repeat} --append` "
                "(pure arithmetic, no database).\n\n" + "\n".join(lines) + "\n"
            )


if __name__ == "__main__":
    main()
