"""The worker's SLA tasks: recompute one ticket's clocks (enqueued by the subscribers), refresh stale
clocks and sweep for warnings and breaches (periodic), notify people of them. All safe to run twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from aftersales.core.tasks import runs_batches_of, write_items

from . import services


@db_task(retries=3, retry_delay=10)
def recompute_ticket_sla(ticket_id: int) -> bool:
    return services.ticket_sla_recompute(ticket_id=ticket_id) is not None


@db_periodic_task(crontab(minute="*"))
def sla_minutely() -> dict[str, int]:
    """Refresh what changed, then flag what is due (in that order, so a fresh due time is used)."""
    refreshed = services.sla_refresh()
    return {"refreshed": refreshed, **services.sla_sweep()}


@db_task(retries=3, retry_delay=30)
def notify_sla(ticket_id: int, clock: str, due_at: datetime, breached: bool) -> int:
    return services.sla_notify(ticket_id=ticket_id, clock=clock, due_at=due_at, breached=breached)


@runs_batches_of(recompute_ticket_sla, own_transactions=True)
def recompute_tickets_sla(arguments: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """recompute_ticket_sla for the fan-out jobs of many tickets at once: fixed queries, then the rows
    written `write_items()` tickets per transaction (all in one on PostgreSQL; ADR 0039 on SQLite)."""
    services.tickets_sla_recompute(ticket_ids=[ticket_id for (ticket_id,) in arguments], write_items=write_items())
    return []
