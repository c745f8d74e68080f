from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

import django_htmx.middleware as _htmx
from csp import middleware as _csp
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.contrib.auth import middleware as _auth
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import middleware as _messages
from django.contrib.sessions import middleware as _sessions
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware import csrf as _csrf
from django.middleware import locale as _locale
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from .logging import request_id_var

logger = logging.getLogger("aftersales.request")


class RequestIdMiddleware:
    """Tags each request with an id (X-Request-ID in and out) and logs one line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if incoming.isascii() and 0 < len(incoming) <= 64 else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


# gunicorn refuses request lines longer than its limit_request_line with its own HTML page; scripts/
# gunicorn.conf.py raises that limit to gunicorn's maximum (8190) and this middleware answers the lines
# in between, so that an API client gets the API's JSON error shape for a URI that is too long.
MAX_URI_LENGTH = 4094  # gunicorn's default request-line limit: what the API has always accepted


class UriLengthMiddleware:
    """414 for a request URI (path and query string) longer than MAX_URI_LENGTH bytes: in the API's
    error shape under /api/, a short text elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.limit = int(getattr(settings, "MAX_URI_LENGTH", MAX_URI_LENGTH))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw_uri = request.META.get("RAW_URI") or request.get_full_path()  # RAW_URI: as gunicorn read it
        if len(raw_uri.encode("utf-8", "surrogateescape")) <= self.limit:
            return self.get_response(request)
        message = _("The address (path and query string) is longer than %(limit)d characters.") % {"limit": self.limit}
        if request.path_info.startswith("/api/"):
            body = {"error": {"code": "uri_too_long", "message": message, "field": None}}
            return JsonResponse(body, status=414, content_type="application/json; charset=utf-8")
        return HttpResponse(message, status=414, content_type="text/plain; charset=utf-8")


# --- The token-authenticated API skips what only the browser UI needs (issue 13) -------------------------
#
# A request under /api/ that carries an Authorization header is judged by that header alone
# (api/auth.py: a wrong token is refused even with a session cookie), so the session, the session's user
# and language, CSRF's cookie bookkeeping, flash messages and htmx's request details are never used by
# it: these middlewares step aside for it (~9% of such a request's CPU; bench/RESULTS.md). Everything
# else still runs for it: request id and logging, security headers, the URI limit, CSP, the locale from
# Accept-Language, X-Frame-Options, the sign-in lockout, and CSRF's view check (process_view) for any
# view not exempt. The web UI, the API docs and session-authenticated API calls go through all of them.


def token_api_request(request: HttpRequest) -> bool:
    """A request to the API carrying an Authorization header (a token, right or wrong)."""
    return "HTTP_AUTHORIZATION" in request.META and request.path_info.startswith("/api/")


class _UiOnly:
    """Mixin for a middleware (before its class in the bases): not run for token_api_request()s."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if token_api_request(request):
            return self.get_response(request)  # type: ignore[attr-defined,no-any-return]
        return super().__call__(request)  # type: ignore[misc,no-any-return]


class SessionMiddleware(_UiOnly, _sessions.SessionMiddleware):
    """Django's, except for token API requests (no session is read or written for them)."""


class CsrfViewMiddleware(_UiOnly, _csrf.CsrfViewMiddleware):
    """Django's, except for token API requests: no CSRF cookie is read or set for them. Its view check
    (process_view) still runs for every request: a view that is not csrf_exempt keeps its protection."""


class AuthenticationMiddleware(_UiOnly, _auth.AuthenticationMiddleware):
    """Django's; a token API request starts as anonymous (no session lookup) and api/auth.py's TokenAuth
    sets the token's user."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if token_api_request(request):
            request.user = AnonymousUser()
            return self.get_response(request)  # type: ignore[return-value]
        return super().__call__(request)


class MessageMiddleware(_UiOnly, _messages.MessageMiddleware):
    """Django's, except for token API requests (the API answers in JSON, no flash messages)."""


class HtmxMiddleware(_UiOnly, _htmx.HtmxMiddleware):
    """django-htmx's, except for token API requests (request.htmx is the web UI's)."""


class LocaleMiddleware(_locale.LocaleMiddleware):
    """Django's LocaleMiddleware without its URL-prefix work when the URLconf has no i18n_patterns (this
    project's): the same language (cookie, then Accept-Language, then LANGUAGE_CODE), the same
    Content-Language and Vary headers. Django's looks for a language code in every request's path twice,
    an uncached miss each time (~4% of an API request's CPU)."""

    def process_request(self, request: HttpRequest) -> None:
        if _language_prefixes(request):
            return super().process_request(request)  # type: ignore[no-any-return]
        translation.activate(translation.get_language_from_request(request))
        request.LANGUAGE_CODE = translation.get_language()
        return None

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if _language_prefixes(request):
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def _language_prefixes(request: HttpRequest) -> bool:
    return bool(is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))[0])


# --- Content-Security-Policy: the header string built once per policy (issue 13) ---------------------------
#
# django-csp builds the policy string from the settings for every response, twice (the policy and the
# report-only one: a fresh copy of ~30 directives, dataclasses.asdict, joins): ~4% of a token API request's
# CPU, for the same string every time. Here a response that carries no per-view change of the policy
# (csp.decorators' _csp_config/_csp_update/_csp_replace, plain or _ro) and whose request used no nonce gets
# the strings built once per process (again when a CONTENT_SECURITY_POLICY* setting changes: tests); any
# other response goes through django-csp's own process_response. The same headers either way: exempt
# responses, EXCLUDE_URL_PREFIXES, a header the view set itself and DEBUG's 404/500 pages are handled as
# django-csp does (core/tests/test_csp_middleware.py compares the two).

_CUSTOM_POLICY_ATTRS = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
_policies: dict[bool, str] = {}  # report_only -> the header's value ("" = no header)


def _policy(report_only: bool) -> str:
    value = _policies.get(report_only)
    if value is None:
        value = _policies[report_only] = build_policy(report_only=report_only)
    return value


@receiver(setting_changed)
def _policy_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _policies.clear()


class CSPMiddleware(_csp.CSPMiddleware):
    """django-csp's, with the policy strings made once (see above)."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, attr, None) is not None for attr in _CUSTOM_POLICY_ATTRS
        ):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:  # (django-csp leaves Django's debug pages alone)
            return response
        for header, setting, exempt_attr, report_only in (
            (HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt", False),
            (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro", True),
        ):
            value = _policy(report_only)
            if not value or header in response or getattr(response, exempt_attr, False) is not False:
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = value
        # As django-csp: once the header is written, reading request.csp_nonce is an error.
        request.csp_nonce = _csp.CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
