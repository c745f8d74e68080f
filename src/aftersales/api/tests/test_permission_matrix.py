"""Every persona against every API endpoint, with the status each must get.

The routes are read from the NinjaAPI object: an endpoint added without a row here fails
`test_matrix_covers_every_route`, so nothing ships without its permission test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction

from aftersales.accounts.services import api_token_create
from aftersales.inbox.services import saved_view_create

from .fixtures import PNG_B64, Scene, build_scene
from .helpers import ApiClient, api_routes

PERSONAS = ("anonymous", "agent", "teammate", "outsider", "viewer", "approver", "admin", "foreign_user")


def expect(**statuses: int) -> dict[str, int]:
    assert set(statuses) == set(PERSONAS), set(PERSONAS) ^ set(statuses)
    return statuses


def ticket_read() -> dict[str, int]:
    """Reading a US ticket: the US team and the admin see it; carol (DE) and other sellers do not."""
    return expect(
        anonymous=401, agent=200, teammate=200, outsider=404, viewer=200, approver=200, admin=200, foreign_user=404
    )


def ticket_write(ok: int = 200) -> dict[str, int]:
    """Acting on a US ticket: as reading, and the viewer may look but not act."""
    return {**ticket_read(), "viewer": 403, **dict.fromkeys(("agent", "teammate", "approver", "admin"), ok)}


def everyone(ok: int = 200) -> dict[str, int]:
    """Anyone signed in (reads of one's own organization, one's own profile and settings)."""
    return {p: (401 if p == "anonymous" else ok) for p in PERSONAS}


Request = tuple[str, str, Any]  # method, path, JSON body


@dataclass
class Row:
    build: Callable[[Scene, Any, Any], Request]  # (scene, world, acting user or None) -> request
    statuses: dict[str, int]


def _own_view(user: Any, world: Any) -> int:
    view = saved_view_create(user=user or world.agent, name="Mine", filters={"status": "open"})
    return view.pk


def _own_token(user: Any, world: Any) -> int:
    token, _ = api_token_create(user=user or world.agent, name="ci")
    return token.pk


INBOUND = {
    "external_id": "m-1",
    "body": "Where is my parcel?",
    "customer_external_id": "buyer-1",
    "attachments": [{"filename": "p.png", "content_base64": PNG_B64}],
}

MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/tickets"): Row(lambda s, w, u: ("GET", "/tickets", None), everyone()),
    ("GET", "/tickets/{ticket_id}"): Row(lambda s, w, u: ("GET", f"/tickets/{s.ticket.pk}", None), ticket_read()),
    ("PATCH", "/tickets/{ticket_id}"): Row(
        lambda s, w, u: ("PATCH", f"/tickets/{s.ticket.pk}", {"urgency": "high"}), ticket_write()
    ),
    ("POST", "/tickets/{ticket_id}/replies"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/replies", {"body": "On its way"}), ticket_write(201)
    ),
    ("POST", "/tickets/{ticket_id}/notes"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/notes", {"body": "@bob look"}), ticket_write(201)
    ),
    ("POST", "/tickets/{ticket_id}/status"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/status", {"status": "on_hold"}), ticket_write()
    ),
    ("POST", "/tickets/{ticket_id}/assign"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/assign", {"assignee_id": w.teammate.pk}), ticket_write()
    ),
    ("POST", "/tickets/{ticket_id}/tags"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/tags", {"add": ["defect"]}), ticket_write()
    ),
    ("POST", "/tickets/{ticket_id}/merge"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/merge", {"target_id": s.other.pk}), ticket_write()
    ),
    # Bulk answers per ticket: tickets out of sight are reported as failures, not refused outright.
    ("POST", "/tickets/bulk"): Row(
        lambda s, w, u: ("POST", "/tickets/bulk", {"ticket_ids": [s.ticket.pk], "action": "tag", "value": "x"}),
        {**everyone(), "viewer": 403},
    ),
    ("POST", "/messages/{message_id}/retry"): Row(
        lambda s, w, u: ("POST", f"/messages/{s.failed_reply.pk}/retry", None), ticket_write()
    ),
    ("GET", "/views"): Row(lambda s, w, u: ("GET", "/views", None), everyone()),
    ("POST", "/views"): Row(
        lambda s, w, u: ("POST", "/views", {"name": "Open Amazon", "filters": {"platform": "amazon"}}), everyone(201)
    ),
    ("DELETE", "/views/{view_id}"): Row(lambda s, w, u: ("DELETE", f"/views/{_own_view(u, w)}", None), everyone(204)),
    ("GET", "/notifications"): Row(lambda s, w, u: ("GET", "/notifications", None), everyone()),
    ("POST", "/notifications/read"): Row(lambda s, w, u: ("POST", "/notifications/read", {}), everyone()),
    ("GET", "/customers/{customer_id}"): Row(
        lambda s, w, u: ("GET", f"/customers/{s.ticket.customer_id}", None), ticket_read()
    ),
    ("GET", "/stores"): Row(lambda s, w, u: ("GET", "/stores", None), everyone()),
    ("GET", "/teams"): Row(lambda s, w, u: ("GET", "/teams", None), everyone()),
    ("GET", "/users"): Row(lambda s, w, u: ("GET", "/users", None), everyone()),
    ("GET", "/me"): Row(lambda s, w, u: ("GET", "/me", None), everyone()),
    ("PATCH", "/me"): Row(lambda s, w, u: ("PATCH", "/me", {"language": "zh-hans"}), everyone()),
    ("GET", "/me/tokens"): Row(lambda s, w, u: ("GET", "/me/tokens", None), everyone()),
    ("POST", "/me/tokens"): Row(lambda s, w, u: ("POST", "/me/tokens", {"name": "laptop"}), everyone(201)),
    ("DELETE", "/me/tokens/{token_id}"): Row(
        lambda s, w, u: ("DELETE", f"/me/tokens/{_own_token(u, w)}", None), everyone(204)
    ),
    # Ingestion needs the administer permission; the foreign admin may not post into our store.
    ("POST", "/inbound/messages"): Row(
        lambda s, w, u: ("POST", "/inbound/messages", {**INBOUND, "store_id": w.store_us.pk}),
        expect(
            anonymous=401, agent=403, teammate=403, outsider=403, viewer=403, approver=403, admin=201, foreign_user=404
        ),
    ),
}


def test_matrix_covers_every_route() -> None:
    routes = api_routes()
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    assert not missing, f"API routes without a permission-matrix row: {missing}"
    assert not stale, f"permission-matrix rows for routes that no longer exist: {stale}"


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_permission_matrix(route: tuple[str, str], world: Any) -> None:
    scene = build_scene(world)
    row = MATRIX[route]
    got: dict[str, int] = {}
    for persona in PERSONAS:
        user = None if persona == "anonymous" else getattr(world, persona)
        with transaction.atomic():
            method, path, body = row.build(scene, world, user)
            response = ApiClient(user=user).request(method, path, body)
            got[persona] = response.status_code
            if response.status_code >= 400:
                assert response.json()["error"]["code"], response.content
            transaction.set_rollback(True)
    assert got == row.statuses


# URLs of the API that are not operations: the schema and the docs are public, and say nothing
# about any organization's data.
PUBLIC_URLS = ("/openapi.json", "/docs", "/docs/assets/swagger-ui-bundle.js")


@pytest.mark.parametrize("path", PUBLIC_URLS)
def test_docs_and_schema_are_public(path: str, world: Any) -> None:
    for persona in PERSONAS:
        user = None if persona == "anonymous" else getattr(world, persona)
        assert ApiClient(user=user).get(path).status_code == 200, persona


def test_every_api_url_is_covered() -> None:
    """Every URL pattern under /api/v1 is an operation (in MATRIX) or one of PUBLIC_URLS."""
    from django.urls import get_resolver

    from .helpers import PREFIX

    resolver = get_resolver()
    api_include = next(p for p in resolver.url_patterns if str(p.pattern) == "api/v1/")
    patterns: set[str] = set()
    for entry in api_include.url_patterns:
        for sub in getattr(entry, "url_patterns", [entry]):
            patterns.add(str(sub.pattern))
    operations = {path.lstrip("/").replace("{", "<").replace("}", ">") for _, path in MATRIX}
    public = {u.lstrip("/") for u in PUBLIC_URLS} - {"docs/assets/swagger-ui-bundle.js"} | {"docs/assets/<str:name>"}
    catch_all = {"", "^.*$"}  # the API root and unknown routes: JSON 404s, tested in test_errors
    assert patterns - operations - public - catch_all == set(), PREFIX
