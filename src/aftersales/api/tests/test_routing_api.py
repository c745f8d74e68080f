"""Routing by skill through the API: agents' skills, a team's strategy, the triage switches and
routing a ticket now (issue 11). The same services as the agent UI."""

from __future__ import annotations

from aftersales.accounts.models import Membership, User
from aftersales.inbox.models import TicketEvent

from .helpers import assert_error


def test_admin_sets_an_agents_skills_and_a_teams_strategy(world, as_user):
    client = as_user(world.admin)
    response = client.patch(
        f"/users/{world.outsider.pk}",
        {"skill_languages": ["DE", "fr"], "skill_platforms": ["ebay"], "skill_categories": ["refund"]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["skill_languages"], body["skill_platforms"], body["skill_categories"]) == (
        ["de", "fr"],
        ["ebay"],
        ["refund"],
    )
    assert_error(
        client.patch(f"/users/{world.outsider.pk}", {"skill_categories": ["cooking"]}), 422, field="skill_categories"
    )
    assert User.objects.get(pk=world.outsider.pk).skill_categories == ["refund"]
    team = client.patch(f"/teams/{world.team_de.pk}", {"routing_strategy": "round_robin"})
    assert team.status_code == 200 and team.json()["routing_strategy"] == "round_robin"
    assert client.patch(f"/teams/{world.team_de.pk}", {"routing_strategy": "random"}).status_code == 422


def test_triage_switches(world, as_user):
    client = as_user(world.admin)
    assert client.get("/triage/settings").json() == {"apply_results": True, "auto_route": False}
    assert client.put("/triage/settings", {"auto_route": True}).json() == {"apply_results": True, "auto_route": True}
    assert client.put("/triage/settings", {"apply_results": False}).json() == {
        "apply_results": False,
        "auto_route": True,
    }
    assert as_user(world.agent).put("/triage/settings", {"auto_route": False}).status_code == 403


def test_an_agent_routes_a_ticket_now(world, as_user):
    ticket = world.ticket(status="new")
    response = as_user(world.agent).post(f"/tickets/{ticket.pk}/route", {"strategy": "least_loaded"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["team_id"] == world.team_us.pk and body["assignee_id"] is not None and body["reasons"]
    row = TicketEvent.objects.get(ticket=ticket, type="assigned")
    assert (row.actor_kind, row.actor_id) == ("user", world.agent.pk)
    assert_error(as_user(world.agent).post(f"/tickets/{ticket.pk}/route", {"strategy": "x"}), 422, field="strategy")


def test_routing_that_changes_nothing_leaves_an_audit_row(world, as_user):
    """Routed twice: the second decision is the ticket's team and agent already, so nothing changes,
    and the timeline still says routing ran and why (one row, the caller as actor)."""
    ticket = world.ticket(status="new")
    client = as_user(world.agent)
    first = client.post(f"/tickets/{ticket.pk}/route", {"strategy": "least_loaded"}).json()
    assert not TicketEvent.objects.filter(ticket=ticket, type="routed_unchanged").exists()
    # the team's only agent now: the second decision is the ticket's team and agent again
    Membership.objects.filter(team_id=first["team_id"]).exclude(user_id=first["assignee_id"]).delete()
    second = client.post(f"/tickets/{ticket.pk}/route", {"strategy": "least_loaded"})
    assert second.status_code == 200 and second.json()["assignee_id"] == first["assignee_id"]
    assert TicketEvent.objects.filter(ticket=ticket, type__in=["team_changed", "assigned"]).count() == 2
    row = TicketEvent.objects.get(ticket=ticket, type="routed_unchanged")
    assert (row.actor_kind, row.actor_id) == ("user", world.agent.pk)
    assert row.payload["routing"]["outcome"] == "least_loaded"
    # a refused call (bad strategy) writes nothing
    assert_error(client.post(f"/tickets/{ticket.pk}/route", {"strategy": "x"}), 422, field="strategy")
    assert TicketEvent.objects.filter(ticket=ticket, type="routed_unchanged").count() == 1
