"""Reusable helpers for API tests: a small JSON client, error assertions, a database snapshot to
prove that a refused request wrote nothing, and the list of routes declared on the NinjaAPI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.test import Client

from aftersales.api.main import api

PREFIX = "/api/v1"


@dataclass(frozen=True)
class RawBody:
    """A request body that is not JSON (e.g. a CSV upload), for ApiClient.request and the matrix."""

    content: bytes | str
    content_type: str


class ApiClient:
    """JSON in, JSON out. `as_user` signs in with the session; `token` sends a Bearer token."""

    def __init__(self, *, user: Any = None, token: str | None = None, enforce_csrf: bool = False) -> None:
        self.client = Client(enforce_csrf_checks=enforce_csrf)
        self.headers: dict[str, str] = {}
        if user is not None:
            self.client.force_login(user)
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        url = path if path.startswith(PREFIX) else PREFIX + path
        all_headers = {**self.headers, **(headers or {})}
        if method == "GET":
            return self.client.get(url, params or {}, headers=all_headers)
        if isinstance(body, RawBody):
            raw, content_type = body.content, body.content_type
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return self.client.generic(method, url, data, content_type=content_type, headers=all_headers)

    def upload(self, path: str, files: dict[str, Any], **kw: Any) -> Any:
        """POST multipart/form-data (files: {field: SimpleUploadedFile})."""
        url = path if path.startswith(PREFIX) else PREFIX + path
        return self.client.post(url, files, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def get(self, path: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.request("GET", path, params=params, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("PUT", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)


def assert_error(response: Any, status: int, *, field: str | None = None, code: str | None = None) -> dict[str, Any]:
    """The response is the API's one error shape, with this status (and field / code if given)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field"}, body
    assert body["error"]["message"], body
    if field is not None:
        assert body["error"]["field"] == field, body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


WATCHED_APPS = ("accounts", "catalog", "inbox", "notifications")


def db_state() -> dict[str, Any]:
    """Row counts of every domain model and the latest change time of the mutable ones: two equal
    snapshots around a refused request prove that it wrote nothing."""
    state: dict[str, Any] = {}
    for label in WATCHED_APPS:
        for model in apps.get_app_config(label).get_models():
            qs = model._default_manager.all()
            state[model._meta.label] = qs.count()
            field_names = {f.name for f in model._meta.fields}
            if "updated_at" in field_names:
                state[model._meta.label + ".updated_at"] = (
                    qs.order_by("-updated_at").values_list("updated_at", flat=True).first()
                )
    return state


def api_routes() -> set[tuple[str, str]]:
    """(METHOD, path) of every operation declared on the NinjaAPI, e.g. ("POST", "/tickets/{ticket_id}/notes")."""
    api.urls  # noqa: B018 (binds the routers)
    routes = set()
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    routes.add((method, (prefix + path) or "/"))
    return routes
