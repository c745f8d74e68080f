"""Test settings: the database comes from DATABASE_URL (SQLite file per run by default, or the
PostgreSQL of the machine in CI); tasks run through Huey in immediate mode unless a test opts out."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES, HUEY

SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
FIELD_ENCRYPTION_KEYS = ["3vJ1QyQ6s7B1m8wYb8m0mQq4Hn6cJt0dK3m1rj7m8Xo="]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; Argon2 tested explicitly
HUEY = {**HUEY, "immediate": os.environ.get("HUEY_IMMEDIATE", "true").lower() == "true"}
if "filename" in HUEY and "AFTERSALES_HUEY_FILE" not in os.environ:
    HUEY["filename"] = os.path.join(tempfile.gettempdir(), f"aftersales-test-huey-{os.getpid()}.sqlite3")
elif "filename" in HUEY:
    HUEY["filename"] = os.environ["AFTERSALES_HUEY_FILE"]
EMAIL_BACKEND = os.environ.get("AFTERSALES_TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="aftersales-test-media-"))
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="aftersales-test-static-"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # a file (not :memory:) so that live-server and worker-process tests share it; per process so
    # that concurrent runs on one machine never collide
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"aftersales-test-{os.getpid()}.sqlite3")
    }
LOGGING = {"version": 1, "disable_existing_loggers": False}
# A cache per test process (base.py shares files under var/ between processes). Tests reach it
# through many wrong tokens: the limiter's own tests lower this limit with the `settings` fixture.
if not os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
API_TOKEN_FAILURE_LIMIT = 10_000
CHANNELS_ALLOW_ENDPOINT_OVERRIDE = True  # connectors talk to their local fakes on 127.0.0.1

# Triage (docs/adr/0017-triage-models.md): tests use a model trained on four languages of the corpus
# (seconds, built once into var/triage and reused while the corpus is unchanged), not the full one.
TRIAGE_TRAIN_LANGUAGES = ["en", "de", "es", "zh"]
TRIAGE_API_TIMEOUT = 5.0
