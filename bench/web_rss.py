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

--stages measures instead one fresh interpreter per version by stage (no gunicorn): after aftersales.wsgi (Django's
setup), after the URLconf with its reverse map and tag libraries (what gunicorn's master preloads), after the first
and 50 more `POST /api/v1/inbound/messages`, the login page, a sign-in (Argon2: VmHWM), the inbox and ticket pages:
VmRSS, VmHWM and smaps_rollup's anonymous / file-backed parts. Requests run in the main thread through the WSGI
handler and reuse the heap the imports left free, so the request stages show less than a gunicorn worker adds (its
request thread gets a glibc arena of its own: bench/RESULTS.md, "Issue 13, tenth pass").
"""

from __future__ import annotations

import argparse
import json
import os
import re
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


STAGES = r"""
import io, json, re, sys, uuid
from http.cookies import SimpleCookie

def status():
    f = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    g = dict(line.split(":", 1) for line in open("/proc/self/smaps_rollup").readlines()[1:] if ":" in line)
    mib = lambda d, k: int(d[k].split()[0]) / 1024
    return {"rss": mib(f, "VmRSS"), "peak": mib(f, "VmHWM"), "anon": mib(g, "Anonymous"), "file": mib(f, "RssFile")}

out = {"fresh": status()}
from aftersales.wsgi import application
out["wsgi"] = status()
from django.db import connections
from django.template import engines
from django.urls import get_resolver
resolver = get_resolver()
resolver.url_patterns, resolver.reverse_dict
for engine in engines.all():
    getattr(getattr(engine, "engine", None), "template_libraries", None)
connections.close_all()
out["urlconf"] = status()
cookies = SimpleCookie()

def call(method, path, body=b"", headers=None, ctype=None):
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
           "CONTENT_LENGTH": str(len(body)), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
           "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0)}
    if ctype:
        env["CONTENT_TYPE"] = ctype
    if cookies:
        env["HTTP_COOKIE"] = "; ".join(f"{k}={v.value}" for k, v in cookies.items())
    env.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()})
    seen = {}
    chunks = application(env, lambda s, h, exc=None: seen.update(status=s, headers=h))
    data = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    for k, v in seen["headers"]:
        if k.lower() == "set-cookie":
            cookies.load(v)
    return int(seen["status"].split()[0]), data

info = json.loads(sys.argv[1])

def inbound():
    key = uuid.uuid4().hex
    body = json.dumps({"store_id": info["store"], "external_id": f"msg-{key}", "subject": "Order arrived broken",
        "body": "Hello, my order arrived broken. Can you send a new one?", "customer_external_id": key,
        "customer_name": "Peer Buyer", "customer_email": f"{key}@example.com"}).encode()
    code, data = call("POST", "/api/v1/inbound/messages", body, {"Authorization": f"Bearer {info['token']}"},
                      "application/json")
    assert code in (200, 201), (code, data[:300])

inbound()
out["api first"] = status()
for _ in range(50):
    inbound()
out["api +50"] = status()
code, page = call("GET", "/login/")
token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
out["login page"] = status()
body = f"username=admin&password=demo-pass-2026&csrfmiddlewaretoken={token}".encode()
code, _ = call("POST", "/login/", body, {"Referer": "http://127.0.0.1/login/"}, "application/x-www-form-urlencoded")
assert code == 302, code
out["sign-in"] = status()
assert call("GET", "/")[0] == 200
out["inbox"] = status()
for ticket in json.loads(sys.argv[2]):
    call("GET", f"/tickets/{ticket}/")
out["ticket pages"] = status()
print("STAGES " + json.dumps(out))
"""


def stages(tree: Path, env: dict[str, str], info: dict[str, object], ids: list[int]) -> dict[str, dict[str, float]]:
    env = {**env, "PYTHONPATH": str(tree / "src"), "ALLOWED_HOSTS": "127.0.0.1"}
    args = [str(ROOT / ".venv/bin/python"), "-c", STAGES, json.dumps(info), json.dumps(ids[:5])]
    result = subprocess.run(args, cwd=tree, env=env, check=True, capture_output=True, text=True)
    line = next(x for x in result.stdout.splitlines() if x.startswith("STAGES "))
    return json.loads(line.removeprefix("STAGES "))  # type: ignore[no-any-return]


def print_stages(results: dict[str, list[dict[str, dict[str, float]]]], repeat: int) -> None:
    print(f"\n## one interpreter per version, by stage (MiB, median of {repeat}; requests in the main thread)")
    print(f"{'stage':<14}" + "".join(f" {name[:24]:>24}" for name in results))
    print(f"{'':<14}" + " {:>24}".format("RSS / peak / anon / file") * len(results))
    for stage in next(iter(results.values()))[0]:
        cells = []
        for runs in results.values():
            med = {k: statistics.median(run[stage][k] for run in runs) for k in ("rss", "peak", "anon", "file")}
            cells.append(f"{med['rss']:.1f} / {med['peak']:.0f} / {med['anon']:.1f} / {med['file']:.1f}")
        print(f"{stage:<14}" + "".join(f" {c:>24}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="HEAD", help="comma-separated git refs to compare the working tree with")
    parser.add_argument("--after", default="", help="a git ref to measure instead of the working tree")
    parser.add_argument("--tickets", type=int, default=200, help="demo tickets in the database")
    parser.add_argument("--rounds", type=int, default=6, help="warm-up rounds per server (inbox, ticket, API)")
    parser.add_argument("--repeat", type=int, default=3, help="servers started per version, alternating")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--stages", action="store_true", help="in-process, by stage, instead of gunicorn workers")
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
        if args.stages:
            by_stage: dict[str, list[dict[str, dict[str, float]]]] = {name: [] for name in versions}
            for r in range(args.repeat):
                for name, tree in versions.items() if r % 2 == 0 else reversed(list(versions.items())):
                    by_stage[name].append(stages(tree, env, info, ids))
                    peer.log(f"{name}: after the URLconf {by_stage[name][-1]['urlconf']}")
            print_stages(by_stage, args.repeat)
            return
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
        peer.keep_or_remove(tmp, keep=args.keep)


if __name__ == "__main__":
    main()
