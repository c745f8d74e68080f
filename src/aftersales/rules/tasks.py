"""The worker's rule tasks: evaluate one event's rules (enqueued by rules.subscribers) and the
scheduled rules (periodic). Safe to run twice: an execution row per rule and event key is the claim."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import engine


@db_task(retries=3, retry_delay=10)
def evaluate_rules(
    organization_id: int,
    trigger: str,
    event_key: str,
    ticket_id: int | None = None,
    rma_id: int | None = None,
    message_id: int | None = None,
    event: dict[str, Any] | None = None,
    chain_depth: int = 0,
) -> int:
    result = engine.run_rules(
        organization_id=organization_id,
        trigger=trigger,
        event_key=event_key,
        ticket_id=ticket_id,
        rma_id=rma_id,
        message_id=message_id,
        event=event,
        chain_depth=chain_depth,
    )
    return len(result.applied)


@db_task(retries=3, retry_delay=10)
def evaluate_shipment_rules(
    organization_id: int, order_id: int, event_key: str, event: dict[str, Any], chain_depth: int = 0
) -> int:
    """A stalled shipment: the rules run once per open ticket of its order."""
    from aftersales.inbox.models import Ticket
    from aftersales.inbox.workflow import StatusCategory

    from .models import RuleTrigger

    applied = 0
    for ticket_id in (
        Ticket.objects.filter(organization_id=organization_id, order_id=order_id, merged_into__isnull=True)
        .exclude(status_category=StatusCategory.RESOLVED)
        .values_list("pk", flat=True)
    ):
        applied += len(
            engine.run_rules(
                organization_id=organization_id,
                trigger=RuleTrigger.SHIPMENT_STALLED,
                event_key=f"{event_key}:{ticket_id}",
                ticket_id=ticket_id,
                event=event,
                chain_depth=chain_depth,
            ).applied
        )
    return applied


@db_periodic_task(crontab(minute=f"*/{engine.SCHEDULE_MINUTES}"))
def scheduled_rules() -> dict[str, int]:
    return engine.run_scheduled()


@db_periodic_task(crontab(minute=f"*/{engine.SCHEDULE_MINUTES}"))
def idle_rules() -> dict[str, int]:
    """The "no movement for N days" rules (rules.idle)."""
    from .idle import run_idle

    return run_idle()


@db_task(retries=2, retry_delay=30)
def rule_simulation_run(run_id: int) -> str:
    """Replay a background dry run to the end (rules.simulation_runs; resumes from its checkpoint)."""
    from .simulation_runs import simulation_run_continue

    return simulation_run_continue(run_id)


@db_periodic_task(crontab(minute="17", hour="3"))
def prune_simulation_runs() -> int:
    """Daily: delete the background dry runs finished more than KEEP_DAYS days ago (idempotent)."""
    from .simulation_runs import simulation_runs_prune

    return simulation_runs_prune()
