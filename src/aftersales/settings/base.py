"""Settings shared by every environment. Everything that differs per deployment comes from the
environment: DATABASE_URL, REDIS_URL, SECRET_KEY, FIELD_ENCRYPTION_KEYS, ALLOWED_HOSTS, ..."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from aftersales.core.lean_imports import import_alone, import_without, import_without_when_imported

# httpx's command-line client (click, rich, pygments: ~4 MiB per process) is never used here; httpx itself
# loads when a transport first needs it (a web worker that sends nothing never does).
import_without_when_imported("httpx", "httpx._main")
# django-ninja imports django.test.signals for one signal: not the whole django.test package (~8 MiB).
import_alone("django.test.signals")

BASE_DIR = Path(__file__).resolve().parent.parent  # src/aftersales
PROJECT_DIR = BASE_DIR.parent.parent  # repository root
VAR_DIR = Path(os.environ.get("AFTERSALES_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-dev-key-change-me-" + "x" * 24)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",  # sign-in lockouts (accounts/lockout.py)
    "csp",  # Content-Security-Policy header (CONTENT_SECURITY_POLICY below)
    "django_htmx",
    "django_countries",
    "huey.contrib.djhuey",
    "aftersales.core",
    "aftersales.accounts",
    "aftersales.catalog",
    "aftersales.inbox",
    "aftersales.notifications",
    "aftersales.channels",
    "aftersales.returns",
    "aftersales.inventory",
    "aftersales.language",
    "aftersales.tracking",
    "aftersales.warranty",
    "aftersales.sla",
    "aftersales.triage",
    "aftersales.rules",
    "aftersales.followups",
    "aftersales.demo",
    "aftersales.api",
    "aftersales.web",
    "aftersales.portal",
]

MIDDLEWARE = [
    "aftersales.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "aftersales.core.middleware.UriLengthMiddleware",  # 414 in the API's shape (scripts/gunicorn.conf.py)
    "aftersales.core.middleware.CSPMiddleware",  # django-csp's, the header built once per policy
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # aftersales.core.middleware's Session, Csrf, Authentication, Message and Htmx middlewares are Django's
    # and django-htmx's, stepping aside for token-authenticated API requests (core/middleware.py); its
    # LocaleMiddleware is Django's without the URL-prefix work this URLconf does not need.
    "aftersales.core.middleware.SessionMiddleware",
    "aftersales.core.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "aftersales.core.middleware.CsrfViewMiddleware",
    "aftersales.core.middleware.AuthenticationMiddleware",
    "aftersales.accounts.middleware.UserLanguageMiddleware",
    "aftersales.core.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "aftersales.core.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into the lockout page
]

AUTHENTICATION_BACKENDS = [
    "aftersales.accounts.lockout.LoginLockoutBackend",  # first: refuses locked-out sign-ins
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "aftersales.urls"
WSGI_APPLICATION = "aftersales.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:inbox"
LOGOUT_REDIRECT_URL = "web:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aftersales.web.context_processors.agent",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'aftersales.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    from aftersales.core.sqlite.checkpoint import init_command

    # WAL + a busy timeout let the web server and the Huey worker share the file safely.
    # SQLITE_WAL_AUTOCHECKPOINT (pages): set by scripts/gunicorn.conf.py for web workers, whose
    # checkpoints run in a thread instead of inside a request's commit (core/sqlite/checkpoint.py).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": init_command(os.environ.get("SQLITE_WAL_AUTOCHECKPOINT", "")),
    }
    # Connections are kept between requests (DB_CONN_MAX_AGE, as on PostgreSQL). A connection per request
    # paid the open, the PRAGMAs and, on closing the database's last connection, a WAL checkpoint: half
    # the CPU of a token API ticket creation and 50 of its 90 ms (bench/RESULTS.md, issue 13 sixth pass).
    # Safe: Django keeps no transaction open between requests; gunicorn's master closes its connections
    # before forking (scripts/gunicorn.conf.py).
elif "postgresql" in DATABASES["default"]["ENGINE"]:
    # No parallel query workers for this application's sessions. Its queries are LIMIT-bound index
    # walks (an inbox page, a detail): when PostgreSQL walks the newest tickets until a page matches
    # (a common search word, a filter on another table), each worker walks until it has a whole
    # page itself, and starting them costs more than the walk: 54 ms parallel vs 19 ms serial for
    # q=Oliveira at 1M tickets (docs/adr/0012-ticket-search.md). A report that needs parallelism
    # can `SET LOCAL max_parallel_workers_per_gather` in its own transaction.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (_options.get("options", "") + " -c max_parallel_workers_per_gather=0").strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    # Attachments go through Django's storage API: swap in an S3-compatible backend
    # (django-storages) by changing this entry only.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Security headers that cost nothing.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
# Behind a TLS proxy that sets X-Forwarded-Proto (and strips it from clients):
# SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    _proxy_header, _comma, _proxy_value = os.environ["SECURE_PROXY_SSL_HEADER"].partition(",")
    SECURE_PROXY_SSL_HEADER = (_proxy_header.strip(), _proxy_value.strip() or "https")
# Reverse proxies in front of the app that append the client address to X-Forwarded-For (nginx
# `proxy_add_x_forwarded_for`, Caddy): the lockouts count per client IP (accounts/lockout.py).
# 0 (default) = clients connect directly and REMOTE_ADDR is theirs.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Content-Security-Policy on every response (django-csp 4). No inline script or style anywhere:
# behaviour lives in web/static/web/app.js (data-* attributes), styles in app.css. Remote images are
# blocked (tracking pixels); attachment responses set their own sandboxing policy.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Sign-in lockouts (django-axes, accounts/lockout.py). 10 wrong passwords for one username from one
# address within 15 minutes lock that username from that address; 50 from one address (any
# usernames) lock the address. The lock lasts 15 minutes after the last failed try, or until an
# admin unlocks. Failures live in the database, so every web process sees them.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
LOGIN_IP_FAILURE_LIMIT = int(os.environ.get("LOGIN_IP_FAILURE_LIMIT", "50"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "aftersales.accounts.lockout.LoginAttemptHandler"
AXES_CLIENT_IP_CALLABLE = "aftersales.accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "aftersales.web.views.account.login_locked_out"
AXES_RESET_ON_SUCCESS = True  # that username from that address only (LoginAttemptHandler)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
# Log failures and lockouts with the username and address tried (logger "axes"; passwords are
# never logged): the operator needs them to see an attack.
AXES_SENSITIVE_PARAMETERS: list[str] = []

# Wrong API tokens: 20 from one address within 10 minutes block that address from using any token
# for 10 minutes, doubling with every new block (up to a day). Counted in the shared cache.
API_TOKEN_FAILURE_LIMIT = int(os.environ.get("API_TOKEN_FAILURE_LIMIT", "20"))
API_TOKEN_FAILURE_WINDOW = int(os.environ.get("API_TOKEN_FAILURE_WINDOW", "600"))

# Encryption at rest of store credentials. Comma-separated Fernet keys: the first encrypts,
# all decrypt (rotation: prepend a new key, run `aftersales rotate_credentials`, drop the old one).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")

# Uploads
# One file, and all the files of one message together (the service checks both: inbox/services/common.py).
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
ATTACHMENT_MAX_TOTAL_BYTES = int(os.environ.get("ATTACHMENT_MAX_TOTAL_BYTES", str(50 * 1024 * 1024)))
# What buyers send, each verified by content (inbox/attachment_types.py); remove a type to refuse it.
ATTACHMENT_ALLOWED_TYPES = [
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/gif",
    "image/heic",
    "application/pdf",
    "text/plain",
    "audio/ogg",
    "audio/mpeg",
    "audio/mp4",
    "audio/aac",
    "audio/x-wav",
    "audio/amr",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/3gpp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
]
# A request body (JSON with base64 attachments: 4/3 of their size) must fit a message's attachments at
# their total limit, with 1 MiB for the rest of the body. Put the same limit (or more) in front, e.g.
# nginx's client_max_body_size.
DATA_UPLOAD_MAX_MEMORY_SIZE = -(-ATTACHMENT_MAX_TOTAL_BYTES * 4 // 3) + 1024 * 1024

# Channels (sync engine): a store's endpoint_url replaces its connector's default endpoint only
# when this is on and the URL's host is loopback (the local fake platforms of tests and the demo).
CHANNELS_ALLOW_ENDPOINT_OVERRIDE = env_bool("CHANNELS_ALLOW_ENDPOINT_OVERRIDE", DEBUG)
CHANNELS_WEBHOOK_MAX_BYTES = int(os.environ.get("CHANNELS_WEBHOOK_MAX_BYTES", str(1024 * 1024)))
# Processed raw records older than this are deleted daily (channels/retention.py); quarantined ones stay.
CHANNELS_RAW_RETENTION_DAYS = int(os.environ.get("CHANNELS_RAW_RETENTION_DAYS", "90"))

# Task queue: SqliteHuey embedded by default, RedisHuey when REDIS_URL is set.
REDIS_URL = os.environ.get("REDIS_URL", "")
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": os.environ.get("HUEY_NAME", "aftersales"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "results": False,  # tasks record their outcome in the database, not in the queue
        "consumer": {"workers": int(os.environ.get("HUEY_WORKERS", "2")), "worker_type": "thread"},
    }
else:
    # Without Redis, huey.storage must not import redis (with cryptography's bindings: ~20 MiB per process).
    import_without("huey.storage", "redis")
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "aftersales",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "results": False,  # tasks record their outcome in the database, not in the queue
        # SQLite is polled: keep the idle backoff short so a reply leaves within a second or two.
        "consumer": {
            "workers": int(os.environ.get("HUEY_WORKERS", "2")),
            "worker_type": "thread",
            "max_delay": 1.0,
        },
    }

# The cache holds counters every web process must share (wrong-token back-off, translation
# providers marked down): Redis when REDIS_URL is set, else files under var/cache (shared by the
# gunicorn processes of one machine; a process-local memory cache would let each process count
# alone).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "1025"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 15
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "aftersales@localhost")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Structured logs: one JSON object per line on stderr.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "aftersales.core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "ts", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "huey": {"level": "INFO"},
        # httpx logs every request's full URL at INFO, presigned S3 URLs (Amazon's report and feed
        # documents) with their signature included: the connectors log their calls themselves.
        "httpx": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_MAX_LIMIT = 100

# Outbound webhooks (rules' notify_webhook, notifications.webhooks): https only unless WEBHOOKS_ALLOW_HTTP;
# private/loopback/link-local/reserved addresses refused unless inside WEBHOOKS_ALLOWED_NETWORKS (CIDRs).
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", False)
WEBHOOKS_ALLOWED_NETWORKS = env_list("WEBHOOKS_ALLOWED_NETWORKS", "")
# Triage's optional LLM provider (docs/adr/0023): the same checks with its own allowlist, so a local
# Ollama/vLLM (e.g. 127.0.0.1/32 with TRIAGE_LLM_ALLOW_HTTP) is the operator's choice, not a tenant's.
TRIAGE_LLM_ALLOW_HTTP = env_bool("TRIAGE_LLM_ALLOW_HTTP", False)
TRIAGE_LLM_ALLOWED_NETWORKS = env_list("TRIAGE_LLM_ALLOWED_NETWORKS", "")
