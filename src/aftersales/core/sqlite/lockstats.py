"""Opt-in measurement of SQLite's write lock (issue 13: the tail of ticket creation on SQLite).

With `SQLITE_LOCK_STATS=<folder>` in the environment, every process of ours that uses SQLite (web workers, the
Huey worker, commands) appends one line per write transaction to `<folder>/<role>-<pid>.tsv`: which database
("app", or "huey" for Huey's SQLite queue), how it took the lock, when it asked for it, how long it waited for
it and how long it then held it, and the Python call site that wrote (the innermost frame of ours, outside this
package). Off by default: nothing is patched without the variable.

- "tx": an explicit transaction (Django's `BEGIN IMMEDIATE`, through the writer queue when it is on): wait =
  from asking (queue and `BEGIN` included) until `BEGIN` returned; hold = from then until COMMIT/ROLLBACK returned.
- "auto": a write statement outside any transaction (autocommit): wait and hold are one figure, put in hold.
- "huey": a transaction of Huey's SQLite storage (enqueue, dequeue, schedule, the worker's claims).

`python -m aftersales.core.sqlite.lockstats <folder> [--since EPOCH] [--until EPOCH]` prints the distributions
per role and kind, the longest holders by call site, and for the web's longest waits what held the lock then."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ENV = "SQLITE_LOCK_STATS"
_SKIP = (f"{os.sep}django{os.sep}", f"{os.sep}huey{os.sep}", f"core{os.sep}sqlite{os.sep}", "contextlib.py")
_undo: list[tuple[Any, str, Any]] = []  # (owner, attribute, original) of every patch: `uninstall` restores them
_out_lock = threading.Lock()
_out: Any = None


def role() -> str:
    argv = " ".join(sys.argv)
    if "gunicorn" in argv:
        return "web"
    if "run_huey" in argv:
        return "worker"
    return "other"


def call_site() -> str:
    """The innermost frame of ours (aftersales, outside core/sqlite) on this thread's stack, as module:function."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if "aftersales" in filename and not any(part in filename for part in _SKIP):
            module = frame.f_globals.get("__name__", "?")
            return f"{module}:{frame.f_code.co_qualname}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "?"


def record(db: str, kind: str, asked: float, wait: float, hold: float, site: str, cpu: float = 0.0) -> None:
    """One line: `hold` is wall time, `cpu` the thread's CPU time while it held the lock (what the transaction
    itself cost, whatever else ran on the machine)."""
    global _out
    thread = threading.current_thread().name
    line = f"{db}\t{kind}\t{asked:.6f}\t{wait * 1000:.3f}\t{hold * 1000:.3f}\t{site}\t{thread}\t{cpu * 1000:.3f}\n"
    with _out_lock:
        if _out is None or getattr(_out, "pid", None) != os.getpid():  # (a forked web worker writes its own file)
            folder = Path(os.environ[ENV])
            folder.mkdir(parents=True, exist_ok=True)
            _out = (folder / f"{role()}-{os.getpid()}.tsv").open("a", buffering=1)
            _out.pid = os.getpid()
        _out.write(line)


def install() -> None:
    """Patch Django's SQLite backend (and so ours, a subclass), its cursors and Huey's SQLite storage to record
    (idempotent; called by core.apps when SQLITE_LOCK_STATS is set)."""
    if _undo or not os.environ.get(ENV):
        return
    from django.db.backends import utils
    from django.db.backends.sqlite3 import base as sqlite_base

    from . import base as queue_base

    def wrap_begin(cls: Any) -> None:
        begin = cls._start_transaction_under_autocommit

        def _start_transaction_under_autocommit(self: Any) -> None:
            depth = getattr(self, "_stats_depth", 0)
            self._stats_depth = depth + 1
            if depth == 0:
                self._stats_asked, self._stats_begun = (time.time(), time.perf_counter()), None
            try:
                begin(self)
                if depth == 0:
                    self._stats_begun = time.perf_counter()
                    self._stats_cpu = time.thread_time()
                    self._stats_site = call_site()
            finally:
                self._stats_depth = depth

        _patch(cls, "_start_transaction_under_autocommit", _start_transaction_under_autocommit)

    def wrap_end(cls: Any, name: str) -> None:
        end = getattr(cls, name)

        def ended(self: Any) -> None:
            try:
                end(self)
            finally:
                asked = getattr(self, "_stats_asked", None)
                begun = getattr(self, "_stats_begun", None)
                if asked is not None and begun is not None and cls is type(self).__mro__[_depth(self, name)]:
                    now = time.perf_counter()
                    cpu = time.thread_time() - self._stats_cpu
                    record("app", "tx", asked[0], begun - asked[1], now - begun, self._stats_site, cpu)
                    self._stats_asked = self._stats_begun = None

        _patch(cls, name, ended)

    for cls in (sqlite_base.DatabaseWrapper, queue_base.DatabaseWrapper):
        wrap_begin(cls)
        for name in ("_commit", "_rollback"):
            wrap_end(cls, name)

    execute = utils.CursorWrapper._execute  # type: ignore[attr-defined]  # (private: not in the stubs)

    def _execute(self: Any, sql: str, params: Any, *ignored: Any) -> Any:
        db = self.db
        if db.vendor != "sqlite" or db.in_atomic_block or not db.get_autocommit() or _reads(sql):
            return execute(self, sql, params, *ignored)
        asked, started, cpu = time.time(), time.perf_counter(), time.thread_time()
        try:
            return execute(self, sql, params, *ignored)
        finally:
            now = time.perf_counter()
            record("app", "auto", asked, 0.0, now - started, call_site(), time.thread_time() - cpu)

    _patch(utils.CursorWrapper, "_execute", _execute)
    _install_huey()


def _patch(owner: Any, name: str, new: Any) -> None:
    _undo.append((owner, name, vars(owner).get(name, _INHERITED)))
    setattr(owner, name, new)


_INHERITED = object()


def uninstall() -> None:
    """Undo `install` (tests)."""
    global _out
    while _undo:
        owner, name, original = _undo.pop()
        if original is _INHERITED:
            delattr(owner, name)
        else:
            setattr(owner, name, original)
    with _out_lock:
        if _out is not None:
            _out.close()
            _out = None


def _depth(instance: Any, name: str) -> int:
    """The index in the instance's MRO of the outermost class defining `name` (only it records)."""
    for index, cls in enumerate(type(instance).__mro__):
        if name in vars(cls):
            return index
    return 0


def _reads(sql: str) -> bool:
    head = sql.lstrip()[:8].upper()
    return head.startswith(("SELECT", "PRAGMA", "SAVEPOI", "RELEASE", "WITH", "BEGIN"))


def _install_huey() -> None:
    from huey.storage import SqliteStorage

    db = SqliteStorage.db

    @contextlib.contextmanager
    def recorded(self: Any, commit: bool = False, close: bool = False) -> Iterator[Any]:
        if not commit:
            with db(self, commit=commit, close=close) as cursor:
                yield cursor
            return
        asked, started = time.time(), time.perf_counter()
        begun, cpu = started, time.thread_time()
        try:
            with db(self, commit=commit, close=close) as cursor:
                begun, cpu = time.perf_counter(), time.thread_time()
                yield cursor
        finally:
            now = time.perf_counter()
            record("huey", "huey", asked, begun - started, now - begun, call_site(), time.thread_time() - cpu)

    _patch(SqliteStorage, "db", recorded)


# --- the report ------------------------------------------------------------------------------------------


def _quantiles(values: list[float]) -> str:
    if not values:
        return "n=0"
    values = sorted(values)

    def q(p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))]

    return (
        f"n={len(values):6d}  p50 {q(0.5):7.2f}  p90 {q(0.9):7.2f}  p99 {q(0.99):7.2f}  max {values[-1]:7.1f}"
        f"  sum {sum(values) / 1000:6.2f} s"
    )


def report(folder: Path, since: float = 0.0, until: float = float("inf")) -> str:
    rows: list[tuple[str, str, str, float, float, float, str, float]] = []
    for path in sorted(folder.glob("*.tsv")):
        who = path.stem.split("-")[0]
        for line in path.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) < 6:
                continue
            asked = float(parts[2])
            if since <= asked <= until:
                cpu = float(parts[7]) if len(parts) > 7 else float("nan")
                rows.append((who, parts[0], parts[1], asked, float(parts[3]), float(parts[4]), parts[5], cpu))
    out = [f"{len(rows)} write transactions from {folder}"]
    groups: dict[tuple[str, str, str], list[tuple[float, float, float]]] = defaultdict(list)
    for who, db, kind, _asked, wait, hold, _site, cpu in rows:
        groups[(who, db, kind)].append((wait, hold, cpu))
    out.append("ms per transaction (role, database, kind): wait, hold (wall), CPU of the holding thread meanwhile")
    for key in sorted(groups):
        for index, what in enumerate(("wait", "hold", "cpu ")):
            out.append(f"  {' '.join(key):18s} {what}  {_quantiles([g[index] for g in groups[key]])}")
    sites: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for who, db, _kind, _asked, _wait, hold, site, cpu in rows:
        sites[(who, f"{db} {site.rsplit(':', 1)[0]}")].append((hold, cpu))
    out.append("longest holders by call site (role, database, site): hold ms (wall), then CPU ms")
    top = sorted(sites.items(), key=lambda item: -sum(h for h, _ in item[1]))[:14]
    for (who, site), site_holds in top:
        out.append(f"  {who:6s} {site[:70]:70s} {_quantiles([h for h, _ in site_holds])}")
        out.append(f"  {'':6s} {'':70s} {_quantiles([c for _, c in site_holds])}")
    # What held the lock while the web's longest waits waited (app database).
    holds = sorted(
        (asked + wait / 1000, asked + (wait + hold) / 1000, who, site)
        for who, db, _k, asked, wait, hold, site, _cpu in rows
        if db == "app"
    )
    web_waits = sorted((r for r in rows if r[0] == "web" and r[1] == "app"), key=lambda r: -r[4])
    n = max(1, len(web_waits) // 100)
    blame: dict[str, float] = defaultdict(float)
    for _who, _db, _kind, asked, wait, _hold, _site, _cpu in web_waits[:n]:
        start, end = asked, asked + wait / 1000
        for h_start, h_end, h_who, h_site in holds:
            if h_start >= end:
                break
            overlap = min(end, h_end) - max(start, h_start)
            if overlap > 0:
                blame[f"{h_who} {h_site.rsplit(':', 1)[0]}"] += overlap * 1000
    out.append(f"the web's {n} longest waits (top 1%): ms of lock held by others meanwhile")
    for site, ms in sorted(blame.items(), key=lambda item: -item[1])[:10]:
        out.append(f"  {site[:80]:80s} {ms:8.1f}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--since", type=float, default=0.0, help="only transactions asked for from this epoch time")
    parser.add_argument("--until", type=float, default=float("inf"), help="... until this epoch time")
    args = parser.parse_args()
    print(report(args.folder, args.since, args.until))


if __name__ == "__main__":
    main()
