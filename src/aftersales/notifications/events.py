"""Domain events of notifications, published after commit (core.events). Listed in docs/events.md."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NotificationCreated:
    """A new notification for a user with an e-mail address: the worker e-mails a copy
    (notifications.subscribers). The system acts (no actor field): it follows another event."""

    notification_id: int
    user_id: int
    kind: str
