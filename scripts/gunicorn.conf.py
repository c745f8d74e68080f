"""gunicorn settings of `make run` (scripts/run.sh passes the bind address and the worker count).

limit_request_line is gunicorn's maximum, 8190: a longer request line gets gunicorn's own 414 page,
while a line between 4094 and 8190 bytes reaches Django, where aftersales.core.middleware.UriLengthMiddleware
answers 414 in the API's JSON error shape under /api/ (tests/fuzz/test_gunicorn_limits.py checks both)."""

import os

workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = 4
timeout = 60
accesslog = "-"
errorlog = "-"
loglevel = "info"
limit_request_line = 8190
