"""Follow-ups react to the warranty sweep: a queued reminder is delivered at once (tasks), the
hourly catch-up covers a lost task; a buyer's message that is only a number from 1 to 5 answers the
ticket's CSAT survey (the link-less survey of Amazon tickets)."""

from __future__ import annotations

from aftersales.core.events import subscribe
from aftersales.inbox.events import MessageReceived
from aftersales.warranty.events import WarrantyReminderQueued


def _deliver_reminder(event: WarrantyReminderQueued) -> None:
    from .tasks import followups_warranty_reminder_deliver

    followups_warranty_reminder_deliver(event.reminder_id)


def _rating_reply(event: MessageReceived) -> None:
    from .tasks import followups_csat_reply

    followups_csat_reply(event.message_id)


subscribe(WarrantyReminderQueued, _deliver_reminder)
subscribe(MessageReceived, _rating_reply)
