"""Token-authenticated API requests skip the UI's middlewares (core/middleware.py); nothing else changes.

Each scenario runs twice, through the project's MIDDLEWARE and through Django's and django-htmx's own
classes in their place (what the project had before): same status, same headers (values included; the
request id and random cookie values aside), same JSON body. The UI pages, the API docs and
session-authenticated API calls go through every middleware; a token request is still refused or answered
as before, with its security headers (CSP, X-Frame-Options, nosniff, Referrer-Policy) and its language."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from aftersales.accounts.services import api_token_create
from aftersales.core.middleware import token_api_request

STOCK = {
    "aftersales.core.middleware.SessionMiddleware": "django.contrib.sessions.middleware.SessionMiddleware",
    "aftersales.core.middleware.LocaleMiddleware": "django.middleware.locale.LocaleMiddleware",
    "aftersales.core.middleware.CsrfViewMiddleware": "django.middleware.csrf.CsrfViewMiddleware",
    "aftersales.core.middleware.AuthenticationMiddleware": "django.contrib.auth.middleware.AuthenticationMiddleware",
    "aftersales.core.middleware.MessageMiddleware": "django.contrib.messages.middleware.MessageMiddleware",
    "aftersales.core.middleware.HtmxMiddleware": "django_htmx.middleware.HtmxMiddleware",
    "aftersales.core.middleware.CSPMiddleware": "csp.middleware.CSPMiddleware",
}
VOLATILE = {"X-Request-ID", "Expires"}  # (Expires: the clock's second; present in both or neither)


def _answer(response: Any) -> dict[str, Any]:
    headers = {
        k: "?" if k in VOLATILE else re.sub(r"'nonce-[^']+'", "'nonce-?'", v) for k, v in response.headers.items()
    }
    body: Any = None
    if headers.get("Content-Type", "").startswith("application/json"):
        body = response.json()
    return {"status": response.status_code, "headers": headers, "cookies": sorted(response.cookies), "body": body}


def _both(settings: Any, scenario: Callable[[Client], Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    project = list(django_settings.MIDDLEWARE)
    assert set(STOCK) <= set(project)
    ours = _answer(scenario(Client()))
    settings.MIDDLEWARE = [STOCK.get(m, m) for m in project]
    stock = _answer(scenario(Client()))
    settings.MIDDLEWARE = project
    return ours, stock


@pytest.fixture
def token(world: Any) -> str:
    _, raw = api_token_create(user=world.agent, name="mw", scopes=["read", "write"])
    return raw


def _scenario(name: str, client: Client, world: Any, token: str) -> Any:
    bearer = {"Authorization": f"Bearer {token}"}
    if name == "login page (anonymous)":
        return client.get(reverse("web:login"))
    if name == "login page, zh-Hans browser":
        return client.get(reverse("web:login"), headers={"Accept-Language": "zh-hans"})
    if name == "inbox (session)":
        client.force_login(world.agent)
        return client.get(reverse("web:inbox"))
    if name == "API docs page":
        return client.get("/api/v1/docs")
    if name == "API with the session":
        client.force_login(world.agent)
        return client.get("/api/v1/me")
    if name == "API with the session, unsafe without CSRF":
        client.force_login(world.agent)
        strict = Client(enforce_csrf_checks=True)
        strict.cookies = client.cookies
        return strict.post("/api/v1/me/tokens", "{}", content_type="application/json")
    if name == "API anonymous":
        return client.get("/api/v1/me")
    if name == "API token":
        return client.get("/api/v1/me", headers=bearer)
    if name == "API token, zh-Hans, unknown parameter":
        return client.get("/api/v1/tickets", {"nope": "1"}, headers={**bearer, "Accept-Language": "zh-hans"})
    if name == "API wrong token":
        return client.get("/api/v1/me", headers={"Authorization": "Bearer as_wrong"})
    if name == "API basic auth":
        return client.get("/api/v1/me", headers={"Authorization": "Basic YWxpY2U6cHc="})
    if name == "API token, unknown route":
        return client.post("/api/v1/no/such/route", "{}", content_type="application/json", headers=bearer)
    if name == "API token with another user's session":
        client.force_login(world.admin)
        return client.get("/api/v1/me", headers=bearer)
    raise AssertionError(name)


SCENARIOS = [
    "login page (anonymous)",
    "login page, zh-Hans browser",
    "inbox (session)",
    "API docs page",
    "API with the session",
    "API with the session, unsafe without CSRF",
    "API anonymous",
    "API token",
    "API token, zh-Hans, unknown parameter",
    "API wrong token",
    "API basic auth",
    "API token, unknown route",
    "API token with another user's session",
]


@pytest.mark.parametrize("name", SCENARIOS)
def test_same_answer_as_djangos_own_middlewares(settings: Any, world: Any, token: str, name: str) -> None:
    ours, stock = _both(settings, lambda client: _scenario(name, client, world, token))
    assert ours == stock


def test_token_answers_keep_security_headers_and_language(world: Any, token: str) -> None:
    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh-hans"})
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Language"] == "zh-hans"
    assert "Accept-Language" in response["Vary"]
    assert not response.cookies  # no session, no CSRF cookie


def test_token_request_with_a_session_cookie_is_the_tokens_user(world: Any, token: str) -> None:
    client = Client()
    client.force_login(world.admin)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json()["username"] == "alice"
    assert client.get("/api/v1/me").json()["username"] == world.admin.username  # the session alone: the admin


def test_what_counts_as_a_token_api_request(rf: Any) -> None:
    assert token_api_request(rf.get("/api/v1/tickets", headers={"Authorization": "Bearer x"}))
    assert token_api_request(rf.get("/api/v1/tickets", headers={"Authorization": "Basic x"}))  # refused later
    assert not token_api_request(rf.get("/api/v1/tickets"))  # the browser session
    assert not token_api_request(rf.get("/tickets/1/", headers={"Authorization": "Bearer x"}))  # the UI
    assert not token_api_request(rf.get("/login/", headers={"Authorization": "Bearer x"}))
