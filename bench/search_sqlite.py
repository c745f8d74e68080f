"""Inbox search latency on SQLite: FTS5 (migration inbox 0010) against the LIKE scan it replaced.

Seeds N demo tickets (default 100,000) into a throwaway SQLite file with the demo generator (about
1.5 minutes per 100,000 on 2 cores), or reuses --db, migrates it, then measures the first page of the
inbox (inbox.selectors.ticket_page, limit 50, as the demo admin) for a few searches, in interleaved
rounds, each case with SQLite FTS5 ("fts") and with the LIKE scan over every document ("like",
inbox.search.SQLITE_FTS = False, the behaviour before 0010). With --probe-repeat, also "probe": FTS5
with a common word taking the FTS5 probe (SqliteSearchProbe) instead of the document scan
(selectors.SQLITE_COMMON_SHARE), in rounds alternating with "fts". Prints p50/p95 in ms and the share
of that time spent in SQL.

  .venv/bin/python bench/search_sqlite.py                             # seed 100,000 into a temp file
  .venv/bin/python bench/search_sqlite.py --db /tmp/s.sqlite3 --keep  # seed once and keep the file
  .venv/bin/python bench/search_sqlite.py --db /tmp/s.sqlite3 --reuse # measure again
  .venv/bin/python bench/search_sqlite.py --db /tmp/s.sqlite3 --reuse --like-repeat 0 --probe-repeat 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

RARE_P95_MS = 20.0
COMMON_P95_MS = 50.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", help="SQLite file (default: a temporary one, deleted at the end)")
    parser.add_argument("--reuse", action="store_true", help="use the existing --db: migrate and measure, no seeding")
    parser.add_argument("--keep", action="store_true", help="keep the file at the end")
    parser.add_argument("--repeat", type=int, default=40, help="measured rounds (default 40)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--like-repeat", type=int, default=10, help="measured rounds of the LIKE scan (slow)")
    parser.add_argument(
        "--probe-repeat",
        type=int,
        default=0,
        help="measured rounds with the FTS5 probe for common words too (before the document scan; default 0)",
    )
    return parser.parse_args()


def manage(db: Path, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "DJANGO_SETTINGS_MODULE": "aftersales.settings.test"}
    subprocess.run([sys.executable, "-m", "aftersales.manage", *args], check=True, env=env, cwd=ROOT)


def pct(times: list[float], p: int) -> float:
    if len(times) < 2:
        return times[0] if times else float("nan")
    return statistics.quantiles(times, n=100, method="inclusive")[p - 1]


def main() -> None:
    args = parse_args()
    db = Path(args.db) if args.db else Path(tempfile.gettempdir()) / f"aftersales_search_bench_{os.getpid()}.sqlite3"
    if not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        manage(db, "migrate", "-v0")
        started = time.monotonic()
        manage(db, "demo", "--tickets", str(args.tickets), "--seed", str(args.seed))
        print(f"seeded {args.tickets:,} tickets in {time.monotonic() - started:.0f} s")
    else:
        manage(db, "migrate", "-v0")
    try:
        measure(db, args)
    finally:
        if not args.keep and not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)


def measure(db: Path, args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings.test")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from aftersales.inbox import search, selectors
    from aftersales.inbox.models import Ticket
    from aftersales.inbox.selectors import parse_ticket_filters, ticket_page

    admin = get_user_model().objects.get(username="admin")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.bench_terms USING fts5vocab(main, inbox_ticketsearch_fts, 'row')"
        )
        # Rare: the demo's words are a small vocabulary (the rarest is in 9 tickets); its rare terms are
        # e-mail names like oliveira23378. Take the rarest word, and the first such e-mail name in 2-10.
        cursor.execute("SELECT term FROM bench_terms WHERE term NOT GLOB '*[0-9]*' ORDER BY doc, term LIMIT 1")
        rare = cursor.fetchone()[0]
        cursor.execute(
            "SELECT term FROM bench_terms WHERE doc BETWEEN 2 AND 10 AND length(term) >= 8"
            " AND term GLOB '[a-z][a-z][a-z]*[0-9]' ORDER BY term LIMIT 1"
        )
        rare_name = cursor.fetchone()[0]
        cursor.execute("DROP TABLE temp.bench_terms")
    tickets = Ticket.objects.count()
    cases = {
        f"rare word ({rare})": rare,
        f"rare e-mail name ({rare_name})": rare_name,
        "no match (zzqxvw)": "zzqxvw",
        "Oliveira (a surname)": "Oliveira",
        "退款 (2 CJK characters)": "退款",
        "退 (1 CJK character, prefix)": "退",
        "tracking number (2 common words)": "tracking number",
        "order (a common word)": "order",
        "gadgets (in 93% of tickets)": "gadgets",
    }

    def run(text: str) -> tuple[float, float, int]:
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            page = ticket_page(admin, parse_ticket_filters({"q": text}), limit=50)
            elapsed = (time.perf_counter() - started) * 1000
        sql = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
        return elapsed, sql, len(page.tickets)

    # Modes: fts (as shipped), probe (fts, but a common word also takes the FTS5 probe instead of the
    # document scan: SQLITE_COMMON_SHARE above 1), like (no FTS5: the scan of every document). fts and
    # probe run in alternating rounds, so their ratio is from the same minutes.
    common_share = selectors.SQLITE_COMMON_SHARE
    modes = [m for m, r in (("fts", args.repeat), ("probe", args.probe_repeat), ("like", args.like_repeat)) if r]
    results: dict[tuple[str, str], list[tuple[float, float, int]]] = {}

    def one_round(mode: str, measured: bool) -> None:
        search.SQLITE_FTS = mode != "like"
        selectors.SQLITE_COMMON_SHARE = 2.0 if mode == "probe" else common_share
        for name, text in cases.items():
            sample = run(text)
            if measured:
                results.setdefault((name, mode), []).append(sample)

    for i in range(args.warmup + max(args.repeat, args.probe_repeat)):
        for mode, rounds in (("fts", args.repeat), ("probe", args.probe_repeat)):
            if i < args.warmup + rounds:
                one_round(mode, i >= args.warmup)
    for i in range(args.warmup + args.like_repeat if args.like_repeat else 0):
        one_round("like", i >= args.warmup)
    search.SQLITE_FTS = True
    selectors.SQLITE_COMMON_SHARE = common_share

    print(f"\nSQLite {connection.Database.sqlite_version}, {tickets:,} tickets, {db}")
    print(
        f"first page (50) of ticket_page as admin; fts: {args.repeat} rounds, probe: {args.probe_repeat},"
        f" like: {args.like_repeat}"
    )
    print(f"{'case':38} {'mode':5} {'rows':>4} {'p50 ms':>8} {'p95 ms':>8} {'SQL p50':>8}")
    for name in cases:
        for mode in [m for m in ("like", "probe", "fts") if m in modes]:
            samples = results[(name, mode)]
            times = [s[0] for s in samples]
            sql = [s[1] for s in samples]
            print(
                f"{name:38} {mode:5} {samples[0][2]:>4} {pct(times, 50):8.1f} {pct(times, 95):8.1f} {pct(sql, 50):8.1f}"
            )


if __name__ == "__main__":
    main()
