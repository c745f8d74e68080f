"""Background jobs of the RMA workflow (Huey), enqueued after commit by returns.rma_subscribers.
Every task is safe to run twice: write-backs go through the ledger's key, customer replies carry an
idempotency key, warehouse notifications a dedupe key, tracking updates check the RMA's state."""

from __future__ import annotations

from typing import Any

from huey.contrib.djhuey import db_task

from aftersales.channels.base import ConnectorError
from aftersales.core.actors import Actor


@db_task(retries=5, retry_delay=60)
def rma_writeback_task(rma_id: int, rma_event_id: int) -> str:
    from .rma_sync import rma_writeback

    try:
        return rma_writeback(rma_id=rma_id, rma_event_id=rma_event_id)
    except ConnectorError as exc:
        if exc.permanent:
            return "failed"
        raise  # transient: Huey retries; the write-back ledger keeps it to one decision


@db_task(retries=3, retry_delay=60)
def rma_notify_task(
    rma_id: int, step: str, rma_event_id: int, actor_user_id: int | None, payload: dict[str, Any]
) -> str:
    from .notify import rma_notify_customer

    return rma_notify_customer(
        rma_id=rma_id, step=step, rma_event_id=rma_event_id, actor_user_id=actor_user_id, payload=payload
    )


@db_task(retries=3, retry_delay=60)
def rma_warehouse_reminder_task(rma_id: int, source: str) -> int:
    from .notify import rma_warehouse_reminder

    return rma_warehouse_reminder(rma_id=rma_id, source=source)


@db_task(retries=3, retry_delay=60)
def rma_tracking_task(order_id: int, tracking_number: str, new_status: str, actor: dict[str, str]) -> str:
    from .rma_actions import rma_tracking_update

    return rma_tracking_update(
        order_id=order_id,
        tracking_number=tracking_number,
        new_status=new_status,
        actor=Actor(actor.get("kind", "system"), actor.get("id", ""), actor.get("label", "")),
    )
