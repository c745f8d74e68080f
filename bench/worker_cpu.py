"""The Huey worker's CPU per HTTP-created ticket, by job, old code against new (issue 13).

Every ticket created through `POST /api/v1/inbound/messages` leaves the worker a fan-out task (translation and
language detection, triage, the CSAT reply check, the SLA clocks: core/tasks.run_jobs) and, once triaged, the
`apply_triage` job. This script prepares one database per version (bench/peer.py's helpers: migrate, `demo
--tickets N`, production settings, Huey's SQLite queue), then in each version's own process (its `src/` on
PYTHONPATH, the shared virtualenv) and in alternating rounds: ingests --tickets tickets the way the API does
(`message_ingest`, a new buyer each, the wrk benchmark's text), which fills the queue, then drains the queue in
the process as the worker would (dequeue + execute, one thread). Printed per version: the worker's CPU per ticket
(process time of the drain / tickets), wall time, tasks executed, and where the CPU went, so that nothing is
left out: Huey's dequeue, each task's execution, and within the fan-out tasks each job run alone (`_run_one`),
each batch entry point, the claims of the waiting fan-out tasks, the follow-up fan-out tasks enqueued (inside
the job that published them) and what remains ("outside jobs and claims"), with the SQL statements of each
(Django's connection; Huey's queue is its own); --profile writes a cProfile of one more round per
version (/tmp/worker_cpu-<version>.prof) and prints its top functions by cumulative time.

The triage model is trained once into bench/peer.py's shared folder (/tmp/aftersales-bench-triage, the deploy's
`triage_train` in peer.aftersales_prepare) and shared by the versions: otherwise the first process of a fresh
folder trains it (about a minute of CPU).

  .venv/bin/python bench/worker_cpu.py --before HEAD                      # working tree against HEAD
  .venv/bin/python bench/worker_cpu.py --before REF --after FOLDER --tickets 500 --rounds 3
  .venv/bin/python bench/worker_cpu.py --pg postgres://postgres@127.0.0.1:5432
  .venv/bin/python bench/worker_cpu.py --distinct-bodies    # every text differs (nothing repeats)
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

CHILD = r"""
import cProfile, io, json, pstats, sys, time, uuid
from collections import defaultdict
import django
django.setup()
from huey.contrib.djhuey import HUEY
from aftersales.accounts.models import User
from aftersales.catalog.models import Store
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.language.detect import preload_detector
from aftersales.triage.artifacts import get_bundle
from aftersales.triage.embeddings import embed
from aftersales.core import tasks as core_tasks

HUEY.immediate = False
HUEY.storage.flush_queue()  # (the demo's own follow-ups: not measured)
get_bundle(); embed(["warm up"]); preload_detector()  # (the worker's on_startup, in versions without the hooks)
from django.utils.module_loading import autodiscover_modules
autodiscover_modules("tasks")  # (as run_huey does before it starts the consumer)
for hook in list(HUEY._startup.values()):
    hook()  # (as each of the consumer's workers does: the models, and whatever else its version does at start)
admin = User.objects.get(username="admin")
store = Store.objects.filter(organization=admin.organization).order_by("id").first()
from django.db import connection
cpu_by = defaultdict(float)
calls_by = defaultdict(int)
statements_by = defaultdict(int)  # SQL statements (cursor executions) by job, as CaptureQueriesContext counts them
doing = ["other"]
def count_statement(execute, sql, params, many, context):
    statements_by[doing[-1]] += 1
    return execute(sql, params, many, context)
connection.execute_wrappers.append(count_statement)
def timed(label, function, *, count=lambda args: 1):
    # `function` with its CPU time, calls (or items) and SQL statements recorded under `label`
    def run(*args, **kwargs):
        c = time.process_time()
        doing.append(label)
        try:
            return function(*args, **kwargs)
        finally:
            doing.pop()
            cpu_by[label] += time.process_time() - c
            calls_by[label] += count(args)
    return run
# A job without a batch entry point runs through core_tasks._run_one (its TaskWrapper's call_local is an
# instance attribute set by djhuey's db_task: patching the class would time nothing).
run_one = core_tasks._run_one
def timed_run_one(task, path, args):
    return timed("job " + path.rpartition(".")[2], run_one)(task, path, args)
core_tasks._run_one = timed_run_one
# The claims of the fan-out tasks waiting behind (Huey's queue: read, unpickle, move to the schedule; then
# deleted), and the follow-up fan-out tasks enqueued after commit (inside the job that published them).
for name in ("waiting_fanouts", "release"):
    if hasattr(core_tasks, name):
        setattr(core_tasks, name, timed("claims (waiting_fanouts, release)", getattr(core_tasks, name)))
from aftersales.core import events as core_events
core_events._enqueue_jobs = timed(
    "  of which: follow-up fan-outs enqueued", core_events._enqueue_jobs, count=lambda args: len(args[0]))
runners = getattr(core_tasks, "_batch_runners", {})
def timed_runner(path, runner):
    return timed("batch " + path.rpartition(".")[2], runner, count=lambda args: len(args[0]))
wrapped = set()
def wrap_runners():
    for path, runner in list(runners.items()):
        if path not in wrapped:
            runners[path] = timed_runner(path, runner)
            wrapped.add(path)


def drain(executed):
    while True:
        wrap_runners()
        c1 = time.process_time()
        task = HUEY.dequeue()
        cpu_by["dequeue (Huey: read, unpickle)"] += time.process_time() - c1
        if task is None:
            break
        calls_by["dequeue (Huey: read, unpickle)"] += 1
        executed[task.name] += 1
        inner = sum(v for k, v in cpu_by.items() if not k.startswith(("task ", "dequeue", "  ")))
        c1 = time.process_time()
        HUEY.execute(task)
        spent = time.process_time() - c1
        cpu_by["task " + task.name] += spent
        calls_by["task " + task.name] += 1
        inner = sum(v for k, v in cpu_by.items() if not k.startswith(("task ", "dequeue", "  "))) - inner
        cpu_by["  of which: outside jobs and claims"] += spent - inner
        calls_by["  of which: outside jobs and claims"] += 1

def ingest(first, count):
    for i in range(first, first + count):
        buyer = uuid.uuid4().hex
        message_ingest(inbound=InboundMessage(
            store=store, external_id=f"msg-{buyer}", subject="Order arrived broken",
            body="Hello, my order arrived broken. Can you send a new one?" + (
                f" It is the {buyer[:6]} parcel of my last {i + 3} orders." if distinct else ""),
            customer_external_id=buyer,
            customer_name="Peer Buyer", customer_email=f"{buyer}@example.com", via="api"))

def one_round(n, profile=None):
    cpu_by.clear(); calls_by.clear(); statements_by.clear()
    executed = defaultdict(int)
    cpu = wall = 0.0
    queued = 0
    for first in range(0, n, per_drain or n):
        # (the ingestion's own counts are not the drain's: kept aside and put back)
        kept = [dict(d) for d in (cpu_by, calls_by, statements_by)]
        ingest(first, min(per_drain or n, n - first))
        for d, k in zip((cpu_by, calls_by, statements_by), kept):
            d.clear(); d.update(k)
        queued += HUEY.storage.queue_size()
        c, t = time.process_time(), time.perf_counter()
        if profile:
            profile.enable()
        drain(executed)
        if profile:
            profile.disable()
        cpu, wall = cpu + time.process_time() - c, wall + time.perf_counter() - t
    cpu_by["unattributed (drain loop)"] = cpu - sum(
        v for k, v in cpu_by.items() if k.startswith(("task ", "dequeue")))
    return {"cpu": cpu, "wall": wall, "queued": queued, "executed": dict(executed),
            "by_job": dict(cpu_by), "calls": dict(calls_by), "statements": dict(statements_by),
            "scheduled": HUEY.storage.schedule_size()}

n = int(sys.argv[1])
distinct = len(sys.argv) > 3 and sys.argv[3] == "distinct"
per_drain = int(sys.argv[4]) if len(sys.argv) > 4 else 0
for line in sys.stdin:
    if line.strip() == "round":
        print(json.dumps(one_round(n)), flush=True)
    elif line.strip() == "profile":
        prof = cProfile.Profile()
        out = one_round(n, prof)
        prof.dump_stats(sys.argv[2])
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(45)
        out["profile"] = buf.getvalue()[-9000:]
        print(json.dumps(out), flush=True)
"""


def _place(label: str, rounds: list[dict]) -> tuple[int, float]:
    """Where a line goes: the drain's parts (dequeue, each task), then within the tasks the jobs, batches and
    claims, then the parts of those ("of which"), then what the drain loop spent outside all that; by CPU."""
    levels = {"dequeue": 0, "task ": 0, "unattributed": 3}
    top = next((v for prefix, v in levels.items() if label.startswith(prefix)), 2 if label.startswith(" ") else 1)
    return top, -sum(x["by_job"].get(label, 0) for x in rounds)


def version(ref: str, tmp: Path) -> Path:
    if Path(ref).is_dir():
        return Path(ref).resolve()
    return peer.checkout(ref, tmp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="HEAD", help="the git ref (a `git archive` copy) or folder to compare with")
    parser.add_argument("--after", default="", help="a git ref or source folder to measure instead of the working tree")
    parser.add_argument("--demo", type=int, default=100, help="demo tickets in each database")
    parser.add_argument("--tickets", type=int, default=300, help="tickets created, then drained, per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per version (the first is a warm-up)")
    parser.add_argument("--profile", action="store_true", help="one more round per version under cProfile")
    parser.add_argument("--pg", help="PostgreSQL server URL without a database: a database per version on it")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--distinct-bodies",
        action="store_true",
        help="every ticket's text differs (by default all have the wrk benchmark's text, which repeats)",
    )
    parser.add_argument(
        "--per-drain",
        type=int,
        default=0,
        help="ingest this many tickets, drain, and again (the worker's small batches while it keeps up with"
        " requests); 0: all --tickets, then one drain (full batches)",
    )
    args = parser.parse_args()
    if args.pg:
        peer.PG.update(url=args.pg.rstrip("/"), suffix=f"wk{os.getpid()}")
    tmp = Path(tempfile.mkdtemp(prefix="aftersales-worker-cpu-"))
    procs: dict[str, subprocess.Popen[str]] = {}
    try:
        trees = {"old": version(args.before, tmp), "new": version(args.after, tmp) if args.after else ROOT}
        for name, tree in trees.items():
            env, _info = peer.aftersales_prepare(tmp, f"var-{name}", args.demo, tree=tree)  # (+ the shared model)
            cmd = [
                str(peer.VENV_PY),
                "-c",
                CHILD,
                str(args.tickets),
                str(Path(tempfile.gettempdir()) / f"worker_cpu-{name}.prof"),
                "distinct" if args.distinct_bodies else "same",
                str(args.per_drain),
            ]
            procs[name] = subprocess.Popen(
                cmd, cwd=tree, env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
        results: dict[str, list[dict]] = {name: [] for name in procs}
        loads = []
        for r in range(args.rounds):
            order = list(procs) if r % 2 == 0 else list(reversed(procs))
            for name in order:
                proc = procs[name]
                assert proc.stdin and proc.stdout
                proc.stdin.write("round\n")
                proc.stdin.flush()
                out = json.loads(proc.stdout.readline())
                loads.append(os.getloadavg()[0])
                if r:
                    results[name].append(out)
                peer.log(
                    f"round {r + 1} {name}: worker CPU {out['cpu'] * 1000 / args.tickets:.2f} ms/ticket,"
                    f" {out['executed']}"
                )
        if args.profile:
            for name, proc in procs.items():
                assert proc.stdin and proc.stdout
                proc.stdin.write("profile\n")
                proc.stdin.flush()
                print(f"\n## cProfile, {name} (cumulative; /tmp/worker_cpu-{name}.prof)")
                print(json.loads(proc.stdout.readline())["profile"])
        database = "PostgreSQL" if args.pg else "SQLite"
        print(f"\n## Huey worker CPU per HTTP-created ticket ({database}), drained in-process, one thread")
        print(
            f"old = {args.before}, new = {args.after or 'working tree'}; {args.tickets} tickets x {args.rounds - 1}"
            f" measured rounds each; {'distinct texts' if args.distinct_bodies else 'one text'};"
            f" {f'drained every {args.per_drain} tickets' if args.per_drain else 'one drain'};"
            f" load average (1 min) {min(loads):.1f}-{max(loads):.1f}"
        )
        per: dict[str, float] = {}
        for name, rounds in results.items():
            cpu = [x["cpu"] * 1000 / args.tickets for x in rounds]
            wall = [x["wall"] * 1000 / args.tickets for x in rounds]
            per[name] = statistics.fmean(cpu)
            tasks = {k: sum(x["executed"].get(k, 0) for x in rounds) / len(rounds) for k in rounds[0]["executed"]}
            print(
                f"  {name:4s} CPU {per[name]:6.2f} ms/ticket (rounds {', '.join(f'{c:.2f}' for c in cpu)})"
                f"  wall {statistics.fmean(wall):6.2f} ms/ticket  queued {rounds[0]['queued']}  executed {tasks}"
            )
            jobs = sorted(rounds[0]["by_job"], key=lambda k, rounds=rounds: _place(k, rounds))
            for job in jobs:
                ms = statistics.fmean(x["by_job"].get(job, 0.0) for x in rounds) * 1000 / args.tickets
                calls = statistics.fmean(x["calls"].get(job, 0) for x in rounds)
                sql = statistics.fmean(x["statements"].get(job, 0) for x in rounds) / args.tickets
                indent = "  " if _place(job, rounds)[0] in (1, 2) else ""
                print(
                    f"        {indent}{job:32s} {ms:6.2f} ms/ticket  {sql:6.2f} SQL/ticket"
                    f"  ({calls:.0f} calls or items per round)"
                )
            sql = statistics.fmean(sum(x["statements"].values()) for x in rounds) / args.tickets
            print(f"        {'SQL statements, whole drain':32s} {sql:6.2f} per ticket (Django's connection)")
        print(f"  ratio new/old: worker CPU per ticket x{per['new'] / per['old']:.3f}")
    finally:
        for proc in procs.values():
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=120)
        if args.pg:
            peer.pg_drop_all()
        peer.keep_or_remove(tmp, keep=args.keep)


if __name__ == "__main__":
    main()
