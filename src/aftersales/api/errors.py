"""Every error the API returns has one shape:

    {"error": {"code": "...", "message": "...", "field": "..." | null}}

Domain errors keep their status code, code and field; ninja's own errors (authentication, request
validation, unparsable bodies) and Django's (oversized requests, unknown routes, wrong methods) are
translated here so that a client never has to parse two formats, and bad input never becomes a 500."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from aftersales.core.errors import DomainError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json; charset=utf-8"

# The body parameter of every operation is called `payload`: it is not part of the field names.
BODY_PARAM = "payload"


class MalformedBody(ValueError):
    """The request body is not a JSON object."""


class UnsupportedMediaType(DomainError):
    """The body is not in a format the operation reads (e.g. not CSV)."""

    status_code = 415
    code = "unsupported_media_type"


class PayloadTooLarge(DomainError):
    """An uploaded file is larger than the operation accepts."""

    status_code = 413
    code = "request_too_large"


class CsrfFailed(HttpError):
    def __init__(self) -> None:
        super().__init__(403, "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header")


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def error_response(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, field), status=status, content_type=JSON_CONTENT_TYPE)


def field_of(loc: tuple[Any, ...] | list[Any]) -> str | None:
    """("body", "payload", "attachments", 0, "content_base64") -> "attachments[0].content_base64";
    ("query", "limit") -> "limit"; ("body", "payload") -> "body"."""
    parts = list(loc)
    source = parts.pop(0) if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"} else None
    if source == "body" and parts and parts[0] == BODY_PARAM:
        parts.pop(0)
    if not parts:
        return source
    out = ""
    for part in parts:
        if isinstance(part, str) and _is_type_tag(part):
            break  # pydantic names the union member that failed ("str", "list[str]"): not a field
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or None


_TYPE_NAMES = frozenset({"str", "int", "bool", "float", "none", "dict", "list", "tuple", "set", "bytes"})


def _is_type_tag(part: str) -> bool:
    return part in _TYPE_NAMES or any(c in part for c in "[(-")


def _validation_message(error: dict[str, Any], field: str | None) -> str:
    message = str(error.get("msg", "invalid value"))
    if error.get("type") == "extra_forbidden":
        message = "unknown field"
    elif error.get("type") == "missing":
        message = "this field is required"
    message = message.removeprefix("Value error, ")
    return f"{field}: {message}" if field else message


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return error_response(exc.status_code, exc.code, exc.message, exc.field)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        first = exc.errors[0] if exc.errors else {}
        field = field_of(first.get("loc", ()))
        return error_response(422, "validation_error", _validation_message(first, field), field)

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = error_response(
            401, "not_authenticated", "sign in or send an API token as 'Authorization: Bearer <token>'"
        )
        response["WWW-Authenticate"] = 'Bearer realm="aftersales"'
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc, CsrfFailed):
            return error_response(403, "csrf_failed", exc.message)
        if exc.status_code == 400 and isinstance(exc.__cause__, Exception):
            # ninja wraps any failure to parse the body in HttpError(400)
            cause = exc.__cause__
            detail = str(cause) if isinstance(cause, MalformedBody) else "the request body is not valid JSON"
            return error_response(400, "malformed_body", detail, "body")
        codes = {403: "permission_denied", 404: "not_found", 429: "throttled"}
        return error_response(exc.status_code, codes.get(exc.status_code, "error"), exc.message)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(404, "not_found", "not found")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return error_response(413, "request_too_large", "the request body is too large", "body")

    @api.exception_handler(MultiPartParserError)
    def unreadable_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        # e.g. "multipart/form-data" without a boundary: the client's mistake, not ours
        return error_response(400, "malformed_body", f"the multipart/form-data body cannot be read: {exc}", "body")

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return error_response(400, "bad_request", "the request was refused as malformed")

    @api.exception_handler(DjangoValidationError)
    def django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return error_response(422, "validation_error", "; ".join(exc.messages))

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled API error", extra={"path": request.path})
        return error_response(500, "server_error", "an unexpected error occurred; it has been logged")


def json_errors_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a URL callback of the API: Http404 and plain 405 responses become JSON errors."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return error_response(404, "not_found", f"no API route {request.path}")
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(JSON_CONTENT_TYPE):
            allowed = response.get("Allow", "")
            json_response = error_response(
                405, "method_not_allowed", f"{request.method} is not allowed here; allowed: {allowed}"
            )
            json_response["Allow"] = allowed
            return json_response
        return response

    wrapped.csrf_exempt = True  # type: ignore[attr-defined]
    return wrapped


def unknown_route(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return error_response(404, "not_found", f"no API route {request.path}")


unknown_route.csrf_exempt = True  # type: ignore[attr-defined]
