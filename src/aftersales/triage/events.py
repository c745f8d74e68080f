"""Events published by triage (docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.core.actors import Actor


@dataclass(frozen=True)
class MessageTriaged:
    """An inbound message was classified (first time, or again with a new model version)."""

    message_id: int
    ticket_id: int
    organization_id: int
    intent: str
    urgency: str
    needs_human: bool
    actor: Actor  # the system ("triage")
