from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services


@db_task(retries=5, retry_delay=60)
def email_notification(notification_id: int) -> bool:
    return services.notification_email(notification_id)


@db_task(retries=3, retry_delay=10)
def notify_mentions(note_id: int, ticket_id: int, author_id: int | None, user_ids: tuple[int, ...]) -> int:
    return services.notify_mentions(note_id=note_id, ticket_id=ticket_id, author_id=author_id, user_ids=tuple(user_ids))


@db_task(retries=3, retry_delay=10)
def notify_assigned(ticket_id: int, assignee_id: int, actor_id: int | None, ticket_event_id: int) -> None:
    services.notify_assigned(
        ticket_id=ticket_id, assignee_id=assignee_id, actor_id=actor_id, ticket_event_id=ticket_event_id
    )


@db_periodic_task(crontab(minute="0"))
def hourly_reminders() -> int:
    return services.send_pending_reminders()


@db_task(retries=2, retry_delay=30)
def deliver_outbox_message(message_id: int) -> str:
    """One outbox row (notifications.outbox): sent at most once; its own retries are rows, not task retries."""
    from . import outbox

    return outbox.outbox_deliver(message_id)


@db_periodic_task(crontab(minute="*"))
def outbox_retry_due() -> int:
    from . import outbox

    return outbox.outbox_retry_due()
