"""Two ways in: the browser session (CSRF-checked for unsafe methods) or a personal API token sent
as `Authorization: Bearer <token>`. A request that carries an Authorization header is judged by
that header alone: a wrong or revoked token is refused even if a session cookie came along."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from aftersales.accounts.models import User
from aftersales.accounts.selectors import user_for_token

from .errors import CsrfFailed

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class TokenAuth(HttpBearer):
    """`Authorization: Bearer as_...`: a personal API token (see GET/POST /me/tokens)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token.strip())
        if user is not None:
            request.user = user
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
