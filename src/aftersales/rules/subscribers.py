"""Rules follow the domain events (docs/events.md): each subscriber enqueues the evaluation of the
organization's active rules for the event's trigger (rules.tasks)."""

from __future__ import annotations
