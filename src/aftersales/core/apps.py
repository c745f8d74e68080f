import os

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "aftersales.core"
    label = "core"

    def ready(self) -> None:
        from django.db import connections

        if any(connections.settings[alias]["ENGINE"].endswith(("sqlite3", "core.sqlite")) for alias in connections):
            from .sqlite import statements

            statements.install()  # SQLite's statement rewriting remembered per text (core/sqlite/statements.py)
            if os.environ.get("SQLITE_LOCK_STATS"):
                from .sqlite import lockstats

                lockstats.install()  # opt-in: write-lock waits and holds per transaction (core/sqlite/lockstats.py)
