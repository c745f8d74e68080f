"""The inbox filters are declared once (inbox/filters.py): the selector's parser, the API's query
schema and the web form derive from it; dates and ids are bounded (a 422 naming the filter, never
a 500); saved views are expanded by one function and refuse ids of nothing or of another seller."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from aftersales.core.errors import ValidationFailed
from aftersales.inbox.filters import FILTERS, MAX_YEAR, MIN_YEAR, TicketFilters, parse_ticket_filters
from aftersales.inbox.models import SavedView
from aftersales.inbox.services import saved_view_create
from aftersales.testing.factories import CustomerFactory, StoreFactory, TeamFactory

NAMES = {spec.name for spec in FILTERS}
OUT_OF_RANGE = [
    "0001-01-01T00:00:00+00:01",  # overflowed when converted to UTC: a 500
    "0001-01-01",
    "9999-12-31T23:59:59-01:00",
    "1999-12-31T23:00:00+00:00",
    "2101-01-01",
]


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_declaration_is_the_one_source_of_the_filters():
    from aftersales.api.schemas.tickets import TicketListQuery

    assert {f.name for f in fields(TicketFilters)} == NAMES
    assert set(TicketListQuery.model_fields) == NAMES | {"limit", "sort", "cursor", "view"}
    for spec in FILTERS:
        assert TicketListQuery.model_fields[spec.name].description == spec.api_description()


def test_the_web_form_shows_every_declared_filter(world):
    world.ticket(language="de")  # the language filter lists the languages of the visible tickets
    html = _client(world.admin).get("/", {"customer": CustomerFactory(organization=world.org).pk}).content.decode()
    form = re.search(r'<form id="filters".*?</form>', html, re.S).group(0)
    assert set(re.findall(r'name="([a-z_]+)"', form)) == NAMES | {"sort"}
    for spec in FILTERS:
        assert f'id="err-{spec.name}"' in form


def test_the_api_documents_the_choices_and_bounds(world):
    response = _client(world.admin).get("/api/v1/openapi.json")
    parameters = {p["name"]: p for p in response.json()["paths"]["/api/v1/tickets"]["get"]["parameters"]}
    assert "pending_customer" in parameters["status"]["description"]
    assert f"years {MIN_YEAR} to {MAX_YEAR}" in parameters["created_after"]["description"]
    assert "failed" in parameters["delivery"]["description"]


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_dates_out_of_range_are_refused_naming_the_filter(value):
    for name in ("created_after", "created_before", "updated_after", "updated_before"):
        with pytest.raises(ValidationFailed) as caught:
            parse_ticket_filters({name: value})
        assert caught.value.field == name


def test_dates_in_range_parse_aware():
    parsed = parse_ticket_filters({"created_after": "2000-01-01", "updated_before": "2100-12-31T23:59:59+14:00"})
    assert parsed.created_after == datetime(2000, 1, 1, tzinfo=UTC)
    assert parsed.updated_before is not None and parsed.updated_before.utcoffset() is not None


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_api_and_web_answer_out_of_range_dates_with_the_field_not_a_500(world, value):
    client = _client(world.agent)
    api = client.get("/api/v1/tickets", {"created_after": value})
    assert api.status_code == 422 and api.json()["error"]["field"] == "created_after"
    web = client.get("/", {"created_after": value})
    assert web.status_code == 400
    assert re.search(r'id="err-created_after">[^<]*between the years', web.content.decode())


def test_ids_out_of_range_are_refused(world):
    client = _client(world.agent)
    for name in ("store", "team", "customer", "assignee"):
        response = client.get("/api/v1/tickets", {name: str(2**63)})
        assert response.status_code == 422 and response.json()["error"]["field"] == name, name
        assert client.get("/", {name: str(2**63)}).status_code == 400


def test_a_saved_view_holding_a_stale_filter_shows_the_error_and_can_be_deleted(world):
    """Views saved before the bounds existed hold such values: they must not answer 500 forever."""
    view = SavedView.objects.create(user=world.agent, name="Old", filters={"created_after": "0001-01-01"})
    client = _client(world.agent)
    api = client.get("/api/v1/tickets", {"view": view.pk})
    assert api.status_code == 422 and api.json()["error"]["field"] == "created_after"
    assert "Old" in api.json()["error"]["message"]
    web = client.get("/", {"view": view.pk})
    assert web.status_code == 400
    html = web.content.decode()
    assert re.search(r'id="err-created_after">[^<]*Old[^<]*between the years', html)
    assert reverse("web:saved_view_delete", args=[view.pk]) in html  # offered for deletion
    assert client.post(reverse("web:saved_view_delete", args=[view.pk])).status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


@pytest.mark.parametrize("field", ["store", "team", "customer", "assignee"])
def test_a_saved_view_refuses_ids_of_nothing_or_of_another_organization(world, field):
    foreign = {
        "store": lambda: world.foreign_store.pk,
        "team": lambda: TeamFactory(organization=world.foreign_org).pk,
        "customer": lambda: CustomerFactory(organization=world.foreign_org).pk,
        "assignee": lambda: world.foreign_user.pk,
    }[field]()
    for value in (foreign, 10**9):
        with pytest.raises(ValidationFailed) as caught:
            saved_view_create(user=world.agent, name="x", filters={field: str(value)})
        assert caught.value.field == field
        response = _client(world.agent).post(
            "/api/v1/views", {"name": "x", "filters": {field: str(value)}}, content_type="application/json"
        )
        assert response.status_code == 422 and response.json()["error"]["field"] == field
        web = _client(world.agent).post(reverse("web:saved_view_create"), {"name": "x", "query": f"{field}={value}"})
        assert web.status_code == 422
    assert not SavedView.objects.exists()
    own = {"store": world.store_us.pk, "team": world.team_us.pk, "assignee": world.teammate.pk}
    if field in own:
        saved_view_create(user=world.agent, name="ok", filters={field: str(own[field])})


def test_saved_views_expand_the_same_way_in_the_api_and_the_web_ui(world):
    ebay = world.ticket(store=world.store_de)
    amazon = world.ticket()
    view = saved_view_create(user=world.admin, name="eBay", filters={"platform": "ebay"}, sort="created_at")
    client = _client(world.admin)

    def both(params):  # type: ignore[no-untyped-def]
        api = client.get("/api/v1/tickets", params)
        web = client.get("/", params)
        api_ids = [t["id"] for t in api.json()["items"]] if api.status_code == 200 else None
        web_ids = [int(i) for i in re.findall(r'data-ticket-id="(\d+)"', web.content.decode())]
        return api.status_code, web.status_code, api_ids, web_ids

    assert both({"view": view.pk}) == (200, 200, [ebay.pk], [ebay.pk])
    # filters given with the view override the view's (the web UI used to ignore the view then)
    assert both({"view": view.pk, "platform": "amazon"}) == (200, 200, [amazon.pk], [amazon.pk])
    other = saved_view_create(user=world.agent, name="Mine", filters={})
    assert both({"view": other.pk})[:2] == (404, 404)  # another user's view (the web UI showed everything)
    assert both({"view": "x"})[:2] == (422, 400)


def test_store_filter_of_another_organization_is_not_found_in_both(world):
    client = _client(world.agent)
    other_store = StoreFactory(organization=world.foreign_org)
    assert client.get("/api/v1/tickets", {"store": other_store.pk}).status_code == 404
    web = client.get("/", {"store": other_store.pk})
    assert web.status_code == 404 and re.search(r'id="err-store">[^<]+<', web.content.decode())
