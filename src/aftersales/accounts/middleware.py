from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from aftersales.core.middleware import token_api_request

from .audit import audit_via


class UserLanguageMiddleware:
    """Signed-in users get the UI in their own language (zh-Hans or English), for this request only:
    the language active before the request is restored afterwards (translation.override). Token API
    requests are answered in Accept-Language's language: they are judged by their Authorization header alone
    (api/auth.py), a session cookie sent along changes nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Settings changed by this request are audited as changed through the API or the web UI.
        with audit_via("api" if request.path_info.startswith("/api/") else "web"):
            return self._respond(request)

    def _respond(self, request: HttpRequest) -> HttpResponse:
        if token_api_request(request):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            with translation.override(user.language):
                request.LANGUAGE_CODE = translation.get_language()
                return self.get_response(request)
        return self.get_response(request)
