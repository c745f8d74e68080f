"""WhatsApp's customer-service window (pure, light: the inbox's reply rules import it in the web
process): free-form messages may be sent for 24 hours after the buyer's last message; after that
only approved templates."""

from __future__ import annotations

from datetime import datetime, timedelta

SERVICE_WINDOW = timedelta(hours=24)
TEXT_MAX_CHARS = 4096  # text.body: "Maximum 4096 characters"


def window_closes_at(last_inbound: datetime | None) -> datetime | None:
    return None if last_inbound is None else last_inbound + SERVICE_WINDOW


def window_open(last_inbound: datetime | None, at: datetime) -> bool:
    """True while free-form messages may be sent: 23:59:59 after the buyer's last message it is
    open, 24:00:00 after it closed."""
    return last_inbound is not None and at - last_inbound < SERVICE_WINDOW
