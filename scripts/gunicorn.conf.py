"""gunicorn settings of `make run` (scripts/run.sh passes the bind address).

Server layout (docs/adr/0014-server-layout.md), chosen by the database DATABASE_URL names: on SQLite 4
processes x 1 thread, on PostgreSQL 2 x 4; WEB_WORKERS / WEB_THREADS override either. Measured with
bench/peer.py --only layout (8 clients creating tickets, 2 cores, the layouts interleaved in one run): on
SQLite (one writer at a time) single-threaded processes had the shorter tail in every run and the same
throughput or more in the last three, and 2 x 4 used the most CPU per request (GIL and lock retries); on
PostgreSQL 2 x 4 matched 4 x 4's throughput with 13% less CPU per request and a shorter tail in the
latest run (4 x 4 won the one before: both runs on a loaded machine), with half the processes' memory.
The worker class is gthread's (threads=1 included): it answers over-long request lines in JSON.

limit_request_line is gunicorn's maximum, 8190: a line between 4094 and 8190 bytes reaches Django, where
aftersales.core.middleware.UriLengthMiddleware answers 414 in the API's JSON error shape under /api/; a
longer one is refused by gunicorn itself, and our worker class (aftersales.core.gunicorn_worker) answers
that 414 in the API's JSON shape too, instead of gunicorn's HTML page (tests/fuzz/test_gunicorn_limits.py)."""

import os

# The layout per database (processes, threads per process) when WEB_WORKERS / WEB_THREADS are not set:
# make run serves whichever DATABASE_URL names (no DATABASE_URL: SQLite). See ADR 0014 for the figures.
LAYOUTS = {"sqlite": (4, 1), "postgresql": (2, 4)}
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "postgis")


def database_kind(url: str) -> str:
    return "postgresql" if url.split(":", 1)[0].lower() in POSTGRES_SCHEMES else "sqlite"


database = database_kind(os.environ.get("DATABASE_URL", ""))
workers = int(os.environ.get("WEB_WORKERS") or LAYOUTS[database][0])
threads = int(os.environ.get("WEB_THREADS") or LAYOUTS[database][1])
worker_class = "aftersales.core.gunicorn_worker.JsonErrorThreadWorker"
timeout = 60
# The application logs one line per request itself (aftersales.core.middleware.RequestIdMiddleware:
# method, path, status, duration, request id); gunicorn's access log would be a second line for each.
# WEB_ACCESS_LOG=1 turns it on (on standard output).
accesslog = "-" if os.environ.get("WEB_ACCESS_LOG", "") in ("1", "true", "yes") else None
errorlog = "-"
loglevel = "info"
limit_request_line = 8190

# SQLite's WAL checkpoints (issue 13, p99 of creation; aftersales/core/sqlite/checkpoint.py): a web worker's
# commits no longer copy the log into the database file (one ticket creation in ~18 paid that, fsync included:
# commit p99 51 ms); a thread in each worker checkpoints every second instead. Set before the application is
# imported (settings/base.py reads it); the Huey worker started by run.sh keeps SQLite's default of 1,000 pages.
# 10,000 pages (~40 MB of log) bound the log should the threads fall behind.
if database == "sqlite":
    os.environ.setdefault("SQLITE_WAL_AUTOCHECKPOINT", "10000")


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    if database == "sqlite":
        from aftersales.core.sqlite.checkpoint import start_web_checkpointer

        start_web_checkpointer()


# Memory (issue 13; bench/RESULTS.md "Issue 13, third pass"): the application is imported once, in the
# master, and the workers are forked from it, so the imported code and data stay shared pages between
# the workers (copy-on-write) instead of one copy each; gc.freeze() before each fork keeps the garbage
# collector from writing to those objects (which would copy their pages). Measured on 2 workers: each
# worker's unique memory (USS) -38%, proportional share (PSS) -27%; the RSS each worker shows, which
# counts shared pages, hardly changes. Database connections the master may have opened while importing
# are closed before forking: a worker never shares a connection with another process.
# WEB_PRELOAD=0: every worker imports the application itself (e.g. to reload code with HUP).
preload_app = os.environ.get("WEB_PRELOAD", "1") not in ("0", "false", "no")


def pre_fork(server, worker):  # type: ignore[no-untyped-def]
    if not preload_app:
        return
    import gc

    from django.db import connections

    preload_shared()
    connections.close_all()
    from huey.contrib.djhuey import HUEY

    HUEY.storage.close()  # (SQLite's queue: its schema check's connection is closed already; Redis: no-op)
    # The import's garbage is collected, and the free pages glibc's heap keeps are given back, before the
    # remaining objects are frozen and inherited: every worker starts 1.6 MiB smaller; after a load the
    # largest worker's peak RSS was 1.5-2.1 MiB lower on PostgreSQL (2 x 4, 3 pairs) and 3 MiB lower in the
    # median on SQLite (4 x 1, 4 pairs, noisy) (bench/RESULTS.md, "Issue 13, tenth pass"). No allocator
    # setting: MALLOC_ARENA_MAX=1 lowered the peak RSS but raised each worker's private memory more.
    gc.collect()
    _malloc_trim()
    gc.freeze()


# Modules Django and the application import on a worker's first request rather than at start-up (settings
# name some of them): the ORM's SQL compiler (the first query; on PostgreSQL the URLconf imports it
# already), the session serializer, the message storages (every request, through their middleware) and
# the task definitions of aftersales.core.tasks (enqueued on commit). Imported by each worker, a module's
# objects are that worker's own, and the import writes to inherited objects (module dicts, import caches),
# copying their pages into it: with these imported in the master, a SQLite worker's private memory after
# a creation load was 21 MiB instead of 25.4 and the largest worker's peak RSS 1.3 MiB lower (4 x 1,
# 2 pairs; bench/RESULTS.md, "Fourteenth session, web worker memory").
FIRST_REQUEST_MODULES = ("aftersales.core.tasks",)


def preload_shared() -> None:
    """What every worker would load on its first requests, loaded once in the master so that its pages
    are shared (issue 13, web process memory)."""
    from importlib import import_module

    from django.conf import settings
    from django.db import connections
    from django.template import engines
    from django.urls import get_resolver
    from django.utils.module_loading import import_string

    # The URLconf (every view, router, schema and ninja operation: ~23 MiB) with its reverse map.
    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 (imports the URLconf)
    resolver.reverse_dict  # noqa: B018 (builds the reverse map)
    # The template engines with their tag libraries, loaders and context processors.
    for engine in engines.all():
        django_engine = getattr(engine, "engine", None)
        for name in ("template_libraries", "template_loaders", "template_context_processors"):
            getattr(django_engine, name, None)
    # The ORM's SQL compiler (imported by the first query), sessions and messages, the task definitions.
    import_module(connections["default"].ops.compiler_module)
    import_string(settings.SESSION_SERIALIZER)
    import_string(settings.MESSAGE_STORAGE)
    for name in FIRST_REQUEST_MODULES:
        import_module(name)
    build_api_validators(PREBUILT_API_OPERATIONS)


# The API's operations whose pydantic validators and serialisers the master builds before forking (the
# others are built on first use, in the worker that serves them: aftersales/api/__init__.py, defer_build):
# the inbound message API, the one every worker serves all day (marketplaces' and integrations' traffic).
# Built in the master they cost it next to nothing, and the largest worker's peak RSS after a creation load
# was 0.4 MiB lower (SQLite 4 x 1, 2 pairs). Paths are relative to the API's root, /api/v1.
PREBUILT_API_OPERATIONS = (("POST", "/inbound/messages"),)


def build_api_validators(operations: tuple[tuple[str, str], ...]) -> list[type]:
    """Build the parameter and response models of `operations` ((method, path) pairs) now; returns the
    models built. An operation that does not exist is an error (a renamed path must be renamed here)."""
    from aftersales.api.main import api

    wanted = set(operations)
    built: list[type] = []
    for _prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    if (method, path) not in wanted:
                        continue
                    wanted.discard((method, path))
                    for model in [*operation.models, *operation.response_models.values()]:
                        if isinstance(model, type) and getattr(model, "__pydantic_complete__", True) is False:
                            model.model_rebuild()  # type: ignore[attr-defined]
                            built.append(model)
    if wanted:
        raise LookupError(f"no such API operation: {sorted(wanted)}")
    return built


def _malloc_trim() -> None:
    """glibc's malloc_trim(0): free pages inside the heap go back to the system (no-op elsewhere)."""
    import ctypes

    try:
        trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return
    if trim is not None:
        trim(0)
