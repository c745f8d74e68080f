"""Two ways in: the browser session (CSRF-checked for unsafe methods) or a personal API token sent
as `Authorization: Bearer <token>`. A request that carries an Authorization header is judged by
that header alone: a wrong or revoked token is refused even if a session cookie came along.

Token scopes are enforced here for every route (docs/adr/0002-api-tokens.md): reading (GET, HEAD,
OPTIONS) needs `read`, anything else `write`; the user gets `token_scopes`, which
accounts.permissions.has_perm applies to every permission check (administering needs `admin`), so
a token never exceeds its scopes nor its user's role. Wrong tokens are counted per client IP
(accounts/lockout.py): past the limit the address gets 429 with Retry-After."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from aftersales.accounts.lockout import client_ip, token_backoff_seconds, token_failure_record
from aftersales.accounts.models import ApiToken, TokenScope, User
from aftersales.accounts.selectors import token_for_secret
from aftersales.core.errors import PermissionDenied

from .errors import CsrfFailed, error_response

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenThrottled(Exception):
    """Too many wrong tokens from this address: answered 429 with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many wrong API tokens")
        self.retry_after = max(1, retry_after)


def token_throttled_response(request: HttpRequest, exc: Any) -> HttpResponse:
    """The API's error shape with Retry-After (registered in main.py)."""
    response = error_response(
        429,
        "throttled",
        f"too many wrong API tokens from your address; retry in {exc.retry_after} seconds",
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


class TokenAuth(HttpBearer):
    """`Authorization: Bearer as_...`: a personal API token (see GET/POST /me/tokens)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        ip = client_ip(request)
        wait = token_backoff_seconds(ip)
        if wait:
            raise TokenThrottled(wait)
        api_token = token_for_secret(token.strip())
        if api_token is None:
            blocked_for = token_failure_record(ip)
            if blocked_for:
                raise TokenThrottled(blocked_for)
            return None
        needed = TokenScope.READ if request.method in READ_METHODS else TokenScope.WRITE
        if needed not in api_token.scopes:
            raise PermissionDenied(
                _("this API token lacks the %(needed)r scope that %(method)s requests need")
                % {"needed": needed, "method": request.method},
                code="insufficient_scope",
            )
        user = api_token.user
        user.token_scopes = frozenset(api_token.scopes)  # type: ignore[attr-defined]
        request.user = user
        request.api_token = api_token  # type: ignore[attr-defined]
        return user


class SessionAuth(APIKeyCookie):
    """The web UI's session. Unsafe methods need the CSRF token in the X-CSRFToken header."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # CSRF is checked in authenticate(), only once we know a session user is there: an
        # anonymous request is "not authenticated" (401), not "CSRF failed" (403).
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if "authorization" in request.headers:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise CsrfFailed()
        return user


def current_user(request: HttpRequest) -> User:
    """The authenticated user of an API request."""
    return request.auth  # type: ignore[attr-defined,no-any-return]


def current_token(request: HttpRequest) -> ApiToken | None:
    """The API token the request was authenticated with; None for a browser session."""
    return getattr(request, "api_token", None)
