"""Helpers of the data-migration tests."""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def applied_apps() -> Apps:
    """The historical models of the migrations applied right now. Migrating one app back also
    unapplies every migration of other apps that depends on the migrations undone (a later app's
    foreign keys), so the state to write old rows with is the applied set, not "the target plus
    every other app's latest migration"."""
    executor = MigrationExecutor(connection)
    return executor.loader.project_state(list(executor.loader.applied_migrations)).apps
