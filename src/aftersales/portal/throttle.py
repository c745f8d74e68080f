"""A per-address request budget for the public pages (no login: the only brake on someone trying
links or flooding ratings). A fixed window counted in the cache."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from aftersales.accounts.lockout import client_ip

WINDOW_SECONDS = 60


def over_budget(request: HttpRequest, *, scope: str) -> bool:
    """Count this request; True once the address made more than PORTAL_RATE_LIMIT requests to
    `scope` in the current minute."""
    limit = int(getattr(settings, "PORTAL_RATE_LIMIT", 30))
    key = f"portal:{scope}:{client_ip(request) or 'unknown'}"
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        count = 1
    return count > limit
