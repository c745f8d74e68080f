"""Periodic follow-ups (docs/followups.md). Each job claims its work by a unique key per (kind,
object, slot): running twice, or two workers at once, sends nothing twice."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import jobs


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
