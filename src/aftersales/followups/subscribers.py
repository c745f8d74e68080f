"""Follow-ups react to the warranty sweep: a queued reminder is delivered at once (tasks), the
hourly catch-up covers a lost task; a buyer's message that is only a number from 1 to 5 answers the
ticket's CSAT survey (the link-less survey of Amazon tickets)."""

from __future__ import annotations

from aftersales.core.events import subscribe, subscribe_task
from aftersales.inbox.events import MessageReceived
from aftersales.warranty.events import WarrantyReminderQueued


def _deliver_reminder(event: WarrantyReminderQueued) -> None:
    from .tasks import followups_warranty_reminder_deliver

    followups_warranty_reminder_deliver(event.reminder_id)


subscribe(WarrantyReminderQueued, _deliver_reminder)
# run by the worker in the event's fan-out task (core/events.py subscribe_task)
subscribe_task(MessageReceived, "aftersales.followups.tasks.followups_csat_reply", lambda e: (e.message_id,))
