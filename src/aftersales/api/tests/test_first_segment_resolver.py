"""api/urls.py's FirstSegmentResolver resolves every path to what Django's own URLResolver resolves it to."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLResolver, get_resolver, reverse
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern

from aftersales.api.urls import FirstSegmentResolver


def _pair() -> tuple[FirstSegmentResolver, URLResolver]:
    ours = next(p for p in get_resolver("aftersales.api.urls").url_patterns if isinstance(p, FirstSegmentResolver))
    stock = URLResolver(
        RoutePattern("", is_endpoint=False), ours.url_patterns, app_name=ours.app_name, namespace=ours.namespace
    )
    return ours, stock


def _answer(resolver: URLResolver, path: str) -> Any:
    try:
        match = resolver.resolve(path)
    except Resolver404:
        return "404"
    return (match.func, match.args, match.kwargs, match.url_name, match.route, match.namespaces, match.app_names)


def _paths() -> list[str]:
    ours, _ = _pair()
    paths = ["", "/", "nope", "nope/1", "tickets/", "tickets//x", "ticketsx", "tickets/1/nope", "openapi.json/x"]
    for pattern in ours.url_patterns:
        route = str(pattern.pattern)
        for value in ("1", "abc", "9999999999"):
            paths.append(re.sub(r"<(?:\w+:)?\w+>", value, route))
        paths.append(route + "/")
        paths.append(route + "x")
    return paths


def test_every_route_and_near_miss_resolves_as_with_djangos_resolver() -> None:
    ours, stock = _pair()
    paths = _paths()
    assert len(paths) > 1000
    for path in paths:
        assert _answer(ours, path) == _answer(stock, path), path


def test_the_api_is_still_reached_and_reversed_through_the_project_urlconf() -> None:
    match = get_resolver().resolve("/api/v1/inbound/messages")
    assert match.url_name and match.namespaces == ["api"]
    assert match.route == "api/v1/inbound/messages"
    assert reverse(f"api:{match.url_name}") == "/api/v1/inbound/messages"
    assert get_resolver().resolve("/api/v1/tickets/12").kwargs == {"ticket_id": "12"}


@pytest.mark.parametrize("path", ["/api/v1/no/such/route", "/api/v1/tickets/1/no-such-action", "/api/v1/ticketsx"])
def test_unknown_api_paths_still_reach_the_json_404(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
