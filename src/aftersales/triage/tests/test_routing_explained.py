"""Why routing chose a team and an agent, told where an agent looks: the "Route by skill" button on the
ticket page (the same service and permission as POST /api/v1/tickets/{id}/route) and the timeline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation

from aftersales.accounts.models import Membership, RoutingStrategy
from aftersales.core.actors import Actor
from aftersales.inbox.models import TicketEvent
from aftersales.sla.models import BusinessCalendar, TeamCalendar
from aftersales.testing.factories import TicketFactory, UserFactory
from aftersales.triage.routing import ticket_route
from aftersales.web.timeline import routing_explanation

MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MONDAY_22 = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)


@pytest.fixture
def de_team(world):  # type: ignore[no-untyped-def]
    world.team_de.languages = ["de"]
    world.team_de.save()
    dieter = UserFactory(
        username="dieter",
        organization=world.org,
        role=world.roles["agent"],
        skill_languages=["de"],
        skill_platforms=["ebay"],
    )
    Membership.objects.create(team=world.team_de, user=dieter)
    world.outsider.skill_languages = ["fr"]
    world.outsider.save()
    return world.team_de, dieter


def _ticket(world, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("status", "new")
    return TicketFactory(store=world.store_de, language="de", **kw)


def test_the_decision_explains_itself_and_the_audit_rows_keep_it(world, de_team):
    _team, dieter = de_team
    ticket = _ticket(world)
    decision = ticket_route(ticket=ticket, actor=Actor.system("routing"), now=MONDAY_10)
    assert decision.assignee_id == dieter.pk
    why = decision.explanation
    assert why["outcome"] == "least_loaded" and why["eligible"] == 1 and why["open_tickets"] == 0
    assert why["skills"] == [["language", "de"], ["platform", "ebay"]]
    assert why["team_matched"] == ["store", "language"]  # the DE team's store and language
    rows = TicketEvent.objects.filter(ticket=ticket, type__in=["team_changed", "assigned"])
    assert len(rows) == 2 and all(r.payload["routing"] == why for r in rows)
    assert all(r.payload["reason"].startswith("routing (least_loaded)") for r in rows)  # kept as before
    text = routing_explanation(why)
    assert "least loaded of 1 agent(s)" in text and "language de, platform ebay" in text
    with translation.override("zh-hans"):
        assert "least loaded" not in routing_explanation(why)


def test_round_robin_and_nobody_on_shift_say_so(world, de_team):
    team, _dieter = de_team
    team.routing_strategy = RoutingStrategy.ROUND_ROBIN
    team.save()
    first = ticket_route(ticket=_ticket(world), actor=Actor.system("routing"), now=MONDAY_10)
    assert first.explanation["outcome"] == "round_robin" and "round-robin turn" in routing_explanation(
        first.explanation
    )
    calendar = BusinessCalendar.objects.create(
        organization=world.org, name="Office", timezone="UTC", weekly_hours={"mon": [["09:00", "18:00"]]}
    )
    TeamCalendar.objects.create(team=team, calendar=calendar)
    late = ticket_route(ticket=_ticket(world), actor=Actor.system("routing"), now=MONDAY_22)
    assert late.assignee_id is None and late.explanation["outcome"] == "nobody_on_shift"
    assert "nobody on shift" in routing_explanation(late.explanation)


def test_route_by_skill_button_routes_and_the_timeline_says_why(world, de_team, client):
    team, dieter = de_team
    ticket = _ticket(world)
    client.force_login(world.admin)
    page = client.get(f"/tickets/{ticket.pk}/")
    assert f'action="/tickets/{ticket.pk}/route/"' in page.content.decode()
    response = client.post(f"/tickets/{ticket.pk}/route/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "Routed by skill" in html
    ticket.refresh_from_db()
    assert (ticket.team_id, ticket.assignee_id) == (team.pk, dieter.pk)
    timeline = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Routing by skill: least loaded of 1 agent(s) on shift with the skills" in timeline
    assert "skills matched: language de, platform ebay" in timeline


def test_the_button_is_refused_like_the_api(world, de_team, client):
    ticket = world.ticket()  # a US ticket: the viewer sees it, may not process it
    client.force_login(world.viewer)
    assert client.post(f"/tickets/{ticket.pk}/route/").status_code == 403
    assert TicketEvent.objects.filter(ticket=ticket, type__in=["team_changed", "assigned"]).count() == 0
    page = client.get(f"/tickets/{ticket.pk}/")
    assert page.status_code == 200 and f"/tickets/{ticket.pk}/route/" not in page.content.decode()
    client.force_login(world.outsider)  # the DE agent cannot see a US ticket at all
    assert client.post(f"/tickets/{ticket.pk}/route/").status_code == 404


def test_no_team_admits_the_ticket_and_the_timeline_says_so(world, de_team, client):
    """The button on a ticket no team's scope admits: nothing changes, one audit row says why."""
    from aftersales.accounts.models import Team

    Team.objects.filter(organization=world.org).delete()
    ticket = _ticket(world)
    client.force_login(world.admin)
    response = client.post(f"/tickets/{ticket.pk}/route/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "no team" in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.team_id, ticket.assignee_id) == (None, None)
    row = TicketEvent.objects.get(ticket=ticket, type="routed_unchanged")
    assert row.payload["routing"] == {"outcome": "no_team"} and (row.actor_kind, row.actor_id) == (
        "user",
        world.admin.pk,
    )
    timeline = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "routed the ticket by skill; nothing changed: no team&#x27;s scope admits the ticket" in timeline
    with translation.override("zh-hans"):
        assert "no team" not in routing_explanation(row.payload["routing"])
