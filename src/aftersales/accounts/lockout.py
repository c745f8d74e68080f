"""Brute-force protection: sign-in lockouts (django-axes) and the back-off on wrong API tokens.

Sign-in (the agent UI's login and the Django admin's) goes through django-axes, configured in
settings (`AXES_*`). Failures are stored in the database (axes' `AccessAttempt`, so every gunicorn
process sees them) and counted two ways:
- per username and client IP: `AXES_FAILURE_LIMIT` failures within `AXES_COOLOFF_TIME` lock that
  username from that address (a guesser cannot lock a user out everywhere);
- per client IP, over every username: `LOGIN_IP_FAILURE_LIMIT` failures lock the address (password
  spraying).
While locked, even the right password is refused, with the lockout page. The lockout ends by itself
after the cool-off, or earlier when someone unlocks: the installation's operator in the Django admin
(axes' "Access attempts": delete the rows), an organization's admin for their own users
(`user_unlock`, in Settings → Security or `DELETE /api/v1/security/lockouts/{user_id}`).

Wrong API tokens are counted per client IP in the shared cache (`token_failure_record`); past
`API_TOKEN_FAILURE_LIMIT` failures within `API_TOKEN_FAILURE_WINDOW` seconds the address is refused
any token (429 with Retry-After) for a back-off that doubles with each new block, up to a day.

Every failure, lockout and unlock is logged (logger `axes` and `aftersales.security`)."""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import NotFound

from .models import Permission, User
from .permissions import check_perm

logger = logging.getLogger("aftersales.security")


# ---------------------------------------------------------------------------------------------
# Who is knocking


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address. Behind `TRUSTED_PROXY_COUNT` reverse proxies it is read from
    X-Forwarded-For, counting from the right (the entries the proxies appended themselves), so a
    client cannot pick its address by sending that header; otherwise REMOTE_ADDR. Anything that
    is not an IP address counts as None."""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    candidate = request.META.get("REMOTE_ADDR", "")
    if proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate.strip()))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Sign-in lockouts (django-axes)


class LoginLockoutBackend(AxesStandaloneBackend):
    """First of AUTHENTICATION_BACKENDS: refuses a sign-in while its username+IP or IP is locked.

    A call without a request (management commands, scripts, `Client.login` in tests) is not a
    sign-in from the network and is left to the next backend: every web sign-in form (ours and the
    Django admin's) passes the request."""

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)  # type: ignore[no-any-return]


class LoginAttemptHandler(AxesDatabaseHandler):
    """axes' database handler with two thresholds: `AXES_LOCKOUT_PARAMETERS` lists the
    username+IP combination first and the IP second; the IP count locks at
    `LOGIN_IP_FAILURE_LIMIT` rather than `AXES_FAILURE_LIMIT`."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        counts = [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        if len(counts) < 2:
            return max(counts, default=0)
        per_user_ip, per_ip = counts[0], counts[1]
        limit = settings.AXES_FAILURE_LIMIT
        ip_limit = max(getattr(settings, "LOGIN_IP_FAILURE_LIMIT", limit), limit)
        # Scaled so that the IP count reaches `limit` exactly when it reaches `ip_limit`.
        return max(per_user_ip, per_ip * limit // ip_limit)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """After a successful sign-in (AXES_RESET_ON_SUCCESS) forget that username's failures from
        that address only: signing in with one account must not clear the IP's count."""
        username = (credentials or {}).get(str(getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")))
        count, _ = AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()  # type: ignore[attr-defined]
        return count


@dataclass(frozen=True)
class LockoutStatus:
    """A user's recent failed sign-ins (within the cool-off) and whether they lock them out."""

    user_id: int
    username: str
    display_name: str
    failures: int  # within the cool-off, all addresses together
    locked: bool  # locked from at least one address
    locked_until: datetime | None
    ip_addresses: tuple[str, ...]
    last_failure_at: datetime | None


def _cool_off() -> timedelta:
    value = settings.AXES_COOLOFF_TIME
    return value if isinstance(value, timedelta) else timedelta(hours=float(value))


def _statuses(users: list[User]) -> list[LockoutStatus]:
    by_name = {u.username: u for u in users}
    if not by_name:
        return []
    since = timezone.now() - _cool_off()
    rows = (
        AccessAttempt.objects.filter(username__in=list(by_name), attempt_time__gte=since)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"))
        .order_by()
    )
    last = {
        row["username"]: row["attempt_time"]
        for row in AccessAttempt.objects.filter(username__in=list(by_name), attempt_time__gte=since)
        .values("username", "attempt_time")
        .order_by("attempt_time")
    }
    per_user: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        per_user.setdefault(row["username"], []).append((row["ip_address"] or "?", row["failures"] or 0))
    statuses = []
    for username, per_ip in sorted(per_user.items()):
        user = by_name[username]
        locked = any(count >= settings.AXES_FAILURE_LIMIT for _, count in per_ip)
        last_at = last.get(username)
        statuses.append(
            LockoutStatus(
                user_id=user.pk,
                username=username,
                display_name=str(user),
                failures=sum(count for _, count in per_ip),
                locked=locked,
                locked_until=last_at + _cool_off() if locked and last_at else None,
                ip_addresses=tuple(sorted(ip for ip, _ in per_ip)),
                last_failure_at=last_at,
            )
        )
    return statuses


def lockout_status(user: User) -> LockoutStatus:
    """The user's recent failed sign-ins and whether they are locked out (from some address)."""
    found = _statuses([user])
    if found:
        return found[0]
    return LockoutStatus(user.pk, user.username, str(user), 0, False, None, (), None)


def lockouts_of_organization(actor: User) -> list[LockoutStatus]:
    """Users of the actor's organization with failed sign-ins within the cool-off, locked ones
    first. Organization admins only."""
    check_perm(actor, Permission.ADMINISTER)
    users = list(User.objects.filter(organization=actor.organization))
    return sorted(_statuses(users), key=lambda s: (not s.locked, s.username))


def user_unlock(*, actor: User, user_id: int) -> int:
    """An organization admin clears the failed sign-ins of one of their users (every address),
    which ends a lockout at once. Returns how many attempt records were cleared. A user of another
    organization is "not found". Logged with who unlocked whom."""
    check_perm(actor, Permission.ADMINISTER)
    target = User.objects.filter(pk=user_id, organization=actor.organization).first()
    if target is None:
        raise NotFound(_("user not found"), field="user_id")
    cleared = reset(username=target.username)
    logger.warning(
        "sign-in lockout cleared",
        extra={
            "event": "login_unlock",
            "actor_id": actor.pk,
            "organization_id": actor.organization_id,
            "user_id": target.pk,
            "cleared_attempts": cleared,
        },
    )
    return cleared


# ---------------------------------------------------------------------------------------------
# Wrong API tokens: per-IP back-off in the shared cache

_COUNT = "apitoken-fail:count:{ip}"
_BLOCK = "apitoken-fail:block:{ip}"  # value: unix time the block ends
_STRIKES = "apitoken-fail:strikes:{ip}"
MAX_BACKOFF_SECONDS = 24 * 3600


def token_backoff_seconds(ip: str | None) -> int:
    """Seconds this address must still wait before presenting any token (0: not blocked)."""
    until = cache.get(_BLOCK.format(ip=ip or "unknown"))
    if not until:
        return 0
    return max(0, math.ceil(float(until) - time.time()))


def token_failure_record(ip: str | None) -> int:
    """Count a wrong token from this address. Past the limit within the window the address is
    blocked; each block doubles the previous one (within a day), up to a day. Returns the block's
    length in seconds (0: not blocked)."""
    key = ip or "unknown"
    limit = int(settings.API_TOKEN_FAILURE_LIMIT)
    window = int(settings.API_TOKEN_FAILURE_WINDOW)
    count_key = _COUNT.format(ip=key)
    cache.add(count_key, 0, timeout=window)
    try:
        count = cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(count_key, 1, timeout=window)
        count = 1
    if count < limit:
        return 0
    strikes_key = _STRIKES.format(ip=key)
    cache.add(strikes_key, 0, timeout=MAX_BACKOFF_SECONDS)
    try:
        strikes = cache.incr(strikes_key)
    except ValueError:
        cache.set(strikes_key, 1, timeout=MAX_BACKOFF_SECONDS)
        strikes = 1
    seconds = min(window * 2 ** (strikes - 1), MAX_BACKOFF_SECONDS)
    cache.set(_BLOCK.format(ip=key), time.time() + seconds, timeout=seconds)
    cache.delete(count_key)
    logger.warning(
        "wrong API tokens: address blocked",
        extra={"event": "api_token_backoff", "ip": key, "failures": count, "seconds": seconds},
    )
    return seconds
