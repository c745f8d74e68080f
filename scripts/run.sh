#!/usr/bin/env bash
# Start the Huey worker in the background and gunicorn in the foreground; stop both on exit.
set -euo pipefail
host=${1:-127.0.0.1}
port=${2:-8000}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-aftersales.settings.production}
# Code objects without the column tables that draw tracebacks' ^^^ markers (PEP 657, Python's -X no_debug_ranges;
# tracebacks keep file, line and source line): the application gunicorn's master imports is ~1 MiB smaller, and so
# is every web worker forked from it, the Huey worker and the mail watcher (docs/adr/0045-no-debug-ranges.md).
# PYTHONNODEBUGRANGES= (empty) keeps the tables.
export PYTHONNODEBUGRANGES=${PYTHONNODEBUGRANGES-1}
fakes=
if [ "${DEMO_FAKES:-0}" = 1 ]; then
    # The demo stores talk to local fake marketplaces on loopback (aftersales/demo/fakes.py); the
    # endpoint override is for this local demo only (off by default in production settings).
    export CHANNELS_ALLOW_ENDPOINT_OVERRIDE=1
    .venv/bin/python -m aftersales.manage fakes --port-base "${DEMO_FAKES_PORT:-8701}" --sync --app-url "http://127.0.0.1:$port" &
    fakes=$!
fi
# The worker runs at the web's priority by default (docs/adr/0022-ingest-prepared-inserts-and-worker-priority.md,
# "Worker priority, re-measured"): it delivers replies and runs translation, triage and SLA clocks, and a niced
# worker (nice 5 or 10) drained nothing for 300 s whenever other processes kept the cores busy. WORKER_NICE=10 lets
# web requests win the CPU on a dedicated machine under web-heavy load (~11% more creations per second measured).
nice -n "${WORKER_NICE:-0}" .venv/bin/python -m aftersales.manage run_huey --quiet &
worker=$!
# New mail within seconds: the IMAP watcher of every mailbox (IDLE, else polling; one per mailbox
# across processes; channels/mailwatch.py). The worker's periodic sync stays the reconciliation.
watch=
if [ "${MAIL_WATCH:-1}" = 1 ]; then
    .venv/bin/python -m aftersales.manage mail_watch --all &
    watch=$!
fi
web=
# Stop them all on exit, Ctrl-C or kill (no `exec`: the shell must stay to run this).
trap 'kill $worker $web $fakes $watch 2>/dev/null || true; wait 2>/dev/null || true' EXIT INT TERM
echo
echo "  aftersales is starting on http://$host:$port"
echo "  demo logins (password: demo-pass-2026):"
echo "    admin  (admin, English)      li.na  (agent, 中文)      tom  (agent, English)"
echo "    wang.fang (approver, 中文)   viewer (viewer)   operator (installation operator: /admin/ only)"
echo "  API docs: http://$host:$port/api/v1/docs    health: http://$host:$port/health"
[ -z "$fakes" ] || echo "  fake eBay/Shopify/Amazon/17TRACK/Shopee/TikTok Shop/AliExpress/Wish on 127.0.0.1:${DEMO_FAKES_PORT:-8701}-$((${DEMO_FAKES_PORT:-8701} + 7)) (DEMO_FAKES=0: off)"
echo
# workers and threads (per database: SQLite 4 x 1, PostgreSQL 2 x 4; WEB_WORKERS / WEB_THREADS override:
# docs/adr/0014-server-layout.md), timeout, logs and request limits: scripts/gunicorn.conf.py
.venv/bin/gunicorn aftersales.wsgi:application --config scripts/gunicorn.conf.py --bind "$host:$port" &
web=$!
wait $web
