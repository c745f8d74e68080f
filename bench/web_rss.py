"""Steady-state RSS of one aftersales web worker, before/after a change, in the same run (issue 13).

Prepares one SQLite database (migrate, `demo --tickets N`, an API token: bench/peer.py's helpers) and
serves it with gunicorn and the project's configuration (scripts/gunicorn.conf.py, the worker class and
layout `make run` uses; no Huey worker, no fake marketplaces) from each code version in turn: the
working tree ("after") and `git archive` copies of the --before refs (their src/ on PYTHONPATH, the same
virtualenv). Each server is warmed like a day's use: signed in as the demo admin, --rounds times the inbox,
a ticket page per round (different tickets), the API's ticket list and one ticket; then the RSS (VmRSS)
and peak (VmHWM) of its largest worker and /proc/<pid>/smaps_rollup's private and shared figures. The
versions alternate for --repeat rounds (a fresh server each time) and the medians are printed.

  .venv/bin/python bench/web_rss.py                          # working tree against HEAD
  .venv/bin/python bench/web_rss.py --before HEAD~1 --after HEAD
  .venv/bin/python bench/web_rss.py --before 938ccf7 --repeat 3 --tickets 200
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peer  # bench/peer.py: prepare, start, memory helpers

ROOT = peer.ROOT


def checkout(ref: str, tmp: Path) -> Path:
    """A copy of `ref`'s tree (committed files only) under tmp."""
    dest = tmp / f"src-{ref.replace('/', '_')}"
    dest.mkdir()
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def start(tree: Path, env: dict[str, str], info: dict[str, object]) -> peer.Server:
    port = peer.free_port()
    env = {**env, "PYTHONPATH": str(tree / "src"), "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}"}
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "aftersales.wsgi:application", "--config", "scripts/gunicorn.conf.py"]
    cmd += ["--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    server = peer.Server("aftersales", port, process, {"Authorization": f"Bearer {info['token']}"}, info)
    peer.wait_up(server, "/health")
    return server


def warm(server: peer.Server, rounds: int, ticket_ids: list[int]) -> None:
    base = f"http://127.0.0.1:{server.port}"
    # Each worker gets requests: a session per round spreads them over the workers (no keep-alive pinning).
    for i in range(rounds):
        with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as web:
            page = web.get("/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            assert token, f"no CSRF token on /login/ ({page.status_code} {page.url})"
            data = {"username": "admin", "password": "demo-pass-2026", "csrfmiddlewaretoken": token.group(1)}
            signed_in = web.post("/login/", data=data, headers={"Referer": f"{base}/login/"})
            assert signed_in.status_code == 200 and "/login/" not in str(signed_in.url), "sign-in failed"
            assert web.get("/").status_code == 200
            ticket = ticket_ids[i % len(ticket_ids)]
            assert web.get(f"/tickets/{ticket}/").status_code == 200
        with httpx.Client(base_url=base, timeout=60, headers=server.headers) as api:
            assert api.get("/api/v1/tickets").status_code == 200
            assert api.get(f"/api/v1/tickets/{ticket}").status_code == 200


def smaps(pid: int) -> dict[str, float]:
    fields: dict[str, float] = {}
    for line in peer._proc(pid, "smaps_rollup").splitlines()[1:]:
        name, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            fields[name] = int(rest.split()[0]) / 1024
    return fields


def measure(server: peer.Server) -> dict[str, float]:
    peak, now, _ = peer.web_memory(server)
    # the largest worker's smaps_rollup (private = what this worker alone costs)
    workers = [
        p for p in Path("/proc").iterdir() if p.name.isdigit() and "gunicorn" in peer._proc(int(p.name), "cmdline")
    ]
    best: dict[str, float] = {}
    for entry in workers:
        stat = peer._proc(int(entry.name), "stat")
        if stat and int(stat.rsplit(")", 1)[1].split()[1]) == server.process.pid:
            fields = smaps(int(entry.name))
            if fields.get("Rss", 0) > best.get("Rss", 0):
                best = fields
    private = best.get("Private_Clean", 0) + best.get("Private_Dirty", 0)
    return {
        "rss": now,
        "peak": peak,
        "private": private,  # USS
        "pss": best.get("Pss", 0),
        "shared": best.get("Shared_Clean", 0) + best.get("Shared_Dirty", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="HEAD", help="comma-separated git refs to compare the working tree with")
    parser.add_argument("--after", default="", help="a git ref to measure instead of the working tree")
    parser.add_argument("--tickets", type=int, default=200, help="demo tickets in the database")
    parser.add_argument("--rounds", type=int, default=6, help="warm-up rounds per server (inbox, ticket, API)")
    parser.add_argument("--repeat", type=int, default=3, help="servers started per version, alternating")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="aftersales-web-rss-"))
    try:
        env, info = peer.aftersales_prepare(tmp, "var", args.tickets)
        peer.aftersales_manage(env, "collectstatic", "--noinput", "--verbosity", "0")  # as `make run` does
        code = "from aftersales.inbox.models import Ticket as T;print(list(T.objects.values_list('pk', flat=1)[:20]))"
        ids = [int(x) for x in re.findall(r"\d+", peer.aftersales_manage(env, "shell", "-c", code).splitlines()[-1])]
        versions: dict[str, Path] = {ref: checkout(ref, tmp) for ref in args.before.split(",") if ref}
        if args.after:
            versions[args.after] = checkout(args.after, tmp)
        else:
            versions["working tree"] = ROOT
        results: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
        for r in range(args.repeat):
            for name, tree in versions.items() if r % 2 == 0 else reversed(list(versions.items())):
                server = start(tree, env, info)
                try:
                    warm(server, args.rounds, ids)
                    time.sleep(0.5)
                    results[name].append(measure(server))
                finally:
                    server.stop()
                peer.log(f"{name}: {results[name][-1]}")
        load = os.getloadavg()
        print(f"\n## web worker memory after {args.rounds} rounds: inbox, ticket, API (MiB, median {args.repeat})")
        print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; python {sys.version.split()[0]}")
        print("largest worker: RSS, peak RSS (VmHWM), private = USS, PSS, shared (smaps_rollup)")
        print(f"{'version':<16} {'RSS':>7} {'peak':>7} {'private':>8} {'PSS':>7} {'shared':>7}")
        for name, rows in results.items():
            med = {k: statistics.median(row[k] for row in rows) for k in rows[0]}
            print(
                f"{name:<16} {med['rss']:7.1f} {med['peak']:7.1f} {med['private']:8.1f} {med['pss']:7.1f}"
                f" {med['shared']:7.1f}"
            )
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
