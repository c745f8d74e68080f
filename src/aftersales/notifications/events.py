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


@dataclass(frozen=True)
class OutboxMessageQueued:
    """A new outbox row (an e-mail to one recipient, a webhook call): the worker delivers it
    (notifications.subscribers -> tasks.deliver_outbox_message). The system acts: it follows the
    event that asked for it (a rule's execution)."""

    message_id: int
    organization_id: int
    kind: str
