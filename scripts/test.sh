#!/usr/bin/env bash
# The whole suite, twice: on SQLite, then on the PostgreSQL server of this machine (a throwaway
# database per run). In CI (CI=true) PostgreSQL and Redis must be reachable; locally a missing
# PostgreSQL skips that second pass with a warning.
set -uo pipefail
PY=.venv/bin/python
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
workers=${PYTEST_WORKERS:-2}
status=0

# Bytecode: the Makefile exports PYTHONDONTWRITEBYTECODE=1 and uv installs the packages without .pyc files, so
# every process of the run (two workers per pass, each Python process a test starts) compiled each module it
# imports from source: the collection alone took 32.7 s of CPU that way, 14.4 s with bytecode. The run writes
# bytecode under var/pycache (PYTHONPYCACHEPREFIX: no __pycache__ folders in the tree), and a collection
# during the lint, beside the triage model's training, writes it for the modules the workers import.
export PYTHONPYCACHEPREFIX="${PYTHONPYCACHEPREFIX:-$PWD/var/pycache}"
unset PYTHONDONTWRITEBYTECODE
$PY -m pytest --collect-only -q -p no:randomly >/dev/null 2>&1 &
compile_pid=$!

# The test settings' triage model (trained once into var/triage, then loaded in about a second) is built
# during the lint, on the core it leaves idle; otherwise each test worker of a fresh clone trains it at
# its first need, both at the same moment.
DJANGO_SETTINGS_MODULE=aftersales.settings.test $PY -m aftersales.manage triage_train >/dev/null 2>&1 &
triage_pid=$!

echo "== lint (ruff, import contracts, mypy)"
lint_paths=()
for d in src tests bench conftest.py; do [ -e "$d" ] && lint_paths+=("$d"); done
.venv/bin/ruff check "${lint_paths[@]}" || status=1
.venv/bin/lint-imports --no-cache >/dev/null || { .venv/bin/lint-imports --no-cache; status=1; }
.venv/bin/mypy src/aftersales || status=1

wait "$compile_pid" || true  # only bytecode: the passes collect again and report what fails
wait "$triage_pid" || echo "WARNING: building the triage model ahead failed: the tests build it themselves" >&2

# --dist worksteal: a worker that runs out of tests takes half of the other's queue, so the run does not end on
# one core while a few long tests (hypothesis, language models, browsers) finish on the other (no test uses
# xdist_group, which only loadgroup honours).
echo "== tests on SQLite"
DATABASE_URL="sqlite:///$(mktemp -d)/aftersales.sqlite3" \
  $PY -m pytest -n "$workers" --dist worksteal -m "not postgres" "$@" || status=1

if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || $PY - <<'PYEOF' 2>/dev/null
import psycopg, sys
psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3).close()
PYEOF
then
  db="aftersales_ci_$$_$(date +%s)"
  echo "== tests on PostgreSQL (database test_${db}, created and dropped by the run)"
  # Only the tests that can reach the database: the others (no database fixture or mark, nothing that
  # reaches it another way: conftest.py's --only-database-tests) behave the same on every database and
  # ran in the SQLite pass. The summary line says how many were left out and why the rest were kept.
  DATABASE_URL="$PG_URL/$db" $PY -m pytest -n "$workers" --dist worksteal -m "not browser and not sqlite" \
    --only-database-tests "$@" || status=1
else
  if [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL is not reachable on 127.0.0.1:5432: CI must run the suite on it" >&2
    status=1
  else
    echo "WARNING: PostgreSQL not reachable on 127.0.0.1:5432: skipped the PostgreSQL pass" >&2
  fi
fi
exit $status
