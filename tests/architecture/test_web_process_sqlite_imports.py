"""A web process serving SQLite does not load PostgreSQL's driver (issue 13, web process memory).

psycopg with its bundled libpq (and that library's own OpenSSL) is ~10 MiB of a web worker's RSS: a
module-level `import psycopg...` in anything the URLconf reaches (core/inserts.py, which the inbound
API's ingest imports, checks for psycopg's JSON wrapper) would add it to every worker of the default
SQLite layout (in-process probe: 93.3 -> 103.0 MiB after the URLconf; bench/RESULTS.md, "Issue 13, tenth
pass"). Code that needs psycopg's types looks them up where a PostgreSQL value can exist, e.g.
`sys.modules.get("psycopg.types.json")`: a value of such a type implies the module is loaded.

nh3 (the HTML sanitiser's Rust library, 1.8 MiB resident) is imported by inbox/message_html.py on first
use: only processes that store or render e-mail HTML load it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys

from aftersales.wsgi import application
from django.urls import get_resolver

resolver = get_resolver()
resolver.url_patterns  # the URLconf: every view, router and schema module (the inbound API's ingest included)
resolver.reverse_dict
print(json.dumps(sorted(m for m in sys.modules if m in ("psycopg", "nh3") or m.startswith(("psycopg.", "psycopg_")))))
"""


def test_sqlite_web_process_imports_neither_psycopg_nor_nh3(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftersales.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}",  # (not opened: imports only)
        "PYTHONPATH": str(ROOT / "src"),
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
