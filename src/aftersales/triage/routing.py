"""Routing by skill (issue 11, section 4): choose a ticket's team, then an agent within it.

The choice is pure (`select_team`, `select_agent`, `select_route`: facts in, a `RoutingDecision` out,
property-tested); `ticket_route` gathers the facts, locks the chosen team's row (round robin's turn
and the agents' loads are read under that lock, so two tickets routed at once on PostgreSQL cannot
both take the same turn) and applies the decision through the inbox services as the given actor.

- Team: every team of the ticket's organization whose scope admits the ticket (each non-empty scope
  dimension - stores, platforms, languages, SKU categories - contains the ticket's value; an unknown
  value never excludes). The most specific wins (most dimensions matched by a known value), then the
  lowest id. No team admits it: nothing changes.
- Agent: an active member of that team, in the ticket's organization, whose role may process tickets,
  whose skills admit the ticket (User.skill_languages / skill_platforms / skill_categories; an empty
  list admits all), and who is on shift now by the team's calendar (sla.TeamCalendar; a team without a
  calendar is always on shift). Nobody: the team only. Among them, by the team's strategy (or the one
  asked for): least loaded (fewest open or waiting tickets assigned, then the lowest id) or round robin
  (the next id after the last one served, wrapping around)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission, RoutingStrategy, Team, User
from aftersales.accounts.permissions import has_perm
from aftersales.core.actors import Actor
from aftersales.core.clock import now as clock_now
from aftersales.core.errors import ValidationFailed
from aftersales.sla.business_time import Calendar, is_open

ROUTING = Actor.system("routing")


@dataclass(frozen=True)
class TicketFacts:
    organization_id: int
    store_id: int | None = None
    platform: str = ""
    language: str = ""
    category: str = ""
    sku_category: str = ""


@dataclass(frozen=True)
class TeamFacts:
    id: int
    organization_id: int
    store_ids: frozenset[int] = frozenset()
    platforms: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    sku_categories: frozenset[str] = frozenset()
    strategy: str = RoutingStrategy.LEAST_LOADED
    last_user_id: int | None = None
    calendar: Calendar | None = None  # None: always on shift


@dataclass(frozen=True)
class AgentFacts:
    id: int
    organization_id: int
    is_active: bool = True
    can_process: bool = True
    languages: frozenset[str] = frozenset()
    platforms: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    open_tickets: int = 0


@dataclass(frozen=True)
class RoutingDecision:
    team_id: int | None
    assignee_id: int | None
    strategy: str
    reasons: tuple[str, ...] = field(default=())
    # Why, as data (kept on the audit rows as payload["routing"] and told on the ticket's timeline in
    # the reader's language): outcome ("least_loaded", "round_robin", "nobody_on_shift",
    # "no_skilled_agent", "no_team"), team_matched (scope dimensions the ticket's known values matched),
    # skills ([dimension, value] pairs the chosen agent's own skill lists matched), eligible (agents
    # with the skills on shift), open_tickets (least loaded), after (round robin: the last one served).
    explanation: Mapping[str, Any] = field(default_factory=dict)


def _admits(values: frozenset[Any], value: Any) -> tuple[bool, bool]:
    """(admitted, matched by a known value) for one scope dimension."""
    if not values or value in (None, ""):
        return True, False
    return value in values, True


def team_matches(ticket: TicketFacts, team: TeamFacts) -> list[str] | None:
    """The scope dimensions of `team` a known value of `ticket` matches; None if it is refused."""
    if team.organization_id != ticket.organization_id:
        return None
    matched_dimensions = []
    for dimension, values, value in (
        ("store", team.store_ids, ticket.store_id),
        ("platform", team.platforms, ticket.platform),
        ("language", team.languages, ticket.language),
        ("sku_category", team.sku_categories, ticket.sku_category),
    ):
        admitted, matched = _admits(values, value)
        if not admitted:
            return None
        if matched:
            matched_dimensions.append(dimension)
    return matched_dimensions


def team_score(ticket: TicketFacts, team: TeamFacts) -> int | None:
    """How many scope dimensions of `team` a known value of `ticket` matches; None if it is refused."""
    matched = team_matches(ticket, team)
    return None if matched is None else len(matched)


def agent_skills_matched(ticket: TicketFacts, agent: AgentFacts) -> list[list[str]]:
    """The [dimension, value] pairs the agent's own (non-empty) skill lists matched."""
    return [
        [dimension, value]
        for dimension, skills, value in (
            ("language", agent.languages, ticket.language),
            ("platform", agent.platforms, ticket.platform),
            ("category", agent.categories, ticket.category),
        )
        if skills and value and value in skills
    ]


def select_team(ticket: TicketFacts, teams: Sequence[TeamFacts]) -> tuple[TeamFacts | None, str]:
    scored = [(score, team) for team in teams if (score := team_score(ticket, team)) is not None]
    if not scored:
        return None, "no team's scope admits the ticket"
    score, team = min(scored, key=lambda pair: (-pair[0], pair[1].id))
    return team, f"team {team.id}: scope admits the ticket ({score} dimension(s) matched)"


def eligible_agents(ticket: TicketFacts, team: TeamFacts, agents: Sequence[AgentFacts]) -> list[AgentFacts]:
    """The team's agents who may take the ticket (shift aside)."""
    out = []
    for agent in agents:
        if agent.organization_id != ticket.organization_id or not agent.is_active or not agent.can_process:
            continue
        if all(
            _admits(skills, value)[0]
            for skills, value in (
                (agent.languages, ticket.language),
                (agent.platforms, ticket.platform),
                (agent.categories, ticket.category),
            )
        ):
            out.append(agent)
    return out


def select_agent(
    ticket: TicketFacts, team: TeamFacts, agents: Sequence[AgentFacts], *, now: datetime, strategy: str | None = None
) -> RoutingDecision:
    chosen = strategy or team.strategy
    if team.calendar is not None and not is_open(team.calendar, now):
        return RoutingDecision(
            team.id,
            None,
            chosen,
            ("nobody on shift: team calendar closed now",),
            {"outcome": "nobody_on_shift", "eligible": 0},
        )
    candidates = eligible_agents(ticket, team, agents)
    if not candidates:
        return RoutingDecision(
            team.id,
            None,
            chosen,
            ("no active agent with the skills in the team",),
            {"outcome": "no_skilled_agent", "eligible": 0},
        )
    explanation: dict[str, Any] = {"eligible": len(candidates)}
    if chosen == RoutingStrategy.ROUND_ROBIN:
        ids = sorted(a.id for a in candidates)
        last = team.last_user_id
        pick = next((i for i in ids if last is None or i > last), ids[0])
        why = f"round robin: next after {last}" if last is not None else "round robin: first turn"
        explanation.update(outcome="round_robin", after=last)
    else:
        best = min(candidates, key=lambda a: (a.open_tickets, a.id))
        pick = best.id
        why = f"least loaded: {best.open_tickets} open ticket(s)"
        explanation.update(outcome="least_loaded", open_tickets=best.open_tickets)
    agent = next(a for a in candidates if a.id == pick)
    explanation["skills"] = agent_skills_matched(ticket, agent)
    return RoutingDecision(team.id, pick, chosen, (f"{len(candidates)} agent(s) eligible on shift", why), explanation)


def select_route(
    ticket: TicketFacts,
    teams: Sequence[TeamFacts],
    members: Mapping[int, Sequence[AgentFacts]],
    *,
    now: datetime,
    strategy: str | None = None,
) -> RoutingDecision:
    """The whole choice, pure: the team, then the agent within it."""
    team, why = select_team(ticket, teams)
    if team is None:
        return RoutingDecision(None, None, strategy or "", (why,), {"outcome": "no_team"})
    decision = select_agent(ticket, team, members.get(team.id, ()), now=now, strategy=strategy)
    return _with_team(decision, ticket, team, why)


def _with_team(decision: RoutingDecision, ticket: TicketFacts, team: TeamFacts, why: str) -> RoutingDecision:
    explanation = {**decision.explanation, "team_matched": team_matches(ticket, team) or []}
    return RoutingDecision(
        decision.team_id, decision.assignee_id, decision.strategy, (why, *decision.reasons), explanation
    )


# --------------------------------------------------------------------------- facts from the database


def ticket_facts(ticket: Any) -> TicketFacts:
    return TicketFacts(
        organization_id=ticket.organization_id,
        store_id=ticket.store_id,
        platform=ticket.platform or "",
        language=(ticket.language or "").lower(),
        category=ticket.category or "",
        sku_category=ticket.sku_category or "",
    )


def _team_calendars(team_ids: list[int]) -> dict[int, Calendar]:
    from aftersales.sla.models import TeamCalendar

    links = TeamCalendar.objects.select_related("calendar").filter(team_id__in=team_ids)
    return {link.team_id: link.calendar.as_calendar() for link in links}


def _team_facts(team: Team, calendars: Mapping[int, Calendar]) -> TeamFacts:
    return TeamFacts(
        id=team.pk,
        organization_id=team.organization_id,
        store_ids=frozenset(s.pk for s in team.stores.all()),
        platforms=frozenset(team.platforms or ()),
        languages=frozenset(str(v).lower() for v in team.languages or ()),
        sku_categories=frozenset(team.sku_categories or ()),
        strategy=team.routing_strategy,
        last_user_id=team.routing_last_user_id,
        calendar=calendars.get(team.pk),
    )


def _agent_facts(team: Team) -> list[AgentFacts]:
    from aftersales.inbox.models import Ticket
    from aftersales.inbox.workflow import StatusCategory

    users = list(User.objects.filter(memberships__team=team).select_related("role").order_by("pk"))
    loads = dict(
        Ticket.objects.filter(
            organization_id=team.organization_id,
            assignee_id__in=[u.pk for u in users],
            status_category__in=[StatusCategory.OPEN, StatusCategory.WAITING],
        )
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
    )
    return [
        AgentFacts(
            id=u.pk,
            organization_id=u.organization_id or 0,
            is_active=u.is_active,
            can_process=has_perm(u, Permission.PROCESS),
            languages=frozenset(str(v).lower() for v in u.skill_languages or ()),
            platforms=frozenset(u.skill_platforms or ()),
            categories=frozenset(u.skill_categories or ()),
            open_tickets=loads.get(u.pk, 0),
        )
        for u in users
    ]


def check_strategy(strategy: str | None) -> str | None:
    if strategy in (None, ""):
        return None
    if strategy not in RoutingStrategy.values:
        raise ValidationFailed(
            _("unknown strategy %(value)r; expected one of %(join)s")
            % {"value": strategy, "join": ", ".join(RoutingStrategy.values)},
            field="strategy",
        )
    return strategy


# --------------------------------------------------------------------------- the service


def ticket_route(
    *, ticket: Any, actor: User | Actor, strategy: str | None = None, now: datetime | None = None
) -> RoutingDecision:
    """Route `ticket` by skill and apply the decision (team, then assignee when one is chosen) through
    inbox.services as `actor` (an agent: permission-checked; a rule or the system: trusted). Nothing
    changes when no team admits the ticket. Returns the decision with its reasons."""
    from aftersales.inbox.models import Ticket, TicketEvent
    from aftersales.inbox.services import ticket_assign, ticket_routing_unchanged, ticket_update
    from aftersales.inbox.services.common import check_ticket_actor

    acting = check_ticket_actor(actor, ticket, Permission.PROCESS)
    chosen_strategy = check_strategy(strategy)
    at = now or clock_now()
    with transaction.atomic():
        current = Ticket.objects.get(pk=ticket.pk)
        facts = ticket_facts(current)
        teams = list(Team.objects.filter(organization_id=current.organization_id).prefetch_related("stores"))
        calendars = _team_calendars([t.pk for t in teams])
        team_choice, why = select_team(facts, [_team_facts(t, calendars) for t in teams])
        if team_choice is None:
            nothing = RoutingDecision(None, None, chosen_strategy or "", (why,), {"outcome": "no_team"})
            ticket_routing_unchanged(ticket=current, actor=acting, explanation=nothing.explanation)
            return nothing
        # the turn and the loads are read under the team's row lock (race-safe on PostgreSQL)
        team = Team.objects.select_for_update().get(pk=team_choice.id)
        team_facts = _team_facts(team, calendars)
        picked = select_agent(facts, team_facts, _agent_facts(team), now=at, strategy=chosen_strategy)
        decision = _with_team(picked, facts, team_facts, why)
        reason = f"routing ({decision.strategy}): " + "; ".join(decision.reasons)
        last_event = TicketEvent.objects.filter(ticket=current).order_by("-pk").values_list("pk", flat=True).first()
        ticket_update(ticket=current, actor=actor, team=team, reason=reason)
        if decision.assignee_id is not None:
            assignee = User.objects.select_related("role").get(pk=decision.assignee_id)
            ticket_assign(ticket=current, actor=actor, assignee=assignee, reason=reason)
            if decision.strategy == RoutingStrategy.ROUND_ROBIN:
                Team.objects.filter(pk=team.pk).update(routing_last_user_id=decision.assignee_id)
        if not _explain_on_audit_rows(current.pk, after=last_event or 0, explanation=decision.explanation):
            # the team and agent chosen are the ones the ticket has: say so on the timeline
            ticket_routing_unchanged(ticket=current, actor=acting, explanation=decision.explanation)
    return decision


def _explain_on_audit_rows(ticket_id: int, *, after: int, explanation: Mapping[str, Any]) -> int:
    """Add the decision's explanation to the audit rows routing just wrote (team change, assignment),
    in the same transaction, so the timeline can say why in the reader's language. Returns how many
    rows it found (0: routing changed nothing)."""
    from aftersales.inbox.models import TicketEvent, TicketEventType

    rows = list(
        TicketEvent.objects.filter(
            ticket_id=ticket_id, pk__gt=after, type__in=[TicketEventType.TEAM_CHANGED, TicketEventType.ASSIGNED]
        )
    )
    for row in rows:
        row.payload = {**(row.payload or {}), "routing": dict(explanation)}
        row.save(update_fields=["payload"])
    return len(rows)


def route_new_wanted(
    *, ticket: Any, message_id: int, auto_route: bool, first_inbound: Callable[[], int | None]
) -> bool:
    """Whether `ticket_route_new` routes `ticket` for its message `message_id`: the organization turned
    auto-routing on (`auto_route`), the ticket has no team, no assignee, is neither merged nor closed, and
    the message is its first inbound one (`first_inbound` reads which, only when needed)."""
    from aftersales.inbox.workflow import TicketStatus

    if not auto_route:
        return False
    if ticket.assignee_id is not None or ticket.team_id is not None or ticket.merged_into_id is not None:
        return False
    if ticket.status == TicketStatus.CLOSED:
        return False
    return first_inbound() == message_id


def ticket_route_new(*, message_id: int) -> RoutingDecision | None:
    """Routing of a new ticket once its first message is triaged (language and category come from
    triage), when the organization turned auto-routing on, as Actor.system("routing"). Tickets that
    already have a team or an assignee are left alone (safe to run twice)."""
    from aftersales.inbox.models import Message

    from .selectors import inbound_message_of, triage_settings_of

    message = Message.objects.select_related("ticket").filter(pk=message_id).first()
    if message is None:
        return None
    ticket = message.ticket
    if not route_new_wanted(
        ticket=ticket,
        message_id=message_id,
        auto_route=triage_settings_of(ticket.organization_id).auto_route,
        first_inbound=lambda: inbound_message_of(ticket.pk, latest=False),
    ):
        return None
    return ticket_route(ticket=ticket, actor=ROUTING)
