"""Background jobs of the RMA workflow (Huey), enqueued after commit by returns.rma_subscribers.
Every task is safe to run twice: write-backs go through the ledger's key, customer replies carry an
idempotency key, warehouse notifications a dedupe key, tracking updates check the RMA's state."""

from __future__ import annotations

import logging
from typing import Any

from huey.contrib.djhuey import db_task

from aftersales.channels.base import ConnectorError
from aftersales.core.actors import Actor

logger = logging.getLogger(__name__)


@db_task(retries=5, retry_delay=60)
def rma_writeback_task(rma_id: int, rma_event_id: int) -> str:
    from .rma_sync import rma_writeback

    try:
        return rma_writeback(rma_id=rma_id, rma_event_id=rma_event_id)
    except ConnectorError as exc:
        if exc.permanent:
            return "failed"
        raise  # transient: Huey retries; the write-back ledger keeps it to one decision


@db_task(retries=0)
def rma_writeback_batch_task(items: list[list[int]]) -> dict[str, int]:
    """The write-backs of one transaction's status changes ([rma id, rma event id] each), one after the
    other. An item that fails for a passing reason (or a bug) is handed to its own `rma_writeback_task`
    with that task's retries, so a retry never repeats the items that went through."""
    from .rma_sync import rma_writeback

    states: dict[str, int] = {}
    for rma_id, rma_event_id in items:
        try:
            state = rma_writeback(rma_id=rma_id, rma_event_id=rma_event_id)
        except ConnectorError as exc:
            state = "failed" if exc.permanent else "retrying"
            if not exc.permanent:
                rma_writeback_task(rma_id, rma_event_id)
        except Exception:
            logger.exception("RMA write-back failed", extra={"rma_id": rma_id})
            state = "retrying"
            rma_writeback_task(rma_id, rma_event_id)
        states[state] = states.get(state, 0) + 1
    return states


@db_task(retries=0)
def rma_notify_batch_task(items: list[list[Any]]) -> dict[str, int]:
    """The buyer notifications of one transaction's status changes ([rma id, step, rma event id,
    actor user id] each), each step's event payload read in one query. An item that fails is handed
    to its own `rma_notify_task` with that task's retries (each reply carries its idempotency key)."""
    from .models import RmaEvent
    from .notify import rma_notify_customer

    payloads = dict(RmaEvent.objects.filter(pk__in=[item[2] for item in items]).values_list("pk", "payload"))
    outcomes: dict[str, int] = {}
    for rma_id, step, rma_event_id, actor_user_id in items:
        payload = payloads.get(rma_event_id) or {}
        try:
            outcome = rma_notify_customer(
                rma_id=rma_id, step=step, rma_event_id=rma_event_id, actor_user_id=actor_user_id, payload=payload
            )
        except Exception:
            logger.exception("RMA notification failed", extra={"rma_id": rma_id, "step": step})
            outcome = "retrying"
            rma_notify_task(rma_id, step, rma_event_id, actor_user_id, payload)
        key = outcome.split(":", 1)[0]
        outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes


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


@db_task(retries=3, retry_delay=300)
def rma_label_fetch_task(rma_id: int) -> str:
    """The marketplace issued a return label: store it on the RMA (returns.rma_labels; idempotent:
    an RMA that has its label or moved on is left as it is)."""
    from .rma_labels import rma_label_fetch_automatic

    return rma_label_fetch_automatic(rma_id=rma_id)
