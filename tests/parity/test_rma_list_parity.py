"""The RMA list through the API (GET /api/v1/rmas) and the web UI (/returns/) returns the same RMAs,
in the same order, for the same filters and persona; a refused filter is refused by both, naming the
same field. Both read the query string through returns.selectors.rma_list_query."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from aftersales.returns.models import PlatformSync, RmaStatus
from aftersales.returns.tests.rma_list_fixtures import days_ago, make_rma

pytestmark = pytest.mark.django_db

ROW = re.compile(r'data-rma-id="(\d+)"')


def _world_rmas(world: Any) -> None:
    us_ticket = world.ticket(store=world.store_us, assignee=world.agent)
    de_ticket = world.ticket(store=world.store_de)
    make_rma(world, ticket=us_ticket, customer_name="Olivia Martins", created_at=days_ago(3))
    make_rma(world, ticket=us_ticket, status=RmaStatus.APPROVED, resolution="exchange", created_at=days_ago(2))
    make_rma(
        world,
        store=world.store_de,
        ticket=de_ticket,
        status=RmaStatus.NEEDS_EVIDENCE,
        discrepancies=[{"code": "sku", "field": "lines", "message": "not in the order"}],
        platform_sync=PlatformSync.PENDING_SYNC,
        created_at=days_ago(1),
    )
    make_rma(world, reason="changed_mind", label_tracking_number="RET-123", created_at=days_ago(5))
    make_rma(world, store=world.foreign_store)


FILTERS = [
    {},
    {"status": "approved,needs_evidence"},
    {"platform": "ebay"},
    {"has_discrepancies": "true"},
    {"platform_sync": "pending_sync"},
    {"assignee": "me"},
    {"reason": "changed_mind"},
    {"q": "olivia"},
    {"q": "RET-123"},
    {"sort": "created_at", "limit": "2"},
]


def _api_ids(client: Client, params: dict[str, str]) -> list[int]:
    response = client.get("/api/v1/rmas", params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def _web_ids(client: Client, params: dict[str, str]) -> list[int]:
    response = client.get("/returns/", params)
    assert response.status_code == 200, response.content[:500]
    return [int(pk) for pk in ROW.findall(response.content.decode())]


@pytest.mark.parametrize("persona", ["agent", "outsider", "viewer", "admin", "foreign_user"])
def test_same_rmas_for_the_same_filters(world: Any, persona: str) -> None:
    _world_rmas(world)
    client = Client()
    client.force_login(getattr(world, persona))
    for params in FILTERS:
        assert _api_ids(client, params) == _web_ids(client, params), params


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "flying"}, "status"), ({"created_after": "2026-13-45"}, "created_after"), ({"limit": "500"}, "limit")],
)
def test_same_refusals(world: Any, params: dict[str, str], field: str) -> None:
    client = Client()
    client.force_login(world.agent)
    api = client.get("/api/v1/rmas", params)
    web = client.get("/returns/", params)
    assert api.status_code == 422 and web.status_code == 400
    assert api.json()["error"]["field"] == field
    shown = "general" if field == "limit" else field  # the form has no page-size input
    assert f'id="err-{shown}">Invalid filter' in web.content.decode()
