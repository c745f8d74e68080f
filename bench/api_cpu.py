"""CPU and statements per HTTP-created ticket, in-process through Django's WSGI handler, old against new code
in the same run (issue 13).

`POST /api/v1/inbound/messages` with an admin API token, a new buyer per request (what bench/peer.py's
`create` case sends), handed to `aftersales.wsgi.application` without a socket or a load generator: what a
gunicorn worker's CPU per request is, minus the HTTP parsing. One SQLite database is prepared (migrate,
`demo --tickets N`, a token: bench/peer.py's helpers) and copied for each version, so every version writes
to its own file of the same size. Each version runs in its own process (its `src/` on PYTHONPATH, the same
virtualenv, production settings, the web workers' WAL setting); the versions take turns for --rounds rounds
of --requests requests (first round of each dropped as warm-up). Printed per version: CPU per request
(process time: robust to the machine's load), wall p50/p95/p99, statements per request on the application
database, and the ratio new/old. --profile writes a cProfile of one extra round per version
(/tmp/api_cpu-<version>.prof) and prints its top functions.

  .venv/bin/python bench/api_cpu.py                       # working tree against HEAD
  .venv/bin/python bench/api_cpu.py --before HEAD~1 --rounds 6 --requests 200
  .venv/bin/python bench/api_cpu.py --pg postgres://postgres@127.0.0.1:5432   # on PostgreSQL (a database each)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peer  # bench/peer.py: prepare, PostgreSQL databases

ROOT = peer.ROOT

# Runs in the measured process: the version's code, production settings, no socket.
CHILD = r"""
import cProfile, io, json, os, pstats, sys, time, uuid
import django
django.setup()
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.urls import get_resolver
get_resolver().url_patterns  # (what gunicorn's master preloads)
n, token, store, profile = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
try:  # the web workers' WAL checkpointer (28faf5f), where this version has it
    from aftersales.core.sqlite.checkpoint import start_web_checkpointer
    if connection.vendor == "sqlite":
        start_web_checkpointer()
except ImportError:
    pass
app = WSGIHandler()
statements = [0]
holds, began = [], [0.0]  # the write transaction: BEGIN to the end of COMMIT (SQLite's write lock), ms
def count(execute, sql, params, many, context):
    statements[0] += 1
    return execute(sql, params, many, context)
def timed(execute, sql, params, many, context):
    if sql.startswith("BEGIN"):
        began[0] = time.perf_counter()
    return execute(sql, params, many, context)
connection.ensure_connection()
connection.execute_wrappers.append(timed)  # (kept for the whole run: one list append per statement)
real_commit = connection._commit
def commit():
    real_commit()
    if began[0]:
        holds.append((time.perf_counter() - began[0]) * 1000)
        began[0] = 0.0
connection._commit = commit
def one(i):
    buyer = f"cpu-{uuid.uuid4().hex[:12]}-{i}"
    body = json.dumps({"store_id": store, "external_id": f"msg-{buyer}", "subject": "Order arrived broken",
        "body": "Hello, my order arrived broken. Can you send a new one?", "customer_external_id": buyer,
        "customer_name": "Peer Buyer", "customer_email": f"{buyer}@example.com"}).encode()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/inbound/messages", "SCRIPT_NAME": "",
        "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000", "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT": "*/*",
        "HTTP_USER_AGENT": "python-httpx/0.28.1", "HTTP_ACCEPT_ENCODING": "gzip, deflate",
        "HTTP_CONNECTION": "keep-alive", "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True,
        "wsgi.run_once": False, "RAW_URI": "/api/v1/inbound/messages"}
    status = []
    result = app(environ, lambda s, h, exc_info=None: status.append(s))
    b"".join(result)
    result.close()  # request_finished: what gunicorn does after writing the response
    if not status[0].startswith("201"):
        raise SystemExit(f"{status[0]}")
def run(k):
    del holds[:]
    wall, cpu = [], []
    for i in range(k):
        w, c = time.perf_counter(), time.process_time()
        one(i)
        wall.append((time.perf_counter() - w) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return wall, cpu
run(5)  # first requests: connections, lazy imports
with connection.execute_wrapper(count):
    s0 = statements[0]
    one(10**6)
    per_request = statements[0] - s0
rounds = []
for line in sys.stdin:  # one line per round from the parent: the rounds alternate between versions
    if line.strip() == "profile":
        prof = cProfile.Profile()
        prof.enable()
        run(n)
        prof.disable()
        prof.dump_stats(profile)
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(30)
        print(json.dumps({"profile": out.getvalue()}), flush=True)
        continue
    wall, cpu = run(n)
    print(json.dumps({"wall": wall, "cpu": cpu, "hold": list(holds), "statements": per_request}), flush=True)
"""


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def version(ref: str, tmp: Path) -> Path:
    """A git ref's `git archive` copy, or a folder holding a source tree (e.g. HEAD with one's own files
    copied in, when the shared working tree holds other people's unfinished changes)."""
    if Path(ref).is_dir():
        return Path(ref).resolve()
    return peer.checkout(ref, tmp)


def hold_text(holds: list[float]) -> str:
    """BEGIN (IMMEDIATE) to the end of COMMIT: SQLite's write lock (PostgreSQL sends no BEGIN statement)."""
    if len(holds) < 2:
        return "write transaction n/a"
    return f"write transaction p50 {pct(holds, 50):5.2f} p95 {pct(holds, 95):5.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="HEAD", help="the git ref (a `git archive` copy) or folder to compare with")
    parser.add_argument("--after", default="", help="a git ref or source folder to measure instead of the working tree")
    parser.add_argument("--tickets", type=int, default=50, help="demo tickets in the database")
    parser.add_argument("--requests", type=int, default=150, help="requests per version per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per version (the first is a warm-up)")
    parser.add_argument("--profile", action="store_true", help="one more round per version under cProfile")
    parser.add_argument("--pg", help="PostgreSQL server URL without a database: a database per version on it")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.pg:
        peer.PG.update(url=args.pg.rstrip("/"), suffix=f"{os.getpid()}")
    tmp = Path(tempfile.mkdtemp(prefix="aftersales-api-cpu-"))
    procs: dict[str, subprocess.Popen[str]] = {}
    try:
        trees = {"old": version(args.before, tmp), "new": version(args.after, tmp) if args.after else ROOT}
        children = {}
        for name, tree in trees.items():
            env, info = peer.aftersales_prepare(tmp, f"var-{name}", args.tickets, tree=tree)
            env = {**env, "SQLITE_WAL_AUTOCHECKPOINT": "10000"}  # (what scripts/gunicorn.conf.py sets for web workers)
            children[name] = (tree, env, info)
        for name, (tree, env, info) in children.items():
            cmd = [str(peer.VENV_PY), "-c", CHILD, str(args.requests), info["token"], str(info["store"])]
            cmd.append(str(Path(tempfile.gettempdir()) / f"api_cpu-{name}.prof"))
            pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE}
            procs[name] = subprocess.Popen(cmd, cwd=tree, env=env, text=True, **pipes)
        results: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": [], "hold": []} for name in procs}
        statements: dict[str, int] = {}
        loads = []
        for r in range(args.rounds):
            order = list(procs) if r % 2 == 0 else list(reversed(procs))
            for name in order:
                proc = procs[name]
                assert proc.stdin and proc.stdout
                proc.stdin.write("round\n")
                proc.stdin.flush()
                out = json.loads(proc.stdout.readline())
                statements[name] = out["statements"]
                loads.append(os.getloadavg()[0])
                if r:
                    results[name]["wall"] += out["wall"]
                    results[name]["cpu"] += out["cpu"]
                    results[name]["hold"] += out["hold"]
                peer.log(f"round {r + 1} {name}: CPU mean {statistics.fmean(out['cpu']):.2f} ms")
        if args.profile:
            for name, proc in procs.items():
                assert proc.stdin and proc.stdout
                proc.stdin.write("profile\n")
                proc.stdin.flush()
                print(f"\n## cProfile, {name} (top by own time; /tmp/api_cpu-{name}.prof)")
                print(json.loads(proc.stdout.readline())["profile"])
        database = "PostgreSQL" if args.pg else "SQLite"
        print(f"\n## POST /api/v1/inbound/messages in-process through WSGIHandler ({database}, new buyer each)")
        print(f"old = {args.before}, new = {args.after or 'working tree'}; load average (1 min) during the rounds")
        print(f"{min(loads):.1f}-{max(loads):.1f}; {args.requests} requests x {args.rounds - 1} measured rounds each")
        for name, res in results.items():
            print(
                f"  {name:4s} CPU mean {statistics.fmean(res['cpu']):6.3f} ms  p50 {pct(res['cpu'], 50):6.3f}"
                f"  | wall p50 {pct(res['wall'], 50):6.2f}  p95 {pct(res['wall'], 95):6.2f}"
                f"  p99 {pct(res['wall'], 99):6.2f} ms  | {hold_text(res['hold'])}  | statements {statements[name]}"
            )
        old, new = results["old"], results["new"]
        print(
            f"  ratio new/old: CPU mean x{statistics.fmean(new['cpu']) / statistics.fmean(old['cpu']):.3f},"
            f" CPU p50 x{pct(new['cpu'], 50) / pct(old['cpu'], 50):.3f},"
            f" wall p50 x{pct(new['wall'], 50) / pct(old['wall'], 50):.3f}"
        )
    finally:
        for proc in procs.values():
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=60)
        if args.pg:
            peer.pg_drop_all()
        peer.keep_or_remove(tmp, keep=args.keep)


if __name__ == "__main__":
    main()
