"""Background jobs of the inbox (Huey). Every task is safe to run twice."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .services.delivery import DeliveryRetry, message_deliver, messages_fail_stale_sending


@db_task(retries=6, retry_delay=30)  # 7 attempts: see delivery.MAX_DELIVERY_ATTEMPTS
def deliver_reply(message_id: int) -> str:
    try:
        return message_deliver(message_id)
    except DeliveryRetry:
        raise  # Huey retries it with the delay above


@db_periodic_task(crontab(minute="*/5"))
def sweep_stale_deliveries() -> int:
    return messages_fail_stale_sending()
