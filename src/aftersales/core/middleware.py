from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
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
