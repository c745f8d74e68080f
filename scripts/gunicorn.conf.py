"""gunicorn settings of `make run` (scripts/run.sh passes the bind address and the worker count).

limit_request_line is gunicorn's maximum, 8190: a line between 4094 and 8190 bytes reaches Django, where
aftersales.core.middleware.UriLengthMiddleware answers 414 in the API's JSON error shape under /api/; a
longer one is refused by gunicorn itself, and our worker class (aftersales.core.gunicorn_worker) answers
that 414 in the API's JSON shape too, instead of gunicorn's HTML page (tests/fuzz/test_gunicorn_limits.py)."""

import os

workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = 4
worker_class = "aftersales.core.gunicorn_worker.JsonErrorThreadWorker"
timeout = 60
accesslog = "-"
errorlog = "-"
loglevel = "info"
limit_request_line = 8190
