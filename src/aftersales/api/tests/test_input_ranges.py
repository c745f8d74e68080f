"""Dates and instants are range-checked at the edge: a 422 naming the field, never a 500 from an
overflow when the value is converted to UTC or stored."""

from __future__ import annotations

import pytest

from .helpers import assert_error, db_state
from .test_inbound import payload


@pytest.mark.parametrize(
    "sent_at",
    [
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:30:00+01:00",
        "1999-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
        "2026-11-11T08:00:00",  # no offset
    ],
)
def test_inbound_sent_at_out_of_range_is_a_422_naming_it(world, as_user, sent_at):
    before = db_state()
    response = as_user(world.admin).post("/inbound/messages", payload(world, sent_at=sent_at))
    assert_error(response, 422, field="sent_at", code="validation_error")
    assert db_state() == before


@pytest.mark.parametrize("sent_at", ["2000-01-01T00:00:00Z", "2100-12-31T23:59:59+00:00", "2026-11-11T08:00:00+08:00"])
def test_inbound_sent_at_in_range_is_accepted(world, as_user, sent_at):
    response = as_user(world.admin).post("/inbound/messages", payload(world, sent_at=sent_at, attachments=[]))
    assert response.status_code == 201, response.content


def test_the_schema_documents_the_range(world, as_user):
    schema = as_user(world.admin).get("/openapi.json").json()
    sent_at = schema["components"]["schemas"]["InboundMessageIn"]["properties"]["sent_at"]
    assert "2000-01-01" in str(sent_at) and "date-time" in str(sent_at)
