"""aftersales.core.lean_imports: optional dependencies kept out of a process, put back afterwards.

Run in subprocesses: the modules involved are imported once per interpreter (the test process has them)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from aftersales.core.lean_imports import import_without


def _python(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | env
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=environment, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_library_takes_its_not_installed_branch_and_the_module_stays_importable() -> None:
    out = _python(
        """
        import sys
        from aftersales.core.lean_imports import import_without
        import_without("huey.storage", "redis")
        import huey.storage
        print(huey.storage.ConnectionPool is None, "redis" in sys.modules)
        import redis  # a later import gets the real module
        print(redis.Redis.__name__)
        """
    )
    assert out.splitlines() == ["True False", "Redis"]


def test_web_settings_leave_out_redis_and_httpx_cli_without_redis_url() -> None:
    out = _python(
        """
        import sys, django
        django.setup()
        import aftersales.urls, httpx, huey.api
        from django.conf import settings
        from huey.contrib.djhuey import HUEY
        left = [m for m in ("redis", "httpx._main", "click", "rich", "pygments", "django.test", "unittest")
                if m in sys.modules]
        print(left, type(HUEY).__name__, callable(httpx.main), httpx.Client.__name__)
        # ninja's receiver still follows NINJA_* setting changes (django.test.signals loaded alone)
        from django.core.signals import setting_changed
        import ninja.conf
        setting_changed.send(sender=None, setting="NINJA_PAGINATION_PER_PAGE", value=7, enter=True)
        print(sys.modules["django.test.signals"].setting_changed is setting_changed)
        # the package imported later (as tests do) works and reuses the same submodule
        signals = sys.modules["django.test.signals"]
        from django.test import Client, signals as again, override_settings
        with override_settings(NINJA_PAGINATION_PER_PAGE=7):
            print(ninja.conf.settings.PAGINATION_PER_PAGE, again is signals, Client.__name__)
        """,
        DJANGO_SETTINGS_MODULE="aftersales.settings.test",
    )
    assert out.splitlines()[-3:] == ["[] SqliteHuey True Client", "True", "7 True Client"]


def test_redis_url_keeps_redis_for_huey() -> None:
    out = _python(
        """
        import django
        django.setup()
        import huey.storage
        from huey.contrib.djhuey import HUEY
        print(huey.storage.ConnectionPool is not None, type(HUEY).__name__)
        """,
        DJANGO_SETTINGS_MODULE="aftersales.settings.test",
        REDIS_URL="redis://127.0.0.1:6399/15",
    )
    assert out.splitlines()[-1] == "True RedisHuey"


def test_no_effect_when_already_imported() -> None:
    import json

    assert import_without("json", "json.decoder") is json
    assert "json.decoder" in sys.modules


def test_missing_module_gives_none() -> None:
    assert import_without("aftersales_no_such_module", "redis") is None
    assert sys.modules.get("redis", 0) is not None


def test_httpx_loads_when_first_used_without_its_cli() -> None:
    out = _python(
        """
        import sys, django
        django.setup()
        import aftersales.urls, aftersales.channels.http, aftersales.notifications.outbox
        print("httpx" in sys.modules)
        import httpx
        print("httpx._main" in sys.modules, httpx.Client.__name__, httpx.__spec__.loader is httpx.__loader__)
        """,
        DJANGO_SETTINGS_MODULE="aftersales.settings.test",
    )
    assert out.splitlines()[-2:] == ["False", "False Client True"]
