"""Production settings: refuse to start with an insecure configuration."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, SECRET_KEY, VAR_DIR

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and os.environ.get("SQLITE_WRITER_QUEUE") != "0":
    # Write transactions queue for the database instead of polling SQLite's lock, the worker's after the
    # requests' (aftersales/core/sqlite; docs/adr/0039-sqlite-requests-write-before-the-worker.md).
    DATABASES["default"]["ENGINE"] = "aftersales.core.sqlite"

if "insecure" in SECRET_KEY:
    # `make run` writes a random key to var/secret_key on first start; a real deployment sets SECRET_KEY.
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        SECRET_KEY = key_file.read_text().strip()
    else:
        raise ImproperlyConfigured("Set SECRET_KEY (or run `make run`, which creates var/secret_key).")

DEBUG = False
SECURE_REFERRER_POLICY = "same-origin"
if os.environ.get("SECURE_HSTS_SECONDS"):
    SECURE_HSTS_SECONDS = int(os.environ["SECURE_HSTS_SECONDS"])
