"""Helpers of the data-migration tests."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count

from django.apps.registry import Apps
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import load_backend

_scratch_numbers = count()


def applied_apps() -> Apps:
    """The historical models of the migrations applied right now. Migrating one app back also
    unapplies every migration of other apps that depends on the migrations undone (a later app's
    foreign keys), so the state to write old rows with is the applied set, not "the target plus
    every other app's latest migration"."""
    executor = MigrationExecutor(connection)
    return executor.loader.project_state(list(executor.loader.applied_migrations)).apps


@contextmanager
def scratch_database() -> Iterator[BaseDatabaseWrapper]:
    """An empty database of the test database's kind (a temporary SQLite file, or a PostgreSQL database
    created and dropped here) stands in for the default connection inside the block: the test migrates it
    forward to the state before the migration under test, writes old rows, migrates on. Everything that
    uses the default connection (the ORM, `django.db.connection`, the migrations' RunPython code) reaches
    the scratch database; the test database is left as it was.

    Before, the tests migrated the test database itself back (which unapplied nearly every migration
    of every app) and forward again to the leaves: minutes per test instead of seconds."""
    real = connections[DEFAULT_DB_ALIAS]
    settings_dict = copy.deepcopy(real.settings_dict)
    folder = ""
    quoted = ""
    if real.vendor == "sqlite":
        folder = tempfile.mkdtemp(prefix="aftersales-migration-test-")
        settings_dict["NAME"] = os.path.join(folder, "scratch.sqlite3")
    else:
        name = f"{real.settings_dict['NAME']}_m{os.getpid()}_{next(_scratch_numbers)}"[-63:]
        quoted = real.ops.quote_name(name)
        settings_dict["NAME"] = name
        with real._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")
            cursor.execute(f"CREATE DATABASE {quoted}")
    scratch = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)
    setattr(connections._connections, DEFAULT_DB_ALIAS, scratch)  # Django has no public way
    try:
        yield scratch
    finally:
        setattr(connections._connections, DEFAULT_DB_ALIAS, real)
        scratch.close()
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            with real._nodb_cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
