"""Routing by skill (issue 11, section 4): the pure choice (property-tested) and the service."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.accounts.models import Membership, RoutingStrategy, Team
from aftersales.core.actors import Actor
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.inbox.models import Message, MessageDirection, TicketEvent
from aftersales.sla.business_time import Calendar, Shift
from aftersales.sla.models import BusinessCalendar, TeamCalendar
from aftersales.testing.factories import TeamFactory, TicketFactory, UserFactory
from aftersales.triage.routing import (
    AgentFacts,
    TeamFacts,
    TicketFacts,
    select_agent,
    select_route,
    select_team,
    ticket_route,
    ticket_route_new,
)
from aftersales.triage.services import triage_settings_update

MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
MONDAY_22 = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
OFFICE = Calendar(timezone="UTC", weekly=tuple((Shift(9 * 60, 18 * 60),) if d < 5 else () for d in range(7)))
ORG = 1

# --- the pure choice -----------------------------------------------------------------------------------

languages = st.sampled_from(["", "en", "de", "zh"])
platforms = st.sampled_from(["", "amazon", "ebay"])
categories = st.sampled_from(["", "refund", "return", "other"])


def _subset(values):  # type: ignore[no-untyped-def]
    return st.frozensets(st.sampled_from([v for v in values if v]), max_size=2)


agents_st = st.lists(
    st.builds(
        AgentFacts,
        id=st.integers(1, 40),
        organization_id=st.sampled_from([ORG, ORG, ORG, 2]),
        is_active=st.booleans(),
        can_process=st.booleans(),
        languages=_subset(["en", "de", "zh"]),
        platforms=_subset(["amazon", "ebay"]),
        categories=_subset(["refund", "return", "other"]),
        open_tickets=st.integers(0, 9),
    ),
    max_size=8,
    unique_by=lambda a: a.id,
)
tickets_st = st.builds(
    TicketFacts, organization_id=st.just(ORG), language=languages, platform=platforms, category=categories
)
teams_st = st.lists(
    st.builds(
        TeamFacts,
        id=st.integers(1, 20),
        organization_id=st.sampled_from([ORG, ORG, 2]),
        platforms=_subset(["amazon", "ebay"]),
        languages=_subset(["en", "de", "zh"]),
        strategy=st.sampled_from(RoutingStrategy.values),
        last_user_id=st.none() | st.integers(0, 40),
        calendar=st.sampled_from([None, OFFICE]),
    ),
    max_size=5,
    unique_by=lambda t: t.id,
)


@settings(max_examples=300, deadline=None)
@given(ticket=tickets_st, teams=teams_st, agents=agents_st, at=st.sampled_from([MONDAY_10, MONDAY_22]))
def test_never_an_off_shift_inactive_unskilled_or_foreign_agent(ticket, teams, agents, at):
    members = {t.id: agents for t in teams}
    decision = select_route(ticket, teams, members, now=at)
    if decision.team_id is None:
        assert decision.assignee_id is None
        assert all(t.organization_id != ORG or not _admits_all(t, ticket) for t in teams)
        return
    team = next(t for t in teams if t.id == decision.team_id)
    assert team.organization_id == ticket.organization_id
    if decision.assignee_id is None:
        return
    agent = next(a for a in agents if a.id == decision.assignee_id)
    assert agent.organization_id == ORG and agent.is_active and agent.can_process
    assert team.calendar is None or at == MONDAY_10  # on shift
    for skills, value in ((agent.languages, ticket.language), (agent.platforms, ticket.platform)):
        assert not skills or not value or value in skills
    assert not agent.categories or not ticket.category or ticket.category in agent.categories


def _admits_all(team, ticket):  # type: ignore[no-untyped-def]
    return all(
        not values or not value or value in values
        for values, value in ((team.platforms, ticket.platform), (team.languages, ticket.language))
    )


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(st.integers(1, 500), min_size=1, max_size=10, unique=True), rounds=st.integers(1, 60))
def test_round_robin_is_fair(ids, rounds):
    ticket = TicketFacts(organization_id=ORG)
    agents = [AgentFacts(id=i, organization_id=ORG) for i in ids]
    last = None
    served: Counter[int] = Counter()
    for _ in range(rounds):
        team = TeamFacts(id=1, organization_id=ORG, strategy=RoutingStrategy.ROUND_ROBIN, last_user_id=last)
        decision = select_agent(ticket, team, agents, now=MONDAY_10)
        assert decision.assignee_id is not None
        served[decision.assignee_id] += 1
        last = decision.assignee_id
    counts = [served[i] for i in ids]
    assert max(counts) - min(counts) <= 1


def test_least_loaded_then_lowest_id():
    ticket = TicketFacts(organization_id=ORG)
    team = TeamFacts(id=1, organization_id=ORG)
    agents = [AgentFacts(id=5, organization_id=ORG, open_tickets=2), AgentFacts(id=7, organization_id=ORG)]
    assert select_agent(ticket, team, agents, now=MONDAY_10).assignee_id == 7
    agents.append(AgentFacts(id=6, organization_id=ORG))
    assert select_agent(ticket, team, agents, now=MONDAY_10).assignee_id == 6


def test_the_most_specific_team_wins():
    ticket = TicketFacts(organization_id=ORG, platform="ebay", language="de")
    general = TeamFacts(id=1, organization_id=ORG)
    german = TeamFacts(id=2, organization_id=ORG, languages=frozenset({"de"}))
    german_ebay = TeamFacts(id=3, organization_id=ORG, languages=frozenset({"de"}), platforms=frozenset({"ebay"}))
    french = TeamFacts(id=4, organization_id=ORG, languages=frozenset({"fr"}))
    team, _why = select_team(ticket, [general, german, german_ebay, french])
    assert team is german_ebay
    assert select_team(ticket, [french])[0] is None


def test_nobody_on_shift_routes_to_the_team_only():
    ticket = TicketFacts(organization_id=ORG)
    team = TeamFacts(id=1, organization_id=ORG, calendar=OFFICE)
    decision = select_agent(ticket, team, [AgentFacts(id=1, organization_id=ORG)], now=MONDAY_22)
    assert (decision.team_id, decision.assignee_id) == (1, None)
    assert "nobody on shift" in decision.reasons[0]


# --- the service --------------------------------------------------------------------------------------


@pytest.fixture
def de_team(world):  # type: ignore[no-untyped-def]
    """The DE team (eBay DE store, German) with the outsider agent and one more German speaker."""
    world.team_de.languages = ["de"]
    world.team_de.save()
    extra = UserFactory(username="dieter", organization=world.org, role=world.roles["agent"], skill_languages=["de"])
    Membership.objects.create(team=world.team_de, user=extra)
    return world.team_de, [world.outsider, extra]


def _de_ticket(world, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("status", "new")
    return TicketFactory(store=world.store_de, language="de", **kw)


def test_route_assigns_the_least_loaded_agent_as_the_given_actor(world, de_team):
    team, (carol, dieter) = de_team
    _de_ticket(world, assignee=carol, status="open")
    ticket = _de_ticket(world)
    decision = ticket_route(ticket=ticket, actor=Actor.rule(4, "Route"), now=MONDAY_10)
    assert (decision.team_id, decision.assignee_id) == (team.pk, dieter.pk)
    ticket.refresh_from_db()
    assert (ticket.team_id, ticket.assignee_id, ticket.status) == (team.pk, dieter.pk, "open")
    rows = TicketEvent.objects.filter(ticket=ticket, type__in=["team_changed", "assigned"])
    assert {(r.actor_kind, r.actor_ref) for r in rows} == {("rule", "4")}
    assert all(r.payload["reason"].startswith("routing (least_loaded)") for r in rows)


def test_round_robin_turn_survives_in_the_database(world, de_team):
    team, agents = de_team
    team.routing_strategy = RoutingStrategy.ROUND_ROBIN
    team.save()
    picked = [ticket_route(ticket=_de_ticket(world), actor=Actor.system("routing")).assignee_id for _ in range(4)]
    ids = sorted(a.pk for a in agents)
    assert picked == ids + ids
    assert Team.objects.get(pk=team.pk).routing_last_user_id == ids[-1]


def test_off_shift_team_gets_the_ticket_without_an_agent(world, de_team):
    team, _agents = de_team
    calendar = BusinessCalendar.objects.create(
        organization=world.org, name="Office", timezone="UTC", weekly_hours={"mon": [["09:00", "18:00"]]}
    )
    TeamCalendar.objects.create(team=team, calendar=calendar)
    ticket = _de_ticket(world)
    decision = ticket_route(ticket=ticket, actor=Actor.system("routing"), now=MONDAY_22)
    ticket.refresh_from_db()
    assert (ticket.team_id, ticket.assignee_id) == (team.pk, None) and decision.assignee_id is None


def test_skills_and_activity_filter_agents(world, de_team):
    team, (carol, dieter) = de_team
    dieter.is_active = False
    dieter.save()
    carol.skill_categories = ["warranty_repair"]
    carol.save()
    ticket = _de_ticket(world, category="refund")
    decision = ticket_route(ticket=ticket, actor=Actor.system("routing"), now=MONDAY_10)
    assert (decision.team_id, decision.assignee_id) == (team.pk, None)


def test_users_need_the_process_permission_and_a_known_strategy(world):
    ticket = world.ticket()
    with pytest.raises(PermissionDenied):
        ticket_route(ticket=ticket, actor=world.viewer)
    with pytest.raises(ValidationFailed) as exc:
        ticket_route(ticket=ticket, actor=world.agent, strategy="random")
    assert exc.value.field == "strategy"


def test_no_team_of_the_organization_admits_the_ticket(world):
    Team.objects.filter(organization=world.org).update(platforms=["shopify"])
    ticket = world.ticket()
    decision = ticket_route(ticket=ticket, actor=Actor.system("routing"))
    assert decision.team_id is None and decision.reasons == ("no team's scope admits the ticket",)
    ticket.refresh_from_db()
    assert ticket.team_id is None


def test_new_tickets_are_routed_after_triage_only_when_the_organization_enabled_it(world, de_team):
    team, _agents = de_team
    TeamFactory(organization=world.foreign_org, name="Foreign DE", languages=["de"])
    ticket = _de_ticket(world)
    first = Message.objects.create(
        ticket=ticket, store_id=ticket.store_id, direction=MessageDirection.INBOUND, channel="ebay", body="Hallo"
    )
    assert ticket_route_new(message_id=first.pk) is None  # off by default
    triage_settings_update(user=world.admin, auto_route=True)
    second = Message.objects.create(
        ticket=ticket, store_id=ticket.store_id, direction=MessageDirection.INBOUND, channel="ebay", body="Und?"
    )
    assert ticket_route_new(message_id=second.pk) is None  # not the ticket's first message
    decision = ticket_route_new(message_id=first.pk)
    assert decision is not None and decision.team_id == team.pk
    assert ticket_route_new(message_id=first.pk) is None  # already routed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_round_robin_under_concurrency() -> None:
    """Six tickets routed at once: the team row lock gives each its own turn (3 agents: 2 each)."""
    from aftersales.testing.personas import build_world

    world = build_world()
    world.team_de.routing_strategy = RoutingStrategy.ROUND_ROBIN
    world.team_de.save()
    for name in ("dora", "emil"):
        Membership.objects.create(
            team=world.team_de, user=UserFactory(username=name, organization=world.org, role=world.roles["agent"])
        )
    tickets = [_de_ticket(world) for _ in range(6)]
    barrier = threading.Barrier(len(tickets))
    results: list[Any] = [None] * len(tickets)

    def run(i: int) -> None:
        from django.db import connections

        try:
            barrier.wait()
            results[i] = ticket_route(ticket=tickets[i], actor=Actor.system("routing")).assignee_id
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tickets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(isinstance(r, int) for r in results), results
    assert sorted(Counter(results).values()) == [2, 2, 2]
