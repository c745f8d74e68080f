"""Periodic follow-ups (docs/followups.md). Each job claims its work by a unique key per (kind,
object, slot): running twice, or two workers at once, sends nothing twice."""

from __future__ import annotations

import logging
from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from aftersales.core.tasks import runs_batches_of

from . import jobs

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/15"))
def followups_csat_surveys() -> int:
    """Every 15 minutes: CSAT surveys of tickets solved the configured hours ago."""
    return jobs.csat_surveys_send()


@db_periodic_task(crontab(minute="5,35"))
def followups_complaint_thanks() -> int:
    """Every 30 minutes: thank-you messages with a coupon after solved complaints."""
    return jobs.complaint_thanks_send()


@db_periodic_task(crontab(minute="10", hour="*"))
def followups_stalled_parcels() -> int:
    """Hourly (tracking refreshes every 15 minutes; stalls are counted in days)."""
    return jobs.stalled_parcels_notify()


@db_periodic_task(crontab(minute="40", hour="*"))
def followups_warranty_reminders() -> int:
    """Hourly catch-up of warranty reminders whose delivery task was lost."""
    return jobs.warranty_reminders_deliver()


@db_task(retries=3, retry_delay=60)
def followups_warranty_reminder_deliver(reminder_id: int) -> bool:
    """Deliver one reminder as soon as the warranty sweep queued it."""
    return jobs.warranty_reminder_deliver(reminder_id=reminder_id).sent


@db_task(retries=3, retry_delay=60)
def followups_csat_reply(message_id: int) -> bool:
    """A buyer's reply that is only a rating (1-5) answers the ticket's open CSAT survey."""
    from .services import csat_rate_by_reply

    return csat_rate_by_reply(message_id=message_id) is not None


@runs_batches_of(followups_csat_reply, own_transactions=True)
def followups_csat_replies(arguments: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """followups_csat_reply for the fan-out jobs of many messages: one read of their bodies; only a
    message that is a rating goes on to csat_rate_by_reply (for any other it returns None, writing
    nothing), each in its own transaction as alone. Returns the jobs whose message failed."""
    from aftersales.inbox.models import Message, MessageDirection

    from .services import csat_rate_by_reply, rating_in_reply

    ids = [message_id for (message_id,) in arguments]
    bodies = Message.objects.filter(pk__in=ids, direction=MessageDirection.INBOUND).values_list("pk", "body")
    failed: list[tuple[Any, ...]] = []
    for message_id, body in bodies:
        if rating_in_reply(body) is None:
            continue
        try:
            csat_rate_by_reply(message_id=message_id)
        except Exception:
            logger.warning("CSAT reply failed", exc_info=True, extra={"message_id": message_id})
            failed.append((message_id,))
    return failed
