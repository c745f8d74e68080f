"""Domain events of the inbox. Names and payloads are stable: the rules engine, SLA clocks,
notifications and the language engine subscribe to them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TicketCreated:
    ticket_id: int
    organization_id: int


@dataclass(frozen=True)
class MessageReceived:
    message_id: int
    ticket_id: int
    organization_id: int


@dataclass(frozen=True)
class ReplyQueued:
    message_id: int
    ticket_id: int


@dataclass(frozen=True)
class NoteAdded:
    message_id: int
    ticket_id: int
    author_id: int
    mentioned_user_ids: tuple[int, ...]


@dataclass(frozen=True)
class TicketAssigned:
    ticket_id: int
    assignee_id: int | None
    actor_id: int | None
    ticket_event_id: int  # the audit row of this assignment: a stable identity for consumers


@dataclass(frozen=True)
class TicketStatusChanged:
    ticket_id: int
    old_status: str
    new_status: str
    actor_id: int | None


@dataclass(frozen=True)
class TicketsMerged:
    source_id: int
    target_id: int
    actor_id: int | None
