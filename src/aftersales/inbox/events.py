"""Domain events of the inbox, published after commit (core.events). Names and payloads are stable:
rules, SLA clocks, analytics, webhooks, notifications and the language engine consume them, and
docs/events.md lists them. Each event is one frozen dataclass with typed fields (its constructor)
and carries the `actor` who caused it (core.actors: user, customer, connector, rule, system)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aftersales.core.actors import Actor


@dataclass(frozen=True)
class TicketCreated:
    ticket_id: int
    organization_id: int
    actor: Actor  # the customer whose message opened it


@dataclass(frozen=True)
class MessageReceived:
    message_id: int
    ticket_id: int
    organization_id: int
    actor: Actor  # the customer who wrote


@dataclass(frozen=True)
class ReplyQueued:
    """A reply waits for delivery: written by an agent, or a failed one sent again."""

    message_id: int
    ticket_id: int
    organization_id: int
    actor: Actor


@dataclass(frozen=True)
class ReplyDelivered:
    message_id: int
    ticket_id: int
    organization_id: int
    actor: Actor  # the connector that delivered it


@dataclass(frozen=True)
class ReplyDeliveryFailed:
    message_id: int
    ticket_id: int
    organization_id: int
    error: str
    actor: Actor  # the connector that refused it, or the system (stale delivery sweeper)


@dataclass(frozen=True)
class NoteAdded:
    message_id: int
    ticket_id: int
    organization_id: int
    author_id: int | None  # None: a rule or the system wrote it (see actor)
    mentioned_user_ids: tuple[int, ...]
    actor: Actor


@dataclass(frozen=True)
class TicketAssigned:
    ticket_id: int
    organization_id: int
    assignee_id: int | None
    ticket_event_id: int  # the audit row of this assignment: a stable identity for consumers
    actor: Actor


@dataclass(frozen=True)
class TicketStatusChanged:
    """Published by `inbox.services.transition.ticket_transition`, the one place a status changes."""

    ticket_id: int
    organization_id: int
    old_status: str
    new_status: str
    reason: str  # "" (an agent's choice), "replied", "assigned", "customer_message", "merged", ...
    ticket_event_id: int
    actor: Actor


@dataclass(frozen=True)
class TicketsMerged:
    source_id: int
    target_id: int
    organization_id: int
    actor: Actor


@dataclass(frozen=True)
class TicketUpdated:
    """Classification fields or tags changed (ticket_update, ticket_set_tags): the rules engine's
    "ticket updated" trigger. `changes` maps each changed field (category, urgency,
    is_high_priority, subject, team_id, order_id, tags) to (old, new); tags are sorted tuples of names."""

    ticket_id: int
    organization_id: int
    changes: dict[str, tuple[Any, Any]] = field(hash=False)
    actor: Actor
    # The event's identity, made by the publisher: the call's last audit row (TicketEvent). A
    # duplicated publication carries the same id, so a subscriber keyed by it acts once.
    ticket_event_id: int = 0
