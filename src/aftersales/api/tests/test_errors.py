"""One error shape for every 4xx, and never a 500 (nor a half-written change) for bad input."""

from __future__ import annotations

import pytest
from django.test import override_settings

from .helpers import ApiClient, assert_error, db_state


@pytest.fixture
def agent(world, as_user):
    return as_user(world.agent)


def test_malformed_json_is_400_naming_the_body(world, agent):
    ticket = world.ticket()
    before = db_state()
    for raw in ("{bad", '{"status": ', "\xff\xfe", "[1, 2]", '"open"', "null", "[" * 100_000):
        error = assert_error(agent.post(f"/tickets/{ticket.pk}/status", raw=raw), 400, field="body")
        assert error["code"] == "malformed_body"
    assert db_state() == before


def test_missing_body_is_422_naming_the_body(world, agent):
    ticket = world.ticket()
    assert_error(agent.post(f"/tickets/{ticket.pk}/status", raw=""), 422, field="body")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversized_body_is_413(world, agent):
    ticket = world.ticket()
    before = db_state()
    response = agent.post(f"/tickets/{ticket.pk}/notes", {"body": "x" * 5000})
    assert_error(response, 413, code="request_too_large", field="body")
    assert db_state() == before


def test_unknown_body_field_is_422_naming_it(world, agent):
    ticket = world.ticket()
    before = db_state()
    assert_error(agent.post(f"/tickets/{ticket.pk}/status", {"status": "solved", "reason": "x"}), 422, field="reason")
    assert_error(agent.patch(f"/tickets/{ticket.pk}", {"priority": True}), 422, field="priority")
    assert db_state() == before


def test_wrong_types_name_the_nested_field(world, agent):
    ticket = world.ticket()
    assert_error(agent.post(f"/tickets/{ticket.pk}/tags", {"add": ["ok", 5]}), 422, field="add[1]")
    assert_error(agent.post(f"/tickets/{ticket.pk}/assign", {"assignee_id": "bob"}), 422, field="assignee_id")
    assert_error(agent.post(f"/tickets/{ticket.pk}/assign", {}), 422, field="assignee_id")


@pytest.mark.parametrize("text", ["nul \x00 byte", "lone \ud800 surrogate"])
def test_text_no_database_can_store_is_422(world, agent, text):
    ticket = world.ticket()
    before = db_state()
    assert_error(agent.post(f"/tickets/{ticket.pk}/notes", {"body": text}), 422, field="body")
    assert_error(agent.post("/views", {"name": "v", "filters": {"q": text}}), 422, field="filters")
    assert db_state() == before


def test_nul_in_query_string_is_422(world, agent):
    assert_error(agent.get("/tickets", {"q": "a\x00b"}), 422, field="q")


def test_unknown_query_parameters_are_422_on_every_endpoint(world, agent):
    assert_error(agent.get("/stores", {"page": 2}), 422, field="page")
    assert_error(agent.get("/notifications", {"unread": "true"}), 422, field="unread")
    assert_error(agent.get("/me", {"x": ""}), 422, field="x")


@pytest.mark.parametrize("path", ["/tickets/abc", "/tickets/0", "/tickets/-3", "/tickets/99999999999999999999999"])
def test_bad_path_ids_are_422_naming_them(world, agent, path):
    assert_error(agent.get(path), 422, field="ticket_id")


def test_unknown_ids_are_404_naming_them(world, agent):
    assert_error(agent.get("/tickets/987654"), 404, field="ticket_id")
    assert_error(agent.get("/customers/987654"), 404, field="customer_id")
    assert_error(agent.post("/messages/987654/retry"), 404, field="message_id")
    assert_error(agent.delete("/views/987654"), 404, field="view_id")


def test_unknown_routes_are_json_404(world, agent):
    for method in ("GET", "POST", "DELETE"):
        for path in ("/nope", "/", "/tickets/", "/tickets/1/replies/extra"):
            assert_error(agent.request(method, path), 404, code="not_found")
    assert_error(ApiClient(enforce_csrf=True).post("/nope", {}), 404)


def test_wrong_method_is_json_405(world, agent):
    ticket = world.ticket()
    response = agent.request("PUT", f"/tickets/{ticket.pk}", {})
    assert_error(response, 405, code="method_not_allowed")
    assert set(response["Allow"].split(", ")) == {"GET", "PATCH"}
    assert_error(agent.get("/tickets/bulk"), 405)


def test_errors_of_services_keep_code_and_field(world, agent):
    ticket = world.ticket(status="closed")
    error = assert_error(agent.post(f"/tickets/{ticket.pk}/status", {"status": "open"}), 409, field="status")
    assert error["code"] == "conflict"
