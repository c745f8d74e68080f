"""The connector contract: what a marketplace or mailbox integration implements.

The foundation only needs outbound replies; pulls, webhooks and write-backs of returns and refunds
(ROADMAP "Channels") extend this protocol with further methods and DTOs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class ConnectorError(Exception):
    """A platform call failed. `permanent=True` means retrying cannot help (bad credentials,
    message rejected); otherwise the task retries with backoff."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class OutboundReply:
    """A reply to deliver to the customer, as the connector needs it."""

    message_id: int
    store_id: int
    credentials: dict
    conversation_id: str
    order_external_id: str | None
    customer_address: str  # e-mail address or platform buyer id
    customer_name: str
    subject: str
    body: str
    in_reply_to: str | None = None  # external id of the last inbound message
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)  # (name, content, type)


@dataclass(frozen=True)
class SentReceipt:
    external_id: str
    sent_at: datetime


class Connector(Protocol):
    platform: str

    def send_reply(self, reply: OutboundReply) -> SentReceipt: ...
