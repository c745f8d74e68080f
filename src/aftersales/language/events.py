"""Domain events of the language engine, published after commit (core.events). Listed in
docs/events.md."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.core.actors import Actor


@dataclass(frozen=True)
class TranslationJobCreated:
    """A batch translation was queued; the worker runs it (language.subscribers)."""

    job_id: int
    organization_id: int
    actor: Actor
