"""The ticket timeline in words: messages as they are, audit events as sentences in the agent's
language ("Alice changed status from Open to Solved")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from aftersales.catalog.models import Platform
from aftersales.inbox.models import Message, TicketCategory, TicketEvent, TicketEventType, TicketStatus, Urgency
from aftersales.inbox.selectors import TimelineEntry
from aftersales.returns.models import ReturnRequestKind

from .translations import MessageLanguage

# Events that only repeat a message already shown in the timeline.
HIDDEN_EVENTS = frozenset({TicketEventType.MESSAGE_RECEIVED, TicketEventType.REPLIED, TicketEventType.NOTE_ADDED})


@dataclass(frozen=True)
class TimelineItem:
    kind: str  # "inbound" | "outbound" | "note" | "event"
    at: datetime
    message: Message | None = None
    text: str = ""
    tone: str = ""  # css modifier for events: "", "bad", "good"
    lang: MessageLanguage | None = None  # a message's translation for the viewer


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _actor_label(kind: str, ref: str = "") -> str:
    """Who acted when it was not a user (core.actors): a rule by its id, triage and routing by name."""
    if kind == "rule" and ref:
        return _("Rule #%(id)s") % {"id": ref}
    if kind == "system" and ref in ("triage", "routing"):
        return {"triage": _("Triage"), "routing": _("Routing")}[ref]
    return {"customer": _("Customer"), "connector": _("Connector"), "rule": _("Rule")}.get(kind, _("System"))


def routing_explanation(why: Mapping[str, Any]) -> str:
    """Why routing chose this team and agent (triage.routing.RoutingDecision.explanation), in words."""
    dimensions = {
        "store": _("store"),
        "platform": _("platform"),
        "language": _("language"),
        "sku_category": _("product category"),
        "category": _("category"),
    }
    parts = []
    outcome = why.get("outcome", "")
    if outcome == "least_loaded":
        parts.append(
            _("least loaded of %(n)s agent(s) on shift with the skills (%(open)s open ticket(s))")
            % {"n": why.get("eligible", 0), "open": why.get("open_tickets", 0)}
        )
    elif outcome == "round_robin":
        parts.append(
            _("round-robin turn among %(n)s agent(s) on shift with the skills") % {"n": why.get("eligible", 0)}
        )
    elif outcome == "nobody_on_shift":
        parts.append(_("nobody on shift now by the team's calendar: the team only"))
    elif outcome == "no_skilled_agent":
        parts.append(_("no active agent of the team has the skills: the team only"))
    elif outcome == "no_team":
        parts.append(_("no team's scope admits the ticket"))
        return "; ".join(str(part) for part in parts)
    skills = [f"{dimensions.get(d, d)} {v}" for d, v in why.get("skills") or ()]
    if skills:
        parts.append(_("skills matched: %(skills)s") % {"skills": ", ".join(skills)})
    matched = [str(dimensions.get(d, d)) for d in why.get("team_matched") or ()]
    if matched:
        parts.append(_("team's scope matched: %(dims)s") % {"dims": ", ".join(matched)})
    elif outcome:
        parts.append(_("team's scope admits every ticket"))
    return "; ".join(str(part) for part in parts)


def event_sentence(event: TicketEvent, users: Mapping[int, str], teams: Mapping[int, str]) -> str:
    text = _event_sentence(event, users, teams)
    why = (event.payload or {}).get("routing")
    if isinstance(why, dict) and event.type in (TicketEventType.ASSIGNED, TicketEventType.TEAM_CHANGED):
        return _("%(text)s. Routing by skill: %(why)s") % {"text": text, "why": routing_explanation(why)}
    return text


def _event_sentence(event: TicketEvent, users: Mapping[int, str], teams: Mapping[int, str]) -> str:
    p = event.payload or {}
    actor = str(event.actor) if event.actor else _actor_label(event.actor_kind, event.actor_ref)

    def user(pk: Any) -> str:
        return users.get(pk, f"#{pk}") if pk else _("nobody")

    t = event.type
    if t == TicketEventType.CREATED:
        return _("Ticket created")
    if t == TicketEventType.STATUS_CHANGED:
        text = _("%(actor)s changed status from %(old)s to %(new)s") % {
            "actor": actor,
            "old": _label(TicketStatus, p.get("old")),
            "new": _label(TicketStatus, p.get("new")),
        }
        reasons = {
            "merged": _("merged"),
            "assigned": _("assigned"),
            "replied": _("reply delivered"),
            "customer_message": _("customer wrote"),
        }
        reason = reasons.get(p.get("reason", ""), p.get("reason", ""))
        return f"{text} ({reason})" if reason else text
    if t == TicketEventType.ASSIGNED:
        if not p.get("new"):
            return _("%(actor)s unassigned the ticket") % {"actor": actor}
        return _("%(actor)s assigned the ticket to %(user)s") % {"actor": actor, "user": user(p.get("new"))}
    if t == TicketEventType.TEAM_CHANGED:
        if not p.get("new"):
            return _("%(actor)s removed the team") % {"actor": actor}
        team = teams.get(p["new"], f"#{p['new']}")
        return _("%(actor)s moved the ticket to team %(team)s") % {"actor": actor, "team": team}
    if t == TicketEventType.SUBJECT_CHANGED:
        return _("%(actor)s changed the subject to “%(new)s”") % {"actor": actor, "new": p.get("new", "")}
    if t == TicketEventType.CATEGORY_CHANGED:
        return _("%(actor)s changed category from %(old)s to %(new)s") % {
            "actor": actor,
            "old": _label(TicketCategory, p.get("old")),
            "new": _label(TicketCategory, p.get("new")),
        }
    if t == TicketEventType.URGENCY_CHANGED:
        return _("%(actor)s changed urgency from %(old)s to %(new)s") % {
            "actor": actor,
            "old": _label(Urgency, p.get("old")),
            "new": _label(Urgency, p.get("new")),
        }
    if t == TicketEventType.PRIORITY_CHANGED:
        if p.get("new"):
            return _("%(actor)s marked the ticket as high priority") % {"actor": actor}
        return _("%(actor)s removed the high-priority mark") % {"actor": actor}
    if t == TicketEventType.TAGS_CHANGED:
        old, new = set(p.get("old") or ()), set(p.get("new") or ())
        parts = []
        if new - old:
            parts.append(_("added %(tags)s") % {"tags": ", ".join(sorted(new - old))})
        if old - new:
            parts.append(_("removed %(tags)s") % {"tags": ", ".join(sorted(old - new))})
        return _("%(actor)s changed tags: %(changes)s") % {"actor": actor, "changes": "; ".join(parts)}
    if t == TicketEventType.MERGED:
        return _("%(actor)s merged this ticket into #%(id)s") % {"actor": actor, "id": p.get("into")}
    if t == TicketEventType.MERGED_FROM:
        return _("%(actor)s merged ticket #%(id)s into this one") % {"actor": actor, "id": p.get("source")}
    if t == TicketEventType.ORDER_LINKED:
        if not p.get("new"):
            return _("%(actor)s unlinked the order") % {"actor": actor}
        return _("%(actor)s linked the order") % {"actor": actor}
    if t == TicketEventType.ROUTED_UNCHANGED:
        return _("%(actor)s routed the ticket by skill; nothing changed: %(why)s") % {
            "actor": actor,
            "why": routing_explanation(p.get("routing") or {}) or _("it already has that team and agent"),
        }
    if t == TicketEventType.REPLY_SENT:
        return _("Reply delivered to the customer")
    if t == TicketEventType.REPLY_RETRIED:
        return _("%(actor)s sent a failed reply again") % {"actor": actor}
    if t == TicketEventType.REPLY_FAILED:
        return _("Reply could not be delivered: %(error)s") % {"error": p.get("error", "")}
    if t in (TicketEventType.RETURN_REQUEST_RECEIVED, TicketEventType.RETURN_REQUEST_STATUS_CHANGED):
        # The marketplace's status words are shown as the platform wrote them.
        names = {
            "platform": _label(Platform, p.get("platform", "")),
            "kind": _label(ReturnRequestKind, p.get("kind", "")),
            "id": p.get("external_id", ""),
        }
        if t == TicketEventType.RETURN_REQUEST_RECEIVED:
            return _("%(platform)s: %(kind)s %(id)s received (status on the marketplace: %(status)s)") % {
                **names,
                "status": p.get("status", ""),
            }
        return _("%(platform)s: %(kind)s %(id)s changed status on the marketplace from %(old)s to %(new)s") % {
            **names,
            "old": p.get("old", ""),
            "new": p.get("new", ""),
        }
    return _label(TicketEventType, t)


def timeline_items(
    entries: Iterable[TimelineEntry],
    users: Mapping[int, str],
    teams: Mapping[int, str],
    languages: Mapping[int, MessageLanguage] | None = None,
) -> list[TimelineItem]:
    items: list[TimelineItem] = []
    languages = languages or {}
    for entry in entries:
        if entry.message is not None:
            message = entry.message
            items.append(TimelineItem(message.direction, entry.at, message, lang=languages.get(message.pk)))
            continue
        event = entry.event
        if event is None or event.type in HIDDEN_EVENTS:
            continue
        tone = "bad" if event.type == TicketEventType.REPLY_FAILED else ""
        items.append(TimelineItem(kind="event", at=entry.at, text=event_sentence(event, users, teams), tone=tone))
    return items
