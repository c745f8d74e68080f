"""scripts/run.sh starts its Python processes without code objects' column tables (docs/adr/0045-no-debug-ranges.md).

PYTHONNODEBUGRANGES=1 (Python's -X no_debug_ranges) drops the tables that draw tracebacks' ^^^ markers from every
code object the interpreter makes or loads, .pyc files included: ~1 MiB less in gunicorn's master after the
application's imports, so in every web worker forked from it (issue 13, web process memory). The test runs run.sh
in a copy whose `.venv/bin/python` and `.venv/bin/gunicorn` only record the variable they were given, and checks
that an interpreter started with it loads a compiled module without column information.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

STUB = """#!/usr/bin/env bash
echo "$(basename "$0") ${PYTHONNODEBUGRANGES-unset}" >> "$RECORD"
"""
# gunicorn runs in the foreground: once it exits run.sh stops the worker, so it waits for the worker's line first.
WAIT = """for _ in $(seq 200); do grep -q '^python' "$RECORD" 2>/dev/null && break; sleep 0.05; done
"""


def _run_sh(tmp_path: Path, **env: str) -> list[str]:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "run.sh", tmp_path / "scripts" / "run.sh")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "gunicorn"):
        (bin_dir / name).write_text(STUB + (WAIT if name == "gunicorn" else ""))
        (bin_dir / name).chmod(0o755)
    record = tmp_path / "record.txt"
    base = {k: v for k, v in os.environ.items() if k != "PYTHONNODEBUGRANGES"}
    run_env = {**base, "RECORD": str(record), "DEMO_FAKES": "0", "MAIL_WATCH": "0", **env}
    done = subprocess.run(
        ["bash", "scripts/run.sh", "127.0.0.1", "8999"], cwd=tmp_path, env=run_env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return sorted(record.read_text().splitlines())


def test_run_sh_starts_web_and_worker_without_debug_ranges(tmp_path: Path) -> None:
    assert _run_sh(tmp_path) == ["gunicorn 1", "python 1"]


def test_empty_value_keeps_the_tables(tmp_path: Path) -> None:
    assert _run_sh(tmp_path, PYTHONNODEBUGRANGES="") == ["gunicorn ", "python "]


def test_the_variable_strips_column_tables_from_loaded_code() -> None:
    code = "import json.decoder as d; print(sorted({str(p[2]) for p in d.JSONDecoder.decode.__code__.co_positions()}))"
    base = {k: v for k, v in os.environ.items() if k != "PYTHONNODEBUGRANGES"}
    stripped = subprocess.run(
        [sys.executable, "-c", code], env={**base, "PYTHONNODEBUGRANGES": "1"}, capture_output=True, text=True
    )
    default = subprocess.run([sys.executable, "-c", code], env=base, capture_output=True, text=True)
    assert stripped.stdout.strip() == "['None']"
    assert "None" not in default.stdout
