"""API-only URLconf used by the benchmark when the project URLconf does not import (see benchapp.py)."""

from django.urls import include, path

from aftersales.core.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("api/v1/", include("aftersales.api.urls")),
]
