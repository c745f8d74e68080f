"""gunicorn settings of `make run` (scripts/run.sh passes the bind address).

Server layout (docs/adr/0014-server-layout.md): WEB_WORKERS processes (default 2) x WEB_THREADS threads
(default 4), on SQLite and on PostgreSQL alike. On SQLite (one writer at a time) processes with one thread
each were measured against threads (bench/peer.py --only layout, 8 clients creating tickets, 2 cores):
threads gave half the median and x0.91 to x1.61 the throughput, processes a shorter tail (p95, max); the
default stays threads, and WEB_WORKERS=4 WEB_THREADS=1 gives the processes layout.
The worker class is gthread's (threads=1 included): it answers over-long request lines in JSON.

limit_request_line is gunicorn's maximum, 8190: a line between 4094 and 8190 bytes reaches Django, where
aftersales.core.middleware.UriLengthMiddleware answers 414 in the API's JSON error shape under /api/; a
longer one is refused by gunicorn itself, and our worker class (aftersales.core.gunicorn_worker) answers
that 414 in the API's JSON shape too, instead of gunicorn's HTML page (tests/fuzz/test_gunicorn_limits.py)."""

import os

workers = int(os.environ.get("WEB_WORKERS") or 2)
threads = int(os.environ.get("WEB_THREADS") or 4)
worker_class = "aftersales.core.gunicorn_worker.JsonErrorThreadWorker"
timeout = 60
accesslog = "-"
errorlog = "-"
loglevel = "info"
limit_request_line = 8190
