from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation


class UserLanguageMiddleware:
    """Signed-in users get the UI in their own language (zh-Hans or English), for this request only:
    the language active before the request is restored afterwards (translation.override)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            with translation.override(user.language):
                request.LANGUAGE_CODE = translation.get_language()
                return self.get_response(request)
        return self.get_response(request)
