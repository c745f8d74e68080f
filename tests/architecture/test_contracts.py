"""Architecture checks that run with the suite: the import contracts of pyproject.toml, the admin is
for staff only, and nothing listens beyond 127.0.0.1 by default."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is a dev dependency"
    result = subprocess.run([lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_django_admin_is_for_staff_only(client, world):
    client.force_login(world.agent)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_defaults_bind_to_loopback_only():
    makefile = (ROOT / "Makefile").read_text()
    assert "HOST ?= 127.0.0.1" in makefile
    run = (ROOT / "scripts" / "run.sh").read_text()
    assert "host=${1:-127.0.0.1}" in run
    from django.conf import settings

    assert "*" not in settings.ALLOWED_HOSTS


def test_every_module_that_writes_messages_refreshes_search_documents():
    """Search documents are kept current by the services that write ticket text (ADR 0012; each path
    is checked by inbox/tests/test_search.py). This catches a new module that creates or moves
    messages and forgets ticket_search_refresh. (Demo data is bulk-written with its documents.)"""
    import re

    # The inbox's Message only (not OutboxMessage and the like).
    writes = re.compile(
        r"(?<![A-Za-z_])Message\.objects\.create\(|(?<![A-Za-z_])Message\.objects\.filter\([^)]*\)\.update\(ticket="
    )
    exempt = {"demo", "tests", "testing", "migrations"}
    missing = []
    for path in sorted((ROOT / "src" / "aftersales").rglob("*.py")):
        if exempt & set(path.relative_to(ROOT / "src" / "aftersales").parts):
            continue
        text = path.read_text()
        if writes.search(text) and "ticket_search_refresh" not in text:
            missing.append(str(path.relative_to(ROOT)))
    assert missing == [], missing
