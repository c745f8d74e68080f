"""Notifications listen to inbox events (the inbox does not know about notifications) and to their
own: services publish events, subscribers enqueue the worker's tasks (services never import tasks)."""

from aftersales.core.events import subscribe
from aftersales.inbox.events import NoteAdded, TicketAssigned

from .events import NotificationCreated, OutboxMessageQueued


def _on_note(event: NoteAdded) -> None:
    if event.mentioned_user_ids:
        from .tasks import notify_mentions

        notify_mentions(event.message_id, event.ticket_id, event.author_id, event.mentioned_user_ids)


def _on_assigned(event: TicketAssigned) -> None:
    if event.assignee_id is not None:
        from .tasks import notify_assigned

        notify_assigned(event.ticket_id, event.assignee_id, event.actor.user_id, event.ticket_event_id)


def _on_notification_created(event: NotificationCreated) -> None:
    from .tasks import email_notification

    email_notification(event.notification_id)


def _on_outbox_queued(event: OutboxMessageQueued) -> None:
    from .tasks import deliver_outbox_message

    deliver_outbox_message(event.message_id)


subscribe(NoteAdded, _on_note)
subscribe(TicketAssigned, _on_assigned)
subscribe(NotificationCreated, _on_notification_created)
subscribe(OutboxMessageQueued, _on_outbox_queued)
