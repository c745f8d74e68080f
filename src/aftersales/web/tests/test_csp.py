"""Content-Security-Policy on every page (issue 7, finding 6): a strict policy with no inline script
or style, and templates that need none (behaviour lives in web/static/web/app.js)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import make_story

TEMPLATE_DIRS = [
    Path(__file__).resolve().parents[1] / "templates",
    Path(__file__).resolve().parents[2] / "api" / "templates",
]

REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    header = response.get("Content-Security-Policy", "")
    assert header, f"no Content-Security-Policy on {response.wsgi_request.path}"
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value.strip()
    return directives


def assert_strict(response) -> None:  # type: ignore[no-untyped-def]
    directives = policy(response)
    for name, value in REQUIRED.items():
        assert directives.get(name) == value, (response.wsgi_request.path, name, directives.get(name))
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_every_kind_of_page_has_the_policy(world, login):
    story = make_story(world)
    agent = login(world.agent)
    admin = login(world.admin)
    anonymous = Client()
    responses = [
        anonymous.get(reverse("web:login")),
        anonymous.get("/"),  # redirect to sign-in
        anonymous.get("/admin/login/"),
        agent.get(reverse("web:inbox")),
        agent.get(reverse("web:inbox"), HTTP_HX_REQUEST="true"),  # htmx fragment
        agent.get(reverse("web:ticket", args=[story.ticket.pk])),
        agent.get(reverse("web:settings")),
        agent.get(reverse("web:notifications")),
        agent.get("/tickets/999999/"),  # 404 page
        agent.get(reverse("web:settings_security")),  # 403 page
        admin.get(reverse("web:settings_security")),
        agent.get("/api/v1/tickets"),  # JSON
        anonymous.get("/api/v1/openapi.json"),
        anonymous.get("/api/v1/docs"),  # Swagger UI: its scripts are files of our origin
        anonymous.get("/health"),
    ]
    statuses = [r.status_code for r in responses]
    assert statuses == [200, 302, 200, 200, 200, 200, 200, 200, 404, 403, 200, 200, 200, 200, 200], statuses
    for response in responses:
        assert_strict(response)


INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
STYLE = re.compile(r"\sstyle\s*=|<style", re.IGNORECASE)
JS_URL = re.compile(r"""(href|action|src)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


# Documents served with their own, sandboxing policy (no script at all), not under the page policy.
OWN_POLICY = {"message_document.html"}  # web/views/attachments.py: MESSAGE_FRAME_CSP

TEMPLATES = [p for d in TEMPLATE_DIRS for p in sorted(d.rglob("*.html")) if p.name not in OWN_POLICY]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_need_no_inline_script_or_style(path: Path) -> None:
    """The policy forbids inline script and style: a template with one would break in the browser
    (an onsubmit="return confirm(...)" silently stops asking). Use data-* attributes handled in
    app.js (e.g. <form data-confirm="...">) and classes in app.css."""
    text = path.read_text()
    for pattern in (INLINE_HANDLER, INLINE_SCRIPT, STYLE, JS_URL):
        found = pattern.search(text)
        assert found is None, f"{path.name}: {found.group(0) if found else ''}"
