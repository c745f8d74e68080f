"""Events published by the rules engine's actions (docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.core.actors import Actor


@dataclass(frozen=True)
class RuleEmailRequested:
    """A rule's notify_email action: e-mail these users of the organization (the worker sends it)."""

    organization_id: int
    rule_id: int
    ticket_id: int | None
    user_ids: tuple[int, ...]
    subject: str
    body: str
    actor: Actor  # the rule
