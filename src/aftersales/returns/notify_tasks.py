"""The buyer's "refund paid" message for a refund without an RMA, as background work (Huey), enqueued
after commit by returns.notify_subscribers. Safe to run twice (returns.notify answers a step and event
once)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task(retries=3, retry_delay=60)
def refund_notify_task(refund_id: int, refund_event_id: int, actor_user_id: int | None) -> str:
    from .notify import refund_notify_customer

    return refund_notify_customer(refund_id=refund_id, refund_event_id=refund_event_id, actor_user_id=actor_user_id)
