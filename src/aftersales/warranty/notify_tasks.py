"""The warranty's buyer notifications as background work (Huey), enqueued after commit by
warranty.subscribers. Safe to run twice (warranty.notify answers a step and event once)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task(retries=3, retry_delay=60)
def warranty_notify_task(claim_id: int, step: str, event_id: int, actor_user_id: int | None) -> str:
    from .notify import warranty_notify_customer

    return warranty_notify_customer(claim_id=claim_id, step=step, event_id=event_id, actor_user_id=actor_user_id)
