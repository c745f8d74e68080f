"""The SLA API: POST /sla/preview (both deadlines, nothing created), calendars and policies CRUD,
GET /tickets/{id}/sla, and precise 422s naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales.api.tests.helpers import ApiClient, assert_error
from aftersales.sla.models import BusinessCalendar, SlaPolicy, TicketSla

pytestmark = pytest.mark.django_db

SPLIT = [["09:00", "12:00"], ["13:30", "18:30"]]
OFFICE = {
    "name": "Berlin office",
    "timezone": "Europe/Berlin",
    "weekly_hours": {**dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), SPLIT), "sat": [["10:00", "14:00"]]},
    "holidays": ["2026-12-25", "2026-12-26"],
    "special_days": {"2026-12-24": [["09:00", "12:00"]]},
}


def admin(world: Any) -> ApiClient:
    return ApiClient(user=world.admin)


def test_calendar_and_policy_crud(world: Any) -> None:
    api = admin(world)
    r = api.request("POST", "/sla/calendars", OFFICE)
    assert r.status_code == 201, r.content
    cal = r.json()
    assert cal["weekly_hours"]["sat"] == [["10:00", "14:00"]] and cal["holidays"] == ["2026-12-25", "2026-12-26"]
    policy = {
        "name": "High on Amazon",
        "urgency": "high",
        "platform": "amazon",
        "first_response_minutes": 120,
        "resolution_minutes": 720,
        "calendar_id": cal["id"],
    }
    r = api.request("POST", "/sla/policies", policy)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["specificity"] == 12 and body["customer_tier"] == "" and body["warning_percent"] == 75
    r = api.request("PUT", f"/sla/policies/{body['id']}", {**policy, "warning_percent": 80})
    assert r.status_code == 200 and r.json()["warning_percent"] == 80
    assert [p["name"] for p in api.request("GET", "/sla/policies").json()] == ["High on Amazon"]
    assert_error(api.request("DELETE", f"/sla/calendars/{cal['id']}"), 409, field="calendar_id")
    r = api.request("PUT", f"/sla/team-calendars/{world.team_de.pk}", {"calendar_id": cal["id"]})
    assert r.status_code == 200
    assert api.request("GET", "/sla/team-calendars").json() == [{"team_id": world.team_de.pk, "calendar_id": cal["id"]}]
    assert api.request("DELETE", f"/sla/policies/{body['id']}").status_code == 204
    assert api.request("DELETE", f"/sla/calendars/{cal['id']}").status_code == 204
    assert not BusinessCalendar.objects.exists() and not SlaPolicy.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"weekly_hours": {"mon": [["09:00", "12:00"], ["11:30", "14:00"]]}}, "weekly_hours.mon[1]"),
        ({"weekly_hours": {"mon": [["22:00", "06:00"]], "tue": [["05:00", "09:00"]]}}, "weekly_hours.tue"),
        ({"weekly_hours": {"mon": [["9am", "12:00"]]}}, "weekly_hours.mon[0]"),
        ({"weekly_hours": {"mon": [["09:00"]]}}, "weekly_hours.mon[0]"),
        ({"weekly_hours": {"someday": []}}, "weekly_hours.someday"),
        ({"holidays": ["25/12/2026"]}, "holidays[0]"),
        ({"special_days": {"2026-12-24": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "special_days.2026-12-24[1]"),
        ({"name": ""}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_calendar_422_names_the_field(world: Any, change: dict[str, Any], field: str) -> None:
    assert_error(admin(world).request("POST", "/sla/calendars", {**OFFICE, **change}), 422, field=field)
    assert not BusinessCalendar.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"urgency": "urgentest"}, "urgency"),
        ({"first_response_minutes": 0}, "first_response_minutes"),
        ({"warning_percent": 100}, "warning_percent"),
        ({"calendar_id": 987654}, "calendar_id"),
    ],
)
def test_policy_4xx_names_the_field(world: Any, change: dict[str, Any], field: str) -> None:
    body = {"name": "P", "first_response_minutes": 60, "resolution_minutes": 600, **change}
    r = admin(world).request("POST", "/sla/policies", body)
    assert r.status_code in (404, 422) and r.json()["error"]["field"] == field, r.content
    assert not SlaPolicy.objects.exists()


def test_preview_both_deadlines_without_creating_anything(world: Any) -> None:
    api = admin(world)
    cal = api.request("POST", "/sla/calendars", OFFICE).json()
    api.request(
        "POST",
        "/sla/policies",
        {
            "name": "High",
            "urgency": "high",
            "first_response_minutes": 120,
            "resolution_minutes": 720,
            "calendar_id": cal["id"],
        },
    )
    agent = ApiClient(user=world.agent)
    # Friday 2026-12-11 17:45 Berlin: 45 min on Friday, then Saturday 10:00-11:15
    r = agent.request(
        "POST",
        "/sla/preview",
        {"arrival": "2026-12-11T17:45:00+01:00", "platform": "amazon", "urgency": "high"},
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["policy_name"] == "High" and body["calendar_name"] == "Berlin office"
    assert body["first_response_due"] == "2026-12-12T10:15:00+00:00"
    assert body["marketplace_due"] == "2026-12-12T16:45:00+00:00"  # Amazon: 24 elapsed hours
    # pauses and an inline calendar; the last pause still open -> no deadline
    r = agent.request(
        "POST",
        "/sla/preview",
        {
            "arrival": "2026-12-07T09:00:00Z",
            "urgency": "high",
            "calendar": {"timezone": "UTC", "weekly_hours": {"mon": [["09:00", "17:00"]]}},
            "pauses": [["2026-12-07T09:30:00Z", "2026-12-07T10:00:00Z"], ["2026-12-07T10:30:00Z", None]],
            "platform": "ebay",
            "marketplace_respond_by": "2026-12-10T23:59:00-08:00",
        },
    )
    assert r.status_code == 200, r.content
    assert r.json()["first_response_due"] is None and r.json()["marketplace_due"] == "2026-12-11T07:59:00+00:00"
    assert not TicketSla.objects.exists() and BusinessCalendar.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"arrival": "2026-12-07T09:00:00"}, "arrival"),
        (
            {"arrival": "2026-12-07T09:00:00Z", "pauses": [["2026-12-07T11:00:00Z", "2026-12-07T10:00:00Z"]]},
            "pauses[0]",
        ),
        (
            {
                "arrival": "2026-12-07T09:00:00Z",
                "pauses": [
                    ["2026-12-07T10:00:00Z", "2026-12-07T12:00:00Z"],
                    ["2026-12-07T11:00:00Z", "2026-12-07T13:00:00Z"],
                ],
            },
            "pauses[1]",
        ),
        ({"arrival": "2026-12-07T09:00:00Z", "pauses": [["2026-12-07T10:00:00", None]]}, "pauses[0][0]"),
        (
            {"arrival": "2026-12-07T09:00:00Z", "calendar": {"timezone": "Mars/Base", "weekly_hours": {}}},
            "calendar.timezone",
        ),
        (
            {
                "arrival": "2026-12-07T09:00:00Z",
                "calendar": {"timezone": "UTC", "weekly_hours": {"mon": [["10:00", "12:00"], ["09:00", "11:00"]]}},
            },
            "calendar.weekly_hours.mon[0]",
        ),
        ({"arrival": "2026-12-07T09:00:00Z", "urgency": "soon"}, "urgency"),
    ],
)
def test_preview_422_names_the_field(world: Any, body: dict[str, Any], field: str) -> None:
    assert_error(ApiClient(user=world.agent).request("POST", "/sla/preview", body), 422, field=field)


def test_ticket_clocks(world: Any) -> None:
    ticket = world.ticket()
    r = ApiClient(user=world.agent).request("GET", f"/tickets/{ticket.pk}/sla")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["first_response"]["state"] == "none" and body["marketplace"]["source"] == "elapsed_hours"
    assert_error(ApiClient(user=world.outsider).request("GET", f"/tickets/{ticket.pk}/sla"), 404)
    assert_error(ApiClient(user=world.foreign_user).request("GET", f"/tickets/{ticket.pk}/sla"), 404)


def test_ticket_list_rows_carry_both_clocks_in_one_query(world: Any) -> None:
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from aftersales.core.clock import now

    hour = timedelta(hours=1)
    at = now()
    late, quiet = world.ticket(), world.ticket()
    api = ApiClient(user=world.agent)
    with CaptureQueriesContext(connection) as before:
        assert api.request("GET", "/tickets").status_code == 200
    TicketSla.objects.create(
        ticket_id=late.pk,
        organization_id=late.organization_id,
        started_at=at - 3 * hour,
        computed_at=at,
        first_response_due=at - hour,
        marketplace_due=at + 5 * hour,
        marketplace_source="elapsed_hours",
    )
    with CaptureQueriesContext(connection) as after:
        r = api.request("GET", "/tickets")
    assert r.status_code == 200
    rows = {item["id"]: item for item in r.json()["items"]}
    clocks = rows[late.pk]["sla"]
    assert clocks["ours"]["clock"] == "first_response" and clocks["ours"]["state"] == "overdue"
    assert clocks["marketplace"]["state"] == "running" and clocks["marketplace"]["source"] == "elapsed_hours"
    assert rows[quiet.pk]["sla"] is None  # no clock row computed yet
    assert len(after.captured_queries) == len(before.captured_queries)  # one lookup per page either way
    # the single-ticket answers (PATCH, status, assign) carry the same field
    patched = api.request("PATCH", f"/tickets/{late.pk}", {"subject": "Still late"})
    assert patched.status_code == 200 and patched.json()["sla"]["ours"]["state"] == "overdue"
