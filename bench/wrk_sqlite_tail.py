"""The tail of HTTP ticket creation on SQLite, aftersales alone (issue 13: p99 < 100 ms at 8 connections).

bench/peer_wrk.py's aftersales side without django-helpdesk: the same preparation (bench/peer.py: demo data,
token, triage model), scripts/run.sh with its Huey worker and the gunicorn layout of scripts/gunicorn.conf.py,
the same wrk script (every request a new buyer), in rounds after one warm-up round. With --stats (default) the
servers run with SQLITE_LOCK_STATS (core/sqlite/lockstats.py) and the report adds, over the measured rounds,
how long each write transaction waited for SQLite's write lock and held it, per role (web, worker) and call
site. Other environment variables reach run.sh as they are (SQLITE_WRITER_QUEUE, WORKER_NICE, ...).

  .venv/bin/python bench/wrk_sqlite_tail.py --seconds 20 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peer  # bench/peer.py
import peer_wrk  # bench/peer_wrk.py: its wrk script and rounds


def prepared(tmp: Path, args: argparse.Namespace) -> tuple[dict[str, str], dict[str, object]]:
    """bench/peer.py's preparation, or a copy of the one kept in --prepared (the paths in it rewritten)."""
    if args.prepared is None:
        return peer.aftersales_prepare(tmp, "as-var", args.tickets)
    saved = args.prepared / "prepared.json"
    if not saved.exists():
        args.prepared.mkdir(parents=True, exist_ok=True)
        env, info = peer.aftersales_prepare(args.prepared, "as-var", args.tickets)
        saved.write_text(json.dumps({"env": env, "info": info}))
    data = json.loads(saved.read_text())
    env, info = data["env"], data["info"]
    source = Path(env["AFTERSALES_VAR_DIR"])
    shutil.copytree(source, tmp / "as-var", symlinks=True)
    for key, value in list(env.items()):
        if str(source) in value:
            env[key] = value.replace(str(source), str(tmp / "as-var"))
    return env, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20, help="seconds per round (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds after one warm-up round (default 3)")
    parser.add_argument("--tickets", type=int, default=400, help="demo tickets before the load (default 400)")
    parser.add_argument("--no-stats", dest="stats", action="store_false", help="without SQLITE_LOCK_STATS")
    parser.add_argument("--drain-limit", type=float, default=120, help="seconds to wait for the worker's backlog")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--prepared",
        type=Path,
        help="a folder holding a prepared database (made on first use, copied for each run: migrate and demo once)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="aftersales-wrk-tail-"))
    script = tmp / "create.lua"
    script.write_text(peer_wrk.LUA)
    server = None
    try:
        env, info = prepared(tmp, args)
        extra = {"SQLITE_LOCK_STATS": str(tmp / "lockstats")} if args.stats else {}
        server = peer.aftersales_start(env, info, via_run_sh=True, extra=extra)
        result = peer_wrk.Rounds()
        shown = {k: os.environ[k] for k in ("SQLITE_WRITER_QUEUE", "WORKER_NICE") if k in os.environ}
        print(f"command: {' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}  env {shown}")
        print(f"load average at start {os.getloadavg()[0]:.2f}")
        worker_before = peer_wrk.worker_cpu(server)
        since = 0.0
        for r in range(args.rounds + 1):
            if r == 1:
                since = time.time()
            peer.log(f"round {r}{' (warm-up)' if r == 0 else ''}")
            peer_wrk.wrk_round(server, "aftersales", script, args, result if r else None)
        until = time.time()
        worker_spent = peer_wrk.worker_cpu(server) - worker_before
        print(f"\n## aftersales alone, {args.connections} connections, wrk; load average {os.getloadavg()[0]:.1f}")
        print(f"  {result.row()}")
        rounds = ", ".join(f"{p:.1f}" for p in result.p99)
        print(f"  p99 per round: {rounds} ms (median {statistics.median(result.p99):.1f})")
        print(f"  Huey worker CPU during the rounds (warm-up included): {worker_spent:.1f} s")
        print("\n".join(peer.backlog_lines(env, limit=args.drain_limit)))
        if args.stats:
            from aftersales.core.sqlite.lockstats import report

            print(f"\n## SQLite write lock over the measured rounds\n{report(tmp / 'lockstats', since, until)}")
    finally:
        if server is not None:
            server.stop()
        peer.keep_or_remove(tmp, keep=args.keep)


if __name__ == "__main__":
    main()
