"""core.middleware.CSPMiddleware (the policy string built once) answers what django-csp's own middleware
answers: every case runs through both classes and the headers must be equal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from csp.constants import NONCE
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware as StockCSPMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.test import RequestFactory

from aftersales.core.middleware import CSPMiddleware

POLICY = {"DIRECTIVES": {"default-src": ["'self'"], "img-src": ["'self'", "data:"], "frame-ancestors": ["'none'"]}}


def _headers(middleware: type, path: str, view: Callable[[HttpRequest], HttpResponse]) -> dict[str, Any]:
    request = RequestFactory().get(path)
    response = middleware(view)(request)
    try:  # django-csp: once the header is written, asking for a nonce is an error (not after DEBUG's pages)
        str(request.csp_nonce)  # type: ignore[attr-defined]
        late_nonce = "allowed"
    except CSPNonceError:
        late_nonce = "refused"
    return {**response.headers, "late nonce": late_nonce}


def _directives(header: str) -> dict[str, str]:
    """A policy's directives (django-csp joins them in a set's order)."""
    return dict(part.strip().partition(" ")[::2] for part in header.split(";"))


def _same(path: str, view: Callable[[HttpRequest], HttpResponse]) -> dict[str, Any]:
    ours = _headers(CSPMiddleware, path, view)
    stock = _headers(StockCSPMiddleware, path, view)
    assert ours == stock
    return ours


def _response(**attrs: Any) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("ok")
        for name, value in attrs.items():
            if name == "header":
                response["Content-Security-Policy"] = value
            else:
                setattr(response, name, value)
        return response

    return view


def test_the_projects_policy_on_a_plain_response() -> None:
    headers = _same("/api/v1/me", _response())
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "Content-Security-Policy-Report-Only" not in headers
    assert headers["late nonce"] == "refused"


@pytest.mark.parametrize(
    "attrs",
    [
        {"_csp_update": {"form-action": ["https://auth.example.com"]}},  # web/views/settings_sync.py
        {"_csp_replace": {"img-src": ["'self'"]}},
        {"_csp_config": {"default-src": ["'none'"]}},
        {"_csp_exempt": True},
        {"header": "sandbox"},  # a view that set its own policy (attachments)
    ],
)
def test_per_view_changes_exemptions_and_own_headers(attrs: dict[str, Any]) -> None:
    _same("/tickets/1/", _response(**attrs))


def test_report_only_policy_its_exemption_and_excluded_prefixes(settings: Any) -> None:
    settings.CONTENT_SECURITY_POLICY = {**POLICY, "EXCLUDE_URL_PREFIXES": ["/admin/"]}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"script-src": ["'self'", "https://cdn.example"]}}
    headers = _same("/inbox/", _response())
    assert _directives(headers["Content-Security-Policy"])["default-src"] == "'self'"
    assert _directives(headers["Content-Security-Policy-Report-Only"])["script-src"] == "'self' https://cdn.example"
    excluded = _same("/admin/x", _response())
    assert "Content-Security-Policy" not in excluded and "Content-Security-Policy-Report-Only" in excluded
    exempt_ro = _same("/inbox/", _response(_csp_exempt_ro=True))
    assert "Content-Security-Policy" in exempt_ro and "Content-Security-Policy-Report-Only" not in exempt_ro


def test_a_changed_setting_changes_the_header(settings: Any) -> None:
    _same("/", _response())  # (built and kept with the project's policy)
    settings.CONTENT_SECURITY_POLICY = POLICY
    expected = {"default-src": "'self'", "img-src": "'self' data:", "frame-ancestors": "'none'"}
    assert _directives(_same("/", _response())["Content-Security-Policy"]) == expected
    settings.CONTENT_SECURITY_POLICY = {}
    assert "Content-Security-Policy" not in _same("/", _response())


def test_a_nonce_used_by_the_view(settings: Any) -> None:
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": ["'self'", NONCE]}}
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(str(request.csp_nonce))  # type: ignore[attr-defined]
        return HttpResponse("ok")

    ours = _headers(CSPMiddleware, "/", view)
    stock = _headers(StockCSPMiddleware, "/", view)
    assert _directives(ours["Content-Security-Policy"])["script-src"] == f"'self' 'nonce-{seen[0]}'"
    assert _directives(stock["Content-Security-Policy"])["script-src"] == f"'self' 'nonce-{seen[1]}'"
    assert "nonce" not in _same("/", _response())["Content-Security-Policy"]  # no nonce asked: none sent


def test_debug_error_pages_left_alone(settings: Any) -> None:
    settings.DEBUG = True
    page = _same("/nope", lambda request: HttpResponseNotFound("no"))
    assert "Content-Security-Policy" not in page and page["late nonce"] == "allowed"
    assert "Content-Security-Policy" in _same("/", _response())
