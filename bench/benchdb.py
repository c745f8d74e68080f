"""A throwaway database for a benchmark script run on its own (bench/sync_scale.py,
bench/customer_figures.py, bench/ingest.py, bench/returns.py --rma): a new PostgreSQL database on the
given server, or a SQLite file in a temporary folder; the environment of a production-like process
(plus `env`); migrated (unless `setup` is False: the caller sets Django up itself); the PostgreSQL
database dropped at the end."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bench_database(
    pg: str | None, prefix: str, *, env: dict[str, str] | None = None, setup: bool = True
) -> Iterator[None]:
    var_dir = tempfile.mkdtemp(prefix=f"aftersales-bench-{prefix}-")
    db_name = f"aftersales_bench_{prefix}_{os.getpid()}"
    if pg:
        import psycopg

        with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
    url = f"{pg}/{db_name}" if pg else f"sqlite:///{var_dir}/bench.sqlite3"
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="aftersales.settings.production",
        SECRET_KEY="aftersales-bench-not-a-secret-" + "x" * 30,
        AFTERSALES_VAR_DIR=var_dir,
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        HUEY_IMMEDIATE="0",
        **(env or {}),
    )
    try:
        if setup:
            import django

            django.setup()
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
        yield
    finally:
        if pg:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
