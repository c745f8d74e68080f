"""Follow-ups react to the warranty sweep: a queued reminder is delivered at once (tasks), the
hourly catch-up covers a lost task."""

from __future__ import annotations

from aftersales.core.events import subscribe
from aftersales.warranty.events import WarrantyReminderQueued


def _deliver_reminder(event: WarrantyReminderQueued) -> None:
    from .tasks import followups_warranty_reminder_deliver

    followups_warranty_reminder_deliver(event.reminder_id)


subscribe(WarrantyReminderQueued, _deliver_reminder)
