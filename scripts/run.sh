#!/usr/bin/env bash
# Start the Huey worker in the background and gunicorn in the foreground; stop both on exit.
set -euo pipefail
host=${1:-127.0.0.1}
port=${2:-8000}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-aftersales.settings.production}
.venv/bin/python -m aftersales.manage run_huey --quiet &
worker=$!
web=
# Stop both on exit, Ctrl-C or kill (no `exec`: the shell must stay to run this).
trap 'kill $worker $web 2>/dev/null || true; wait 2>/dev/null || true' EXIT INT TERM
echo
echo "  aftersales is starting on http://$host:$port"
echo "  demo logins (password: demo-pass-2026):"
echo "    admin  (admin, English)      li.na  (agent, 中文)      tom  (agent, English)"
echo "    wang.fang (approver, 中文)   viewer (viewer)   operator (installation operator: /admin/ only)"
echo "  API docs: http://$host:$port/api/v1/docs    health: http://$host:$port/health"
echo
# workers and threads (WEB_WORKERS, default 2, x WEB_THREADS, default 4: docs/adr/0014-server-layout.md),
# timeout, logs and request limits: scripts/gunicorn.conf.py
.venv/bin/gunicorn aftersales.wsgi:application --config scripts/gunicorn.conf.py --bind "$host:$port" &
web=$!
wait $web
