"""HTTP ticket creation against django-helpdesk 2.6.1 with `wrk` as the load generator (issue 13).

bench/peer.py drives both servers from Python threads (one httpx client per thread): on this 2-core machine that
load generator spends 5-6 ms of CPU per request (bench/RESULTS.md), as much as aftersales' whole server, on the
same cores, so the ratio it can show is capped by the client, not the servers. `wrk` (C, event loop; Debian
package `wrk`: `apt-get install wrk`, a benchmark tool only: the product and its tests do not need it) sends the
same requests for a few microseconds of CPU each. This script prepares and starts the two systems exactly as
bench/peer.py does (its functions: same virtualenv, project, demo data, tokens, gunicorn layout, scripts/run.sh
with its Huey worker), then runs `wrk` against each in alternating rounds (the order shuffled per round, one
warm-up round not counted), every request a new buyer (a Lua script numbers the requests per wrk thread) writing
a message of its own (--bodies distinct: bench/data/cs_segments.jsonl's 231 buyer texts in seven languages in turn,
with the request's order reference, the same text for both systems):
  django-helpdesk  POST /api/tickets/            (Authorization: Token, queue, title, description, submitter_email)
  aftersales       POST /api/v1/inbound/messages (Authorization: Bearer, store_id, external_id, body, buyer)
Figures per system: requests/s over the measured rounds, latency p50/p90/p99/max from wrk's histogram (of the
last round; wrk does not merge rounds: the median over rounds is printed), non-2xx answers, the server's CPU per
request (gunicorn master + workers, /proc), wrk's own CPU per request, and the web workers' memory.

  .venv/bin/python bench/peer_wrk.py --helpdesk-venv /tmp/hd-venv
  .venv/bin/python bench/peer_wrk.py --pg postgres://postgres@127.0.0.1:5432 --connections 8 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peer  # bench/peer.py: the two systems prepared and started as it does

LUA = r"""
-- Every request a new buyer: wrk.thread ids are set in setup(); a per-thread counter numbers the requests.
local threads = {}
local next_id = 1
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end
local counter = 0
-- The message of a request (JSON-escaped, from `texts`, set by the prelude): with --bodies distinct every buyer
-- writes a different text (the pool in turn, the request's key appended as an order reference), so nothing the
-- worker remembers per text (translation memory, the triage encoder's vectors, lingua's answers) is reused.
local function message(key)
  if #texts == 1 then return texts[1] end
  return texts[(counter + tid * 101) % #texts + 1] .. " (order " .. key .. ")"
end
statuses = {}  -- a global: done() reads it from each thread with thread:get
function request()
  counter = counter + 1
  local key = string.format("%s-%d-%d", run_tag, tid, counter)
  local body
  if system == "helpdesk" then
    body = string.format('{"queue": %d, "title": "Order arrived broken %s", "description": "%s", '
      .. '"submitter_email": "buyer-%s@example.com", "priority": 3}', queue, key, message(key), key)
    return wrk.format("POST", "/api/tickets/", headers, body)
  end
  body = string.format('{"store_id": %d, "external_id": "msg-%s", "subject": "Order arrived broken", "body": '
    .. '"%s", "customer_external_id": "%s", "customer_name": "Peer Buyer", "customer_email": "%s@example.com"}',
    store, key, message(key), key, key)
  return wrk.format("POST", "/api/v1/inbound/messages", headers, body)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local codes = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, n in pairs(s) do codes[tostring(code)] = (codes[tostring(code)] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(codes) do table.insert(parts, string.format('"%s": %d', code, n)) end
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, "p50": %d, "p90": %d, '
    .. '"p99": %d, "max": %d, "mean": %f, "statuses": {%s}}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    table.concat(parts, ", ")))
end
"""


@dataclass
class Rounds:
    requests: int = 0
    seconds: float = 0.0
    good: int = 0
    bad: int = 0
    errors: int = 0
    server_cpu: float = 0.0
    wrk_cpu: float = 0.0
    p50: list[float] = field(default_factory=list)
    p90: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    worst: float = 0.0

    @property
    def rps(self) -> float:
        return self.good / self.seconds if self.seconds else float("nan")

    def row(self) -> str:
        n = max(self.requests, 1)
        return (
            f"{self.rps:8.1f} req/s  p50 {statistics.median(self.p50):6.1f}  p90 {statistics.median(self.p90):6.1f}"
            f"  p99 {statistics.median(self.p99):6.1f} (worst round {max(self.p99):6.1f})  max {self.worst:7.1f} ms"
            f"  n={self.requests} non-2xx={self.bad} socket errors={self.errors}"
            f"  server CPU {self.server_cpu * 1000 / n:5.2f} ms/req  wrk CPU {self.wrk_cpu * 1000 / n:5.3f} ms/req"
        )


SAME_TEXT = "Hello, my order arrived broken. Can you send a new one?"


def lua_texts(bodies: str) -> str:
    """The prelude's `texts`: the buyers' messages of bench/data/cs_segments.jsonl (231 real-world texts in seven
    languages, as buyers write them), JSON-escaped; or the one text every request sent before (--bodies same)."""
    texts = [SAME_TEXT] if bodies == "same" else peer.buyer_texts()
    # ASCII-only JSON escapes inside Lua long brackets (no Lua escapes are processed there).
    items = ", ".join(f"[==[{json.dumps(text)[1:-1]}]==]" for text in texts)
    return f"texts = {{{items}}}"


def wrk_round(server: peer.Server, system: str, script: Path, args: argparse.Namespace, result: Rounds | None) -> None:
    """One wrk run of --seconds against `server`; added to `result` (None: a warm-up round)."""
    info = server.info
    auth = server.headers["Authorization"]
    tag = os.urandom(4).hex()
    lua_vars = (
        f'system = "{system}"; run_tag = "{tag}"; queue = {int(info.get("queue", 0))};'
        f" store = {int(info.get('store', 0))};"
        f' headers = {{["Content-Type"] = "application/json", ["Authorization"] = "{auth}"}}'
    )
    prelude = script.with_name(f"wrk-{system}-{tag}.lua")
    prelude.write_text(lua_vars + "\n" + lua_texts(args.bodies) + "\n" + script.read_text())
    cmd = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(prelude),
        f"http://127.0.0.1:{server.port}",
    ]
    before_cpu = peer.server_cpu(server)
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode != 0 or "WRKJSON " not in done.stdout:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}\n{done.stdout[-2000:]}")
    out = done.stdout
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = peer.server_cpu(server) - before_cpu
    prelude.unlink()
    data = json.loads(next(line for line in out.splitlines() if line.startswith("WRKJSON "))[8:])
    if result is None:
        return
    good = sum(n for code, n in data["statuses"].items() if code.startswith("2"))
    result.requests += data["requests"]
    result.seconds += data["duration_us"] / 1e6
    result.good += good
    result.bad += data["requests"] - good
    result.errors += data["errors"]
    result.server_cpu += spent
    result.wrk_cpu += (after_children.ru_utime + after_children.ru_stime) - (
        before_children.ru_utime + before_children.ru_stime
    )
    result.p50.append(data["p50"] / 1000)
    result.p90.append(data["p90"] / 1000)
    result.p99.append(data["p99"] / 1000)
    result.worst = max(result.worst, data["max"] / 1000)


def worker_cpu(server: peer.Server, *, children: bool = False) -> float:
    """CPU seconds used so far by aftersales' Huey worker (the `run_huey` process run.sh starts); `children`:
    by its descendants instead (Apertium's pipelines: language/providers/apertium_pipes.py), those it waited
    for (the worker's cutime + cstime) and those still running (a kept pipeline's stages: their utime + stime
    and their own waited-for children's), so that a pipeline closed between two readings is counted once."""
    stats: dict[int, tuple[int, list[str]]] = {}  # pid -> (ppid, fields)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            stats[int(entry.name)] = (int(fields[1]), fields)
        except OSError:
            continue
    workers = set()
    for pid in stats:
        try:
            if b"run_huey" in Path(f"/proc/{pid}/cmdline").read_bytes() and os.getpgid(pid) == server.process.pid:
                workers.add(pid)
        except (OSError, ProcessLookupError):
            continue
    ticks = 0
    for pid in workers:
        fields = stats[pid][1]
        ticks += int(fields[13]) + int(fields[14]) if children else int(fields[11]) + int(fields[12])
    if children:
        for pid, (_, fields) in stats.items():
            ancestor, seen = stats[pid][0], 0
            while ancestor in stats and ancestor not in workers and seen < 64:
                ancestor, seen = stats[ancestor][0], seen + 1
            if ancestor in workers and pid not in workers:
                ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (clients), default 8")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--seconds", type=int, default=10, help="seconds per round per system (default 10)")
    parser.add_argument("--rounds", type=int, default=4, help="measured rounds per system, after one warm-up round")
    parser.add_argument("--pg", help="PostgreSQL server URL without a database: both systems on it")
    parser.add_argument("--helpdesk-venv", help=f"an existing virtualenv with django-helpdesk=={peer.HELPDESK_VERSION}")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--bodies",
        choices=("distinct", "same"),
        default="distinct",
        help="distinct (default): each buyer writes a different message, from 231 real-world texts in seven"
        " languages plus an order reference; same: every request sends one English sentence (the runs before the"
        " fifteenth session), which lets anything remembered per text be reused",
    )
    parser.add_argument(
        "--drain-limit", type=float, default=300, help="seconds to wait for the worker's backlog to drain (300)"
    )
    parser.add_argument(
        "--model-cache",
        default=str(Path(tempfile.gettempdir()) / "aftersales-bench-triage"),
        help="folder of the triage model, trained once and kept between runs (the deploy's triage_train): without"
        " it the worker of each fresh folder trains it at start-up, beside the measured rounds",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian package; a benchmark tool only)")
    if args.threads > args.connections:
        parser.error("--threads must not exceed --connections")
    if args.pg:
        peer.PG.update(url=args.pg.rstrip("/"), suffix=f"wrk{os.getpid()}")
    tmp = Path(tempfile.mkdtemp(prefix="aftersales-peer-wrk-"))
    servers: list[peer.Server] = []
    script = tmp / "create.lua"
    script.write_text(LUA)
    try:
        print(
            f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()},"
            f" Python {platform.python_version()}; load average at start {os.getloadavg()[0]:.2f}"
        )
        print(f"command: {' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}; bodies: {args.bodies}")
        print(subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout.splitlines()[0])
        project, hd_info = peer.helpdesk_prepare(tmp, args.helpdesk_venv)
        env, as_info = peer.aftersales_prepare(tmp, "as-var", 400)
        model_dir = Path(env["AFTERSALES_VAR_DIR"]) / "triage"
        if not model_dir.exists():
            Path(args.model_cache).mkdir(parents=True, exist_ok=True)
            model_dir.symlink_to(Path(args.model_cache).resolve())
        peer.log("aftersales: triage_train (at once when the model is in --model-cache)")
        peer.aftersales_manage(env, "triage_train")
        workers, threads = peer.gunicorn_layout(env)
        database = "PostgreSQL" if peer.PG else "SQLite"
        print(
            f"both on {database}; gunicorn {workers} workers x {threads} threads (scripts/gunicorn.conf.py's choice;"
            f" aftersales through scripts/run.sh with its Huey worker); wrk -t{args.threads} -c{args.connections}"
            f" -d{args.seconds}s x {args.rounds} rounds (+1 warm-up);"
            f" WORKER_NICE {os.environ.get('WORKER_NICE', 'unset (run.sh default)')}"
        )
        hd = peer.helpdesk_start(project, hd_info, workers, threads)
        servers.append(hd)
        aft = peer.aftersales_start(env, as_info, via_run_sh=True, extra={})
        servers.append(aft)
        systems = [(hd, "helpdesk"), (aft, "aftersales")]
        worker_before, children_before = worker_cpu(aft), worker_cpu(aft, children=True)
        results = {name: Rounds() for _, name in systems}
        for r in range(args.rounds + 1):
            order = list(systems)
            random.shuffle(order)
            for server, name in order:
                peer.log(f"round {r} {'(warm-up) ' if r == 0 else ''}{name}")
                wrk_round(server, name, script, args, results[name] if r else None)
        load = os.getloadavg()[0]
        worker_spent = worker_cpu(aft) - worker_before
        children_spent = worker_cpu(aft, children=True) - children_before
        print(f"\n## HTTP ticket creation, {args.connections} connections, wrk; load average {load:.1f}")
        print(f"  django-helpdesk POST /api/tickets/          {results['helpdesk'].row()}")
        print(f"  aftersales POST /api/v1/inbound/messages    {results['aftersales'].row()}")
        h, a = results["helpdesk"], results["aftersales"]
        print(
            f"  ratio (aftersales / helpdesk): req/s x{a.rps / h.rps:.2f},"
            f" p50 x{statistics.median(a.p50) / statistics.median(h.p50):.2f},"
            f" p99 x{statistics.median(a.p99) / statistics.median(h.p99):.2f},"
            f" server CPU/req x{(a.server_cpu / max(a.requests, 1)) / (h.server_cpu / max(h.requests, 1)):.2f}"
        )
        a_all = results["aftersales"]
        print(
            f"  aftersales Huey worker CPU during the rounds (warm-up included): {worker_spent:.1f} s,"
            f" {worker_spent * 1000 / max(a_all.requests, 1):.2f} ms per measured creation"
        )
        print(
            f"  its child processes (Apertium) during the rounds: {children_spent:.1f} s,"
            f" {children_spent * 1000 / max(a_all.requests, 1):.2f} ms per measured creation"
        )
        print("\n".join(peer.memory_lines("creation", hd, aft)))
        drain_started = worker_cpu(aft)
        print("\n".join(peer.backlog_lines(env, limit=args.drain_limit)))
        print(f"  aftersales Huey worker CPU while draining: {worker_cpu(aft) - drain_started:.1f} s")
    finally:
        for server in servers:
            server.stop()
        if peer.PG:
            peer.pg_drop_all()
        peer.keep_or_remove(tmp, keep=args.keep)


if __name__ == "__main__":
    main()
