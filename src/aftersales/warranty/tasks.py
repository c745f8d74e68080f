"""Periodic warranty work: expiry reminders to customers. Safe to run twice (each reminder has a
unique key per unit, last covered day and days before)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import reminders_queue


@db_periodic_task(crontab(minute="20", hour="*/6"))
def warranty_reminders() -> int:
    """Every six hours: queue the reminders that became due (a missed run catches up on the next)."""
    return reminders_queue()
