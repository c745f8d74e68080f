"""gunicorn's master loads what every web worker would load on its first requests (issue 13, web memory).

scripts/gunicorn.conf.py's `preload_shared()` runs in the master before the workers are forked: the URLconf,
the template engines' parts, the modules Django imports on a first query or request (the ORM's SQL compiler,
the session serializer, the message storages), the application's task definitions, and the pydantic
validators of the inbound message API (the others are built on first use: aftersales/api/__init__.py).
A fresh interpreter runs it as the master does; the test checks that those are loaded and built, that the
other operations' models stay deferred, and that a listed operation which does not exist is refused (a
renamed path must be renamed in the configuration too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, runpy, sys

import django

django.setup()
config = runpy.run_path("scripts/gunicorn.conf.py")
config["preload_shared"]()

from django.conf import settings
from django.db import connections
from aftersales.api.main import api

wanted = {
    connections["default"].ops.compiler_module,
    settings.SESSION_SERIALIZER.rsplit(".", 1)[0],
    settings.MESSAGE_STORAGE.rsplit(".", 1)[0],
    "aftersales.api.urls",
    *config["FIRST_REQUEST_MODULES"],
}
built, deferred = [], 0
for _prefix, router in api._routers:
    for path, path_view in router.path_operations.items():
        for operation in path_view.operations:
            models = [m for m in [*operation.models, *operation.response_models.values()] if isinstance(m, type)]
            complete = [getattr(m, "__pydantic_complete__", True) for m in models]
            if any(method in ("POST",) and path == "/inbound/messages" for method in operation.methods):
                built.append(all(complete))
            deferred += complete.count(False)
try:
    config["build_api_validators"]((("GET", "/no/such/operation"),))
    refused = False
except LookupError:
    refused = True
print(json.dumps({"missing": sorted(m for m in wanted if m not in sys.modules), "inbound_built": built,
                  "deferred": deferred, "refused": refused}))
"""


def test_master_preloads_first_request_modules_and_inbound_validators(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftersales.settings.test",
        "PYTHONPATH": str(ROOT / "src"),
    }
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'web.sqlite3'}")  # (not opened: imports only)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-4000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["missing"] == []
    assert found["inbound_built"] == [True]
    assert found["deferred"] > 100  # the other operations' models are built where they are used
    assert found["refused"] is True
