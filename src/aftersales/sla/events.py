"""SLA events, published by the sweep (services.sla_sweep) once per clock and kind: the claim on the
row's `*_warned_at` / `*_breached_at` makes a second sweep publish nothing. Rules and notifications
consume them; docs/events.md lists them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.core.actors import Actor


@dataclass(frozen=True)
class SlaWarning:
    """A clock used its policy's warning share (e.g. 75%) of the target and has not stopped."""

    ticket_id: int
    organization_id: int
    clock: str  # models.SlaClock: first_response, resolution, marketplace
    due_at: datetime
    actor: Actor  # system ("sla")


@dataclass(frozen=True)
class SlaBreached:
    """A clock passed its due time without stopping (or stopped after it)."""

    ticket_id: int
    organization_id: int
    clock: str
    due_at: datetime
    actor: Actor  # system ("sla")
