"""Meta's messaging windows (pure, light: the inbox's reply rules import it in the web process).
WhatsApp and Messenger allow free-form messages for 24 hours after the person's last message;
Messenger's HUMAN_AGENT tag extends that to 7 days for a human agent's answer."""

from __future__ import annotations

from datetime import datetime, timedelta

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


def window_closes_at(last_inbound: datetime | None, window: timedelta = STANDARD_WINDOW) -> datetime | None:
    return None if last_inbound is None else last_inbound + window


def window_open(last_inbound: datetime | None, at: datetime, window: timedelta = STANDARD_WINDOW) -> bool:
    """True while a message may be sent: 23:59:59 after the last message it is open, 24:00:00 after
    it closed (with the standard window)."""
    return last_inbound is not None and at - last_inbound < window
