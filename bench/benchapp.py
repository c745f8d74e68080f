"""Prepare the Django app for measuring: the project's URLconf when it imports, otherwise an
API-only URLconf (bench_urls.py: /health and /api/v1, the paths measured), so that work in
progress elsewhere in the web UI does not stop the API benchmark. The run says which was used."""

from __future__ import annotations


def prepare() -> str:
    from django.conf import settings

    try:
        import aftersales.urls  # noqa: F401
    except Exception as exc:  # report and fall back; the API path itself is the same
        settings.ROOT_URLCONF = "bench_urls"
        used = f"API-only URLconf (bench/bench_urls.py; the project URLconf failed: {type(exc).__name__}: {exc})"
    else:
        used = "project URLconf"
    return used


def wsgi_application():  # type: ignore[no-untyped-def]
    import django
    from django.core.handlers.wsgi import WSGIHandler

    django.setup(set_prefix=False)
    prepare()
    return WSGIHandler()
