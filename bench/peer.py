"""Peer benchmark: aftersales against django-helpdesk 2.6.1, in the same run, interleaved, on loopback.

Installs django-helpdesk 2.6.1 from PyPI into its own virtualenv under a temporary folder (never into
.venv; --helpdesk-venv reuses one), writes a minimal Django project around it (rest_framework token
auth), migrates, creates a superuser, a token and a queue, and starts it with gunicorn on a free
127.0.0.1 port. aftersales is started as `make run` serves it (scripts/run.sh, scripts/gunicorn.conf.py)
on another free port, with `demo --tickets 400` and an admin token with the write and admin scopes.
Both on SQLite (temporary files), or with --pg both on that PostgreSQL server (a new database each,
dropped at the end). Both servers get the same layout: the workers and threads scripts/gunicorn.conf.py
gives aftersales for that database.

Cases (--only takes a comma-separated subset):
  create    HTTP ticket creation at each --clients count: django-helpdesk `POST /api/tickets/` (token
            auth); aftersales `POST /api/v1/inbound/messages`, each request a new buyer
  inproc    in-process creation: helpdesk's TicketForm.save() (what its API's create calls) against
            aftersales' inbox.services.message_ingest, one process each, no HTTP
  inbox     the inbox's first page at --tickets tickets: helpdesk's ticket list data
            (GET /datatables_ticket_list/<query>, what its list page loads, staff session)
            against aftersales' GET /api/v1/tickets
  search    a word search at --tickets tickets: the same two endpoints with a search string / ?q=
  layout    aftersales alone, HTTP creation at 8 clients: the layout scripts/gunicorn.conf.py picks for
            the database against --layouts (default 4 x 1 and 2 x 1; `2x4/queue`: SQLite with the opt-in
            writer queue of aftersales.core.sqlite; docs/adr/0014-server-layout.md)

--baseline REF serves a second aftersales in the same run: a `git archive` copy of REF (its src/ on PYTHONPATH,
the same virtualenv, its own scripts/run.sh and database), measured in the same interleaved rounds as the other
two (create, inproc): each figure then has its ratio to the working tree's too (issue 13: old and new code under
the same load).

The load generator is a thread pool with one httpx client per thread; every case runs in rounds that
alternate the systems (the order shuffled per round), with bounded request counts. Figures: req/s (requests
over the wall time of the rounds), p50/p95/p99 and max latency in ms, and the ratio aftersales/helpdesk;
after the server cases, the peak RSS of each system's largest web worker process.

  .venv/bin/python bench/peer.py                          # everything, 100k tickets for inbox/search
  .venv/bin/python bench/peer.py --tickets 20000 --only create,inbox,search
  .venv/bin/python bench/peer.py --pg postgres://postgres@127.0.0.1:5432 --only create,inproc
  .venv/bin/python bench/peer.py --only create,inproc --baseline HEAD --helpdesk-venv /tmp/hd-venv
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
HELPDESK_VERSION = "2.6.1"
CASES = ("create", "inproc", "inbox", "search", "layout")
SEARCH_WORD = "refund"


# --pg: both systems on PostgreSQL (a database each, created and dropped by this script); else SQLite.
PG: dict[str, str] = {}  # "url": server URL without a database, "suffix": unique per run
PG_DATABASES: list[str] = []


def pg_database(name: str) -> str:
    """Create a database for this run on the --pg server; returns its URL."""
    import psycopg

    db = f"peer_{name}_{PG['suffix']}".replace("-", "_")
    with psycopg.connect(f"{PG['url']}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')
    PG_DATABASES.append(db)
    return f"{PG['url']}/{db}"


def keep_or_remove(tmp: Path, *, keep: bool) -> None:
    """A bench's temporary folder at its end: kept (and said) with --keep, else removed."""
    if keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def pg_drop_all() -> None:
    import psycopg

    with psycopg.connect(f"{PG['url']}/postgres", autocommit=True) as conn:
        for db in PG_DATABASES:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(cmd: list[str], **kwargs: Any) -> str:
    result = subprocess.run(cmd, check=False, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def last_json(output: str) -> dict[str, Any]:
    return json.loads([line for line in output.splitlines() if line.startswith("{")][-1])


# --- django-helpdesk -------------------------------------------------------------------------------

HD_SETTINGS = """
from pathlib import Path
BASE = Path(__file__).resolve().parent.parent
SECRET_KEY = "peer-bench-not-a-secret-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.sites", "django.contrib.messages",
    "django.contrib.humanize", "rest_framework", "rest_framework.authtoken", "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "hdproj.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request", "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages"]},
}]
WSGI_APPLICATION = "hdproj.wsgi.application"
# The same SQLite settings as aftersales (WAL, busy timeout, immediate transactions).
DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE / "helpdesk.sqlite3"),
    "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
}}
USE_TZ = True
SITE_ID = 1
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
HELPDESK_TEAMS_MODE_ENABLED = False
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
"""

HD_URLS = """
from django.urls import include, path
urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
"""

HD_WSGI = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdproj.settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
"""

HD_MANAGE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdproj.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""

HD_SETUP = """
import json
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from rest_framework.authtoken.models import Token
from helpdesk.models import Queue
User = get_user_model()
admin = User.objects.filter(username="admin").first()
admin = admin or User.objects.create_superuser("admin", "admin@example.com", "peer-pass-2026")
token, _ = Token.objects.get_or_create(user=admin)
queue = Queue.objects.first() or Queue.objects.create(title="Support", slug="support", allow_public_submission=False)
session = SessionStore()
session["_auth_user_id"] = str(admin.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = admin.get_session_auth_hash()
session.create()
print(json.dumps({"token": token.key, "queue": queue.pk, "session": session.session_key}))
"""

# Bulk seed: tickets spread over a year, 1 in 20 mentioning the search word (as the demo data does roughly).
HD_SEED = """
import random, sys, time
from datetime import timedelta
from django.utils import timezone
from helpdesk.models import Queue, Ticket
n = int(sys.argv[-1]); rng = random.Random(1); queue = Queue.objects.first(); now = timezone.now()
words = "order arrived broken wrong size tracking customs invoice return warranty delivery late".split()
started = time.monotonic(); batch = []
for i in range(n):
    text = " ".join(rng.choice(words) for _ in range(12)) + (" refund please" if i % 20 == 0 else "")
    created = now - timedelta(seconds=rng.randint(0, 365 * 86400))
    batch.append(Ticket(title=f"Ticket {i} " + rng.choice(words), queue=queue, created=created, modified=created,
                        submitter_email=f"buyer{i}@example.com", description=text, status=rng.choice([1, 2, 3, 4]),
                        priority=rng.randint(1, 5)))
    if len(batch) == 5000:
        Ticket.objects.bulk_create(batch); batch = []
Ticket.objects.bulk_create(batch)
print('{"seconds": %.1f}' % (time.monotonic() - started))
"""

HD_INPROC = """
import json, sys, time, uuid
from django.contrib.auth import get_user_model
from helpdesk.forms import TicketForm
from helpdesk.models import Queue
n = int(sys.argv[-1]); user = get_user_model().objects.get(username="admin"); queue = Queue.objects.first()
times, cpu = [], []
for i in range(n):
    data = {"queue": queue.pk, "title": f"In-process {uuid.uuid4().hex[:8]}", "body": "My order arrived broken.",
            "submitter_email": f"{uuid.uuid4().hex}@example.com", "priority": 3}
    t = time.perf_counter()
    c = time.process_time()
    form = TicketForm(data=data, files={}, queue_choices=[(queue.pk, queue.title)])
    assert form.is_valid(), form.errors
    form.save(user=user)
    times.append((time.perf_counter() - t) * 1000)
    cpu.append((time.process_time() - c) * 1000)
print(json.dumps({"times": times, "cpu": cpu}))
"""


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    headers: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        with _suppress():  # the whole group (run.sh's Huey worker too), even when its leader has exited
            os.killpg(self.process.pid, signal.SIGTERM)
        if self.process.poll() is None:
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with _suppress():
                    os.killpg(self.process.pid, signal.SIGKILL)


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return exc[0] is not None and issubclass(exc[0], ProcessLookupError | OSError)  # type: ignore[arg-type]


START_TIMEOUT = float(os.environ.get("PEER_START_TIMEOUT", "90"))  # seconds a server has to answer


def wait_up(server: Server, path: str, timeout: float = START_TIMEOUT) -> None:
    """Wait until the server answers `path`; if it does not, stop it (its whole process group: run.sh's
    Huey worker too) before giving up, so that a failed start leaves nothing running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            server.stop()
            raise SystemExit(f"{server.name} exited at start")
        try:
            httpx.get(f"http://127.0.0.1:{server.port}{path}", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    server.stop()
    raise SystemExit(f"{server.name} did not start within {timeout} s")


def helpdesk_prepare(tmp: Path, reuse_venv: str | None = None) -> tuple[Path, dict[str, Any]]:
    venv = tmp / "hd-venv"
    if reuse_venv:  # a virtualenv made by an earlier run (--helpdesk-venv): no pip install
        venv.symlink_to(Path(reuse_venv).resolve())
        log(f"helpdesk: reusing the virtualenv {reuse_venv}")
    else:
        log(f"helpdesk: virtualenv + pip install django-helpdesk=={HELPDESK_VERSION} gunicorn")
        run([sys.executable, "-m", "venv", str(venv)])
        packages = [f"django-helpdesk=={HELPDESK_VERSION}", "gunicorn", "psycopg[binary]"]
        run([str(venv / "bin" / "pip"), "install", "-q", *packages])
    project = tmp / "hd"
    (project / "hdproj").mkdir(parents=True)
    (project / "hdproj" / "__init__.py").write_text("")
    settings = HD_SETTINGS
    if PG:  # the same server and defaults as aftersales' DATABASE_URL (psycopg 3, persistent connections off)
        url = httpx.URL(pg_database("helpdesk"))
        db = {"ENGINE": "django.db.backends.postgresql", "NAME": url.path.lstrip("/"), "USER": url.username}
        db |= {"PASSWORD": url.password or "", "HOST": url.host, "PORT": url.port or 5432}
        settings += f"\nDATABASES = {{'default': {db!r}}}\n"
    (project / "hdproj" / "settings.py").write_text(settings)
    (project / "hdproj" / "urls.py").write_text(HD_URLS)
    (project / "hdproj" / "wsgi.py").write_text(HD_WSGI)
    (project / "manage.py").write_text(HD_MANAGE)
    for name, text in (("setup.py", HD_SETUP), ("seed.py", HD_SEED), ("inproc.py", HD_INPROC)):
        (project / name).write_text(textwrap.dedent(text))
    hd_python = str(venv / "bin" / "python")
    run([hd_python, "manage.py", "migrate", "-v", "0"], cwd=project)
    info = last_json(run([hd_python, "manage.py", "shell", "-c", HD_SETUP], cwd=project))
    version = run([hd_python, "-c", "import django, helpdesk; print(django.get_version())"]).strip()
    info["django"] = version
    return project, info


def hd_script(project: Path, script: str, *args: str) -> str:
    hd_python = str(project.parent / "hd-venv" / "bin" / "python")
    code = f"import sys; sys.argv += {list(args)!r}; exec(open({script!r}).read())"
    return run([hd_python, "manage.py", "shell", "-c", code], cwd=project)


def helpdesk_start(project: Path, info: dict[str, Any], workers: int, threads: int) -> Server:
    port = free_port()
    gunicorn = str(project.parent / "hd-venv" / "bin" / "gunicorn")
    cmd = [gunicorn, "hdproj.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    cmd += ["--threads", str(threads)]
    process = subprocess.Popen(
        cmd, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    server = Server("django-helpdesk", port, process, {"Authorization": f"Token {info['token']}"}, info)
    wait_up(server, "/api/")
    return server


# --- aftersales ------------------------------------------------------------------------------------

AS_SETUP = """
import json
from aftersales.accounts.models import TokenScope, User
from aftersales.accounts.services import api_token_create
from aftersales.catalog.models import Store
admin = User.objects.get(username="admin")
_, raw = api_token_create(user=admin, name="peer bench", scopes=[TokenScope.READ, TokenScope.WRITE, TokenScope.ADMIN])
store = Store.objects.filter(organization=admin.organization).order_by("id").first()
print(json.dumps({"token": raw, "store": store.pk}))
"""

AS_INPROC = """
import json, sys, time, uuid
from aftersales.accounts.models import User
from aftersales.catalog.models import Store
from aftersales.inbox.services import InboundMessage, message_ingest
n = int(sys.argv[-1]); admin = User.objects.get(username="admin")
store = Store.objects.filter(organization=admin.organization).order_by("id").first()
times, cpu = [], []
for i in range(n):
    buyer = uuid.uuid4().hex
    inbound = InboundMessage(store=store, external_id=f"inproc-{buyer}", body="My order arrived broken.",
                             subject="Broken", customer_external_id=buyer, customer_name="Peer Buyer",
                             customer_email=f"{buyer}@example.com", via="api")
    t = time.perf_counter()
    c = time.process_time()
    message_ingest(inbound=inbound)
    times.append((time.perf_counter() - t) * 1000)
    cpu.append((time.process_time() - c) * 1000)
print(json.dumps({"times": times, "cpu": cpu}))
"""


def aftersales_env(tmp: Path, name: str) -> dict[str, str]:
    var = tmp / name
    var.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": pg_database(f"as_{name}") if PG else f"sqlite:///{var / 'aftersales.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "aftersales.settings.production",
        "SECRET_KEY": "aftersales-peer-bench-not-a-secret-" + "x" * 30,
        "AFTERSALES_VAR_DIR": str(var),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    env.pop("PYTHONPATH", None)  # (the working tree through the editable install; a --baseline copy sets its own)
    env.pop("WEB_WORKERS", None)
    env.pop("WEB_THREADS", None)
    env["DEMO_FAKES"] = "0"  # run.sh: no fake marketplaces syncing beside the measured server
    return env


def aftersales_manage(env: dict[str, str], *args: str) -> str:
    return run([str(VENV_PY), "-m", "aftersales.manage", *args], cwd=tree_of(env), env=env)


def tree_of(env: dict[str, str]) -> Path:
    """The source tree an aftersales environment runs: ROOT, or a --baseline copy (PYTHONPATH=<copy>/src)."""
    return Path(env["PEER_TREE"])


def checkout(ref: str, tmp: Path) -> Path:
    """A copy of `ref`'s tree (committed files only) under tmp, with the shared virtualenv linked in (scripts/
    run.sh starts `.venv/bin/...` from its own folder). A folder instead of a ref is used as it is."""
    if Path(ref).is_dir():
        return Path(ref).resolve()
    dest = tmp / f"src-{ref.replace('/', '_')}"
    dest.mkdir()
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


def aftersales_prepare(tmp: Path, name: str, tickets: int, tree: Path = ROOT) -> tuple[dict[str, str], dict[str, Any]]:
    env = aftersales_env(tmp, name)
    env["PEER_TREE"] = str(tree)
    env["PYTHONPATH"] = str(tree / "src")  # (the shared virtualenv's editable install is /work/main's working tree)
    log(f"aftersales: migrate + demo --tickets {tickets} + triage_train")
    aftersales_manage(env, "migrate", "-v", "0")
    aftersales_manage(env, "demo", "--tickets", str(tickets))
    # The triage model, built ahead as a deploy (and `make run`) does: without it the Huey worker trains it at
    # start-up (1-3 min of one core) and the measured rounds see a worker that is training, not draining.
    # Versioned files (a hash of the corpus), so one folder serves every tree and run.
    shared = Path(tempfile.gettempdir()) / "aftersales-bench-triage"
    shared.mkdir(exist_ok=True)
    (Path(env["AFTERSALES_VAR_DIR"]) / "triage").symlink_to(shared)
    aftersales_manage(env, "triage_train")
    info = last_json(aftersales_manage(env, "shell", "-c", AS_SETUP))
    return env, info


def gunicorn_layout(env: dict[str, str]) -> tuple[int, int]:
    code = "import runpy, json; c = runpy.run_path('scripts/gunicorn.conf.py'); print(c['workers'], c['threads'])"
    workers, threads = run([str(VENV_PY), "-c", code], cwd=ROOT, env=env).split()
    return int(workers), int(threads)


def aftersales_start(env: dict[str, str], info: dict[str, Any], *, via_run_sh: bool, extra: dict[str, str]) -> Server:
    port = free_port()
    env = {**env, **extra}
    if via_run_sh:
        cmd = ["scripts/run.sh", "127.0.0.1", str(port)]
    else:
        cmd = [str(ROOT / ".venv/bin/gunicorn"), "aftersales.wsgi:application", "--config", "scripts/gunicorn.conf.py"]
        cmd += ["--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        cmd, cwd=tree_of(env), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    name = "aftersales" if tree_of(env) == ROOT else "aftersales (baseline)"
    server = Server(name, port, process, {"Authorization": f"Bearer {info['token']}"}, info)
    wait_up(server, "/health")
    return server


# --- memory ---------------------------------------------------------------------------------------


def _proc(pid: int, name: str) -> str:
    try:
        return Path(f"/proc/{pid}/{name}").read_text()
    except OSError:
        return ""


def gunicorn_processes(server: Server) -> tuple[set[int], dict[int, int]]:
    """The gunicorn processes under the server (master and workers), and every process's parent."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc(int(entry.name), "stat")
            if stat:
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree = {server.process.pid}
    grew = True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree and pid not in tree}
        tree |= more
        grew = bool(more)
    return {pid for pid in tree if "gunicorn" in _proc(pid, "cmdline")}, parents


def web_memory(server: Server) -> tuple[float, float, int]:
    """(peak RSS, current RSS) in MiB of the server's largest web worker process, and how many workers:
    the gunicorn processes under the server whose parent is a gunicorn process too (the master and,
    for aftersales, run.sh's Huey worker are not counted). VmHWM / VmRSS from /proc."""
    gunicorn, parents = gunicorn_processes(server)
    workers = [pid for pid in gunicorn if parents.get(pid) in gunicorn]
    server.info["gunicorn_pids"] = sorted(gunicorn)
    server.info["worker_pids"] = workers
    peak = current = 0.0
    for pid in workers:
        fields = dict(line.split(":", 1) for line in _proc(pid, "status").splitlines() if ":" in line)
        peak = max(peak, int(fields.get("VmHWM", "0 kB").split()[0]) / 1024)
        current = max(current, int(fields.get("VmRSS", "0 kB").split()[0]) / 1024)
    return peak, current, len(workers)


def worker_backlog(env: dict[str, str]) -> int | None:
    """Tasks waiting in aftersales' Huey queue (SQLite's, in AFTERSALES_VAR_DIR; None with Redis)."""
    path = Path(env["AFTERSALES_VAR_DIR"]) / "huey.sqlite3"
    if env.get("REDIS_URL") or not path.exists():
        return None
    with sqlite3.connect(path, timeout=30) as db:
        return int(db.execute("SELECT count(*) FROM task").fetchone()[0])


def backlog_lines(env: dict[str, str], limit: float = 300) -> list[str]:
    """The background work the creations left (language, triage, SLA: scripts/run.sh runs the worker at
    a lower CPU priority than the web, ADR 0022), and how long the worker took to drain it after the
    load stopped: what the request figures do not show."""
    waiting = worker_backlog(env)
    if waiting is None:
        return []
    started = time.monotonic()
    left = waiting
    while left and time.monotonic() - started < limit:
        time.sleep(0.5)
        left = worker_backlog(env) or 0
    took = time.monotonic() - started
    state = f"drained in {took:.0f}s" if not left else f"{left} still waiting after {took:.0f}s"
    return [f"  aftersales worker backlog when the load stopped: {waiting} tasks, {state}"]


def shared_memory(server: Server) -> tuple[float, float]:
    """(PSS of the whole server: master and workers, the memory it really takes when workers share
    pages; USS of its largest worker: what one more worker would add), MiB, from smaps_rollup. Call
    after web_memory (which finds the processes)."""
    pss = uss = 0.0
    for pid in server.info.get("gunicorn_pids", []):
        fields = {}
        for line in _proc(pid, "smaps_rollup").splitlines()[1:]:
            name, _, rest = line.partition(":")
            fields[name] = int(rest.split()[0]) / 1024 if rest.split() else 0.0
        pss += fields.get("Pss", 0.0)
        if pid in server.info.get("worker_pids", []):
            uss = max(uss, fields.get("Private_Clean", 0.0) + fields.get("Private_Dirty", 0.0))
    return pss, uss


def memory_lines(label: str, hd: Server, aft: Server) -> list[str]:
    (hd_peak, hd_now, hd_n), (as_peak, as_now, as_n) = web_memory(hd), web_memory(aft)
    (hd_pss, hd_uss), (as_pss, as_uss) = shared_memory(hd), shared_memory(aft)
    ratio = f"x{as_peak / hd_peak:.2f}" if hd_peak else "n/a"
    pss_ratio = f"x{as_pss / hd_pss:.2f}" if hd_pss else "n/a"
    return [
        f"\n## web process memory after {label} (largest worker's RSS; server's PSS, master included; MiB)",
        f"  django-helpdesk  peak {hd_peak:6.1f}  now {hd_now:6.1f}  ({hd_n} workers)  PSS {hd_pss:6.1f}"
        f"  worker USS {hd_uss:6.1f}",
        f"  {aft.name:16s} peak {as_peak:6.1f}  now {as_now:6.1f}  ({as_n} workers)  PSS {as_pss:6.1f}"
        f"  worker USS {as_uss:6.1f}",
        f"  ratio peak RSS ({aft.name} / helpdesk): {ratio}; server PSS {pss_ratio}",
    ]


# --- load generation -------------------------------------------------------------------------------


def server_cpu(server: Server) -> float:
    """CPU seconds (user + system) used so far by the server's gunicorn processes (master and workers;
    run.sh's Huey worker and mail watcher not counted): per request, robust to the machine's load."""
    ticks = 0
    for pid in gunicorn_processes(server)[0]:
        fields = _proc(pid, "stat").rsplit(")", 1)[-1].split()
        if len(fields) > 12:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    times: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: int = 0
    first_error: str = ""
    cpu: float = 0.0  # the server's CPU seconds over the measured rounds (server_cpu)
    client_cpu: float = 0.0  # this load generator's own CPU seconds over the same rounds (its client threads)

    def pct(self, p: int) -> float:
        if len(self.times) < 2:
            return self.times[0] if self.times else float("nan")
        return statistics.quantiles(self.times, n=100, method="inclusive")[p - 1]

    @property
    def cpu_per_request(self) -> float:
        return self.cpu / len(self.times) if self.times else float("nan")

    @property
    def rps(self) -> float:
        return len(self.times) / self.wall if self.wall else float("nan")

    def row(self) -> str:
        if not self.times:
            return f"no successful request ({self.errors} errors: {self.first_error[:200]})"
        return (
            f"{self.rps:8.1f} req/s  p50 {self.pct(50):7.1f}  p95 {self.pct(95):7.1f}  p99 {self.pct(99):7.1f}"
            f"  max {max(self.times):7.1f} ms  n={len(self.times)} errors={self.errors}"
            f"  server CPU {self.cpu * 1000 / len(self.times):5.1f} ms/req"
            f"  client CPU {self.client_cpu * 1000 / len(self.times):4.1f} ms/req"
        )


Request = Callable[[httpx.Client, int], httpx.Response]


COUNTER = itertools.count()  # request numbers, unique over the whole run (a new buyer per request)


def one_round(
    server: Server, request: Request, clients: int, per_client: int, result: Result, ok: set[int], deadline: float
) -> None:
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers=server.headers, timeout=60) as client:
            for _ in range(per_client):
                if time.monotonic() > deadline:
                    break
                with lock:
                    i = next(COUNTER)
                t = time.perf_counter()
                try:
                    response = request(client, i)
                    elapsed = (time.perf_counter() - t) * 1000
                    good = response.status_code in ok
                    detail = f"{response.status_code} {response.text[:300]}"
                except httpx.HTTPError as exc:
                    elapsed, good, detail = 0.0, False, repr(exc)
                with lock:
                    if good:
                        result.times.append(elapsed)
                    else:
                        result.errors += 1
                        result.first_error = result.first_error or detail

    started, cpu, client = time.perf_counter(), server_cpu(server), time.process_time()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(worker) for _ in range(clients)]:
            future.result()
    result.wall += time.perf_counter() - started
    result.cpu += server_cpu(server) - cpu
    result.client_cpu += time.process_time() - client


def interleaved(
    systems: list[tuple[Server, Request, set[int]]],
    *,
    clients: int,
    per_client: int,
    rounds: int,
    budget: float,
    warmup: int = 1,
) -> list[Result]:
    """Rounds alternating the systems; each system gets at most `budget` seconds for its measured rounds
    (a slow system stops early with fewer requests: its count n is printed)."""
    results = [Result() for _ in systems]
    order = list(range(len(systems)))
    per_round = budget / rounds
    for r in range(warmup + rounds):
        random.shuffle(order)
        for i in order:
            server, request, ok = systems[i]
            target = results[i] if r >= warmup else Result()
            one_round(server, request, clients, per_client, target, ok, time.monotonic() + per_round)
    return results


def buyer_texts() -> list[str]:
    """The buyers' messages of bench/data/cs_segments.jsonl: 231 real-world texts in seven languages, as buyers
    write them. Each creation sends one in turn with its own order reference, so no two requests carry the same
    text (the worker remembers some answers per text: translation memory, triage vectors, lingua)."""
    path = Path(__file__).resolve().parent / "data" / "cs_segments.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["text"] for row in rows if row["kind"] == "buyer"]


def buyer_message(texts: list[str], key: str, i: int) -> str:
    return f"{texts[i % len(texts)]} (order {key})"


def hd_create(server: Server) -> Request:
    queue = server.info["queue"]
    tag = os.urandom(4).hex()
    texts = buyer_texts()

    def request(client: httpx.Client, i: int) -> httpx.Response:
        body = {
            "queue": queue,
            "title": f"Order arrived broken {tag}-{i}",
            "description": buyer_message(texts, f"{tag}-{i}", i),
            "submitter_email": f"buyer-{tag}-{i}@example.com",
            "priority": 3,
        }
        return client.post("/api/tickets/", json=body)

    return request


def as_create(server: Server) -> Request:
    store = server.info["store"]
    tag = os.urandom(4).hex()
    texts = buyer_texts()

    def request(client: httpx.Client, i: int) -> httpx.Response:
        buyer = f"peer-{tag}-{i}"
        body = {
            "store_id": store,
            "external_id": f"msg-{buyer}",
            "subject": "Order arrived broken",
            "body": buyer_message(texts, buyer, i),
            "customer_external_id": buyer,
            "customer_name": "Peer Buyer",
            "customer_email": f"{buyer}@example.com",
        }
        return client.post("/api/v1/inbound/messages", json=body)

    return request


def hd_list(server: Server, search: str) -> Request:
    query = {"filtering": {}, "sorting": "created", "sortreverse": True, "search_string": search}
    b64 = base64.b64encode(json.dumps(query).encode()).decode()
    path = f"/datatables_ticket_list/{b64}"
    cookies = {"sessionid": server.info["session"]}

    def request(client: httpx.Client, i: int) -> httpx.Response:
        return client.get(path, params={"draw": 1, "start": 0, "length": 25}, cookies=cookies)

    return request


def as_list(server: Server, search: str) -> Request:
    params = {"q": search} if search else {}

    def request(client: httpx.Client, i: int) -> httpx.Response:
        return client.get("/api/v1/tickets", params=params)

    return request


def inproc(
    project: Path, envs: list[dict[str, str]], n: int, rounds: int
) -> list[tuple[list[float], list[float]]]:  # helpdesk, then each aftersales env: (wall times, CPU times)
    results: list[tuple[list[float], list[float]]] = [([], []) for _ in range(1 + len(envs))]
    jobs = list(range(1 + len(envs)))
    for _ in range(rounds):
        random.shuffle(jobs)
        for job in jobs:
            if job == 0:
                out = last_json(hd_script(project, "inproc.py", str(n)))
            else:
                env = envs[job - 1]
                code = AS_INPROC.replace("sys.argv[-1]", str(n))
                cmd = [str(VENV_PY), "-m", "aftersales.manage", "shell", "-c", code]
                out = last_json(run(cmd, cwd=tree_of(env), env=env))
            results[job][0].extend(out["times"][1:])
            results[job][1].extend(out["cpu"][1:])
    return results


def pct(times: list[float], p: int) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[p - 1]


def ratio_line(name: str, hd: Result, aft: Result) -> str:
    if not hd.times or not aft.times:
        return f"  ratio {name}: n/a (a side had no successful request)"
    return (
        f"  ratio {name} (aftersales / helpdesk): req/s x{aft.rps / hd.rps:.2f}, "
        f"p50 x{aft.pct(50) / hd.pct(50):.2f}, p95 x{aft.pct(95) / hd.pct(95):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(CASES), help=f"comma-separated subset of {', '.join(CASES)}")
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets seeded for inbox and search")
    parser.add_argument("--clients", default="1,8", help="client counts for create (default 1,8)")
    parser.add_argument("--requests", type=int, default=200, help="requests per system per client count (create)")
    parser.add_argument("--rounds", type=int, default=4, help="measured rounds per case, after one warm-up round")
    parser.add_argument("--reads", type=int, default=25, help="requests per system per round (inbox, search)")
    parser.add_argument(
        "--budget", type=float, default=60, help="seconds per system per case at most (measured rounds; default 60)"
    )
    parser.add_argument(
        "--layouts",
        default="4x1,2x1",
        help="layouts compared with the config's choice (layout case): WxT,... (WxT/queue: SQLite writer queue)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--baseline",
        help="a git ref (or source folder) served as a second aftersales in the same run (create, inproc): old vs new",
    )
    parser.add_argument(
        "--pg", help="PostgreSQL server URL without a database (postgres://postgres@127.0.0.1:5432): both systems on it"
    )
    parser.add_argument(
        "--helpdesk-venv", help=f"an existing virtualenv with django-helpdesk=={HELPDESK_VERSION} and gunicorn"
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    if only - set(CASES):
        parser.error(f"unknown case(s): {', '.join(sorted(only - set(CASES)))}")
    clients = [int(c) for c in args.clients.split(",")]

    if args.pg:
        PG.update(url=args.pg.rstrip("/"), suffix=f"{os.getpid()}")
    tmp = Path(tempfile.mkdtemp(prefix="aftersales-peer-"))
    servers: list[Server] = []
    started = time.monotonic()
    try:
        print(
            f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()},"
            f" Python {platform.python_version()}"
        )
        print(f"command: {' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}")
        project, hd_info = helpdesk_prepare(tmp, args.helpdesk_venv)
        env, as_info = aftersales_prepare(tmp, "as-var", 400)
        base_env: dict[str, str] | None = None
        if args.baseline:
            base_tree = checkout(args.baseline, tmp)
            base_env, base_info = aftersales_prepare(tmp, "as-base-var", 400, tree=base_tree)
            print(f"baseline: aftersales at {args.baseline} (git archive copy, PYTHONPATH={base_tree / 'src'})")
        workers, threads = gunicorn_layout(env)
        print(
            f"django-helpdesk {HELPDESK_VERSION} (Django {hd_info['django']}),"
            f" gunicorn {workers} workers x {threads} threads"
        )
        database = "PostgreSQL" if PG else "SQLite"
        layout = f"{workers} workers x {threads} threads"
        nice = os.environ.get("WORKER_NICE", "run.sh's default")
        print(f"aftersales: scripts/run.sh, scripts/gunicorn.conf.py on {database}: {layout}; WORKER_NICE {nice}")

        if "inproc" in only:
            log("in-process creation")
            measured = inproc(project, [env] + ([base_env] if base_env else []), 51, args.rounds)
            (hd_t, hd_c), (as_t, as_c) = measured[0], measured[1]
            print("\n## in-process creation (ms per ticket; CPU: the process's CPU time, robust to load)")
            names = ["django-helpdesk TicketForm.save", "aftersales message_ingest", "aftersales (baseline)"]
            for name, (t, c) in zip(names, measured, strict=False):
                print(
                    f"  {name:34s} p50 {pct(t, 50):6.1f}  p95 {pct(t, 95):6.1f}  max {max(t):6.1f}"
                    f"  CPU mean {statistics.fmean(c):5.2f} p50 {pct(c, 50):5.2f}  n={len(t)}"
                )
            print(
                f"  ratio p50 (aftersales / helpdesk): x{pct(as_t, 50) / pct(hd_t, 50):.2f};"
                f" CPU mean x{statistics.fmean(as_c) / statistics.fmean(hd_c):.2f}"
            )
            if base_env:
                (b_t, b_c) = measured[2]
                print(
                    f"  ratio p50 (aftersales / baseline): x{pct(as_t, 50) / pct(b_t, 50):.2f};"
                    f" CPU mean x{statistics.fmean(as_c) / statistics.fmean(b_c):.2f}"
                )

        need_servers = only & {"create", "inbox", "search"}
        if need_servers:
            hd = helpdesk_start(project, hd_info, workers, threads)
            servers.append(hd)  # (stopped by the finally below even if aftersales then fails to start)
            aft = aftersales_start(env, as_info, via_run_sh=True, extra={})
            servers.append(aft)
            base: Server | None = None
            if base_env and "create" in only:
                base = aftersales_start(base_env, base_info, via_run_sh=True, extra={})
                servers.append(base)

        if "create" in only:
            for c in clients:
                per_client = max(args.requests // (c * args.rounds), 1)
                log(f"HTTP creation, {c} client(s), {per_client * c * args.rounds} requests per system")
                systems = [(hd, hd_create(hd), {201}), (aft, as_create(aft), {201})]
                if base:
                    systems.append((base, as_create(base), {201}))
                r_hd, r_as, *r_base = interleaved(
                    systems,
                    clients=c,
                    per_client=per_client,
                    rounds=args.rounds,
                    budget=args.budget,
                )
                print(f"\n## HTTP ticket creation, {c} client(s); load average {os.getloadavg()[0]:.1f}")
                print(f"  django-helpdesk POST /api/tickets/          {r_hd.row()}")
                print(f"  aftersales POST /api/v1/inbound/messages    {r_as.row()}")
                if r_base:
                    print(f"  aftersales (baseline)                       {r_base[0].row()}")
                print(ratio_line("create", r_hd, r_as))
                if r_base and r_base[0].times and r_as.times:
                    b = r_base[0]
                    print(
                        f"  ratio create (aftersales / baseline): req/s x{r_as.rps / b.rps:.2f},"
                        f" p50 x{r_as.pct(50) / b.pct(50):.2f}, p95 x{r_as.pct(95) / b.pct(95):.2f},"
                        f" p99 x{r_as.pct(99) / b.pct(99):.2f},"
                        f" server CPU/req x{r_as.cpu_per_request / b.cpu_per_request:.2f}"
                    )
            print("\n".join(memory_lines("creation", hd, aft)))
            if base:
                print("\n".join(memory_lines("creation", hd, base)[2:]))
            print("\n".join(backlog_lines(env)))

        if only & {"inbox", "search"}:
            for server in servers:
                server.stop()
            servers.clear()
            log(f"seeding {args.tickets:,} tickets into each system")
            t = time.monotonic()
            big_env, big_info = aftersales_prepare(tmp, "as-var-big", args.tickets)
            as_seed = time.monotonic() - t
            t = time.monotonic()
            hd_script(project, "seed.py", str(args.tickets))
            hd_seed = time.monotonic() - t
            print(
                f"\nseeded {args.tickets:,} tickets: aftersales migrate + demo {as_seed:.0f}s (a new database),"
                f" helpdesk bulk_create {hd_seed:.0f}s (added to its database)"
            )
            hd = helpdesk_start(project, hd_info, workers, threads)
            servers.append(hd)
            aft = aftersales_start(big_env, big_info, via_run_sh=True, extra={})
            servers.append(aft)
            for case, word in (("inbox", ""), ("search", SEARCH_WORD)):
                if case not in only:
                    continue
                log(f"{case} at {args.tickets:,} tickets")
                r_hd, r_as = interleaved(
                    [(hd, hd_list(hd, word), {200}), (aft, as_list(aft, word), {200})],
                    clients=1,
                    per_client=args.reads,
                    rounds=args.rounds,
                    budget=args.budget,
                )
                label = "first page" if not word else f"search {word!r}"
                print(f"\n## inbox {label}, {args.tickets:,}+ tickets, 1 client")
                print(f"  django-helpdesk datatables_ticket_list     {r_hd.row()}")
                print(f"  aftersales GET /api/v1/tickets             {r_as.row()}")
                print(ratio_line(case, r_hd, r_as))
            print("\n".join(memory_lines("inbox and search at " + f"{args.tickets:,} tickets", hd, aft)))

        if "layout" in only:
            for server in servers:
                server.stop()
            servers.clear()
            # The first layout is the one scripts/gunicorn.conf.py picks, started by scripts/run.sh (with
            # the Huey worker); the others are plain gunicorn with the same config and WEB_WORKERS/WEB_THREADS.
            # "WxT/queue": that layout on SQLite with the writer queue (SQLITE_WRITER_QUEUE=1, the default since
            # ADR 0039); "WxT/plain": with Django's backend (SQLITE_WRITER_QUEUE=0).
            layouts: list[tuple[int, int, str]] = [(workers, threads, "")]
            for spec in args.layouts.split(","):
                size, _, variant = spec.partition("/")
                w, t = size.split("x")
                layouts.append((int(w), int(t), variant))
            layout_servers = [aftersales_start(env, as_info, via_run_sh=True, extra={})]
            for w, t, variant in layouts[1:]:
                extra = {"WEB_WORKERS": str(w), "WEB_THREADS": str(t)}
                if variant in ("queue", "plain"):
                    extra["SQLITE_WRITER_QUEUE"] = "1" if variant == "queue" else "0"
                layout_servers.append(aftersales_start(env, as_info, via_run_sh=False, extra=extra))
            servers += layout_servers
            names = [f"{w}x{t}" + (f"/{v}" if v else "") for w, t, v in layouts]
            log("layout: aftersales HTTP creation at 8 clients, " + ", ".join(names))
            results = interleaved(
                [(server, as_create(server), {201}) for server in layout_servers],
                clients=8,
                per_client=max(args.requests // (8 * args.rounds), 1),
                rounds=args.rounds,
                budget=args.budget,
            )
            print(f"\n## aftersales server layout on {database}, HTTP creation at 8 clients")
            base = results[0]
            for (w, t, variant), result in zip(layouts, results, strict=True):
                mark = " (config's choice)" if result is base else (" (writer queue)" if variant else "")
                print(f"  {w} processes x {t} thread(s){mark:18s} {result.row()}")
                if result is not base and result.times and base.times:
                    print(
                        f"    ratio choice / this: req/s x{base.rps / result.rps:.2f},"
                        f" p50 x{base.pct(50) / result.pct(50):.2f}, p95 x{base.pct(95) / result.pct(95):.2f}"
                    )
        print(f"\ntotal {time.monotonic() - started:.0f}s")
    finally:
        for server in servers:
            server.stop()
        if PG and not args.keep:
            pg_drop_all()
        keep_or_remove(tmp, keep=args.keep)


if __name__ == "__main__":
    main()
