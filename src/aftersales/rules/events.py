"""Rules events (docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.core.actors import Actor


@dataclass(frozen=True)
class RuleSimulationQueued:
    """A dry run too big to answer inline was handed to the worker (rules.simulation_runs)."""

    run_id: int
    organization_id: int
    actor: Actor  # the admin who asked for it
