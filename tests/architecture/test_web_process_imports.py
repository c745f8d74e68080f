"""A web process stays lean (issue 13, web process memory; bench/web_rss.py measures it).

A fresh interpreter boots the application as gunicorn does (aftersales.wsgi), loads the URLconf (every
view, router and schema module), serves the inbox, a ticket page and the API's ticket list through the
WSGI handler, and asks the connector registry for every platform's connector (the ticket page does, for
the store's capabilities). None of the modules below may be in sys.modules then: they belong to the
worker (language engines, triage models, OCR and speech) or load where they are used (a connector's
platform client on its first call, Jinja2 where a reply template is parsed, the `regex` module where a
rule's pattern is compiled, YAML where a policy document is read, ...). A module-level import of one
of them in web code brings it back into every web worker: import it inside the function that uses it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# top-level packages (or modules) a web process must not import
HEAVY = (
    "lingua",  # language detection: the worker (language.detect)
    "onnxruntime",
    "numpy",
    "sklearn",
    "pytesseract",
    "faster_whisper",
    "ctranslate2",
    "tokenizers",
    "PIL",
    "sp_api",  # Amazon's client: the first SP-API call (channels/connectors/amazon/client.py)
    "jinja2",  # reply templates: where one is parsed or rendered (language/templates.py)
    "regex",  # rule patterns: where one is compiled (rules/conditions.py)
    "yaml",  # policy documents: where one is read (returns/policy)
    "stdnum",  # IMEI checks: where one is checked (warranty/serials.py)
    "moneyed",  # currencies: where one is checked (core/money.py, returns/refunds.py)
    "babel",
    "tenacity",  # retries: where a platform is called (channels/http.py, channels/sync.py)
    "filetype",  # file sniffing: where a file arrives (inbox/attachment_types.py)
    "redis",  # without REDIS_URL (core/lean_imports.py)
    "rich",
    "pygments",
    "click",
    "colorama",  # Windows consoles only (aftersales/wsgi.py)
)

SCRIPT = r"""
import json, sys
from wsgiref.util import setup_testing_defaults

from aftersales.wsgi import application
from django.urls import get_resolver

get_resolver().url_patterns  # the URLconf: every view, router and schema module


def serve(path, cookie):
    environ = {}
    setup_testing_defaults(environ)
    path, _, query = path.partition("?")
    environ.update(PATH_INFO=path, QUERY_STRING=query, HTTP_HOST="localhost", SERVER_NAME="localhost")
    environ["HTTP_COOKIE"] = cookie
    status = []
    body = b"".join(application(environ, lambda s, headers, exc_info=None: status.append(s)))
    return int(status[0].split()[0]), len(body)


cookie, ticket_id = sys.argv[1], sys.argv[2]
pages = ("/", f"/tickets/{ticket_id}/", "/api/v1/tickets", f"/api/v1/tickets/{ticket_id}")
statuses = {page: serve(page, cookie)[0] for page in pages}

from aftersales.channels.registry import available_platforms, get_connector

for platform in available_platforms():
    get_connector(platform)
heavy = json.loads(sys.argv[3])
print(json.dumps({"statuses": statuses, "loaded": sorted(m for m in heavy if m in sys.modules)}))
"""


def database_url(settings_dict: dict[str, object]) -> str:
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{settings_dict['NAME']}"
    user, password = settings_dict.get("USER") or "", settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@pytest.mark.django_db(transaction=True)  # committed rows: the subprocess reads the test database
def test_web_process_does_not_import_heavy_modules(client, world):
    from django.conf import settings
    from django.db import connection

    ticket = world.ticket(conversation_id="conv-arch-1")  # an Amazon store's platform ticket
    client.force_login(world.agent)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftersales.settings.test",
        "DATABASE_URL": database_url(connection.settings_dict),
        "HUEY_IMMEDIATE": "false",  # a task enqueued by a request must not run (and import) in this process
        "PYTHONPATH": str(ROOT / "src"),
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, cookie, str(ticket.pk), json.dumps(HEAVY)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report["statuses"].values()) == {200}, report["statuses"]
    assert report["loaded"] == [], (
        f"a web process imported {report['loaded']}: import them inside the function that uses them"
    )
