"""Domain events of the returns app, published after commit (core.events); listed in docs/events.md."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.core.actors import Actor


@dataclass(frozen=True)
class ReturnRequestReceived:
    """A marketplace return, refund request, inquiry, case or cancellation request seen for the first
    time; `ticket_id` is the ticket it opened or joined."""

    return_request_id: int
    organization_id: int
    store_id: int
    kind: str
    ticket_id: int | None
    actor: Actor  # the connector that brought it


@dataclass(frozen=True)
class ReturnRequestStatusChanged:
    """The marketplace changed a request's status (the platform's words, as sent)."""

    return_request_id: int
    organization_id: int
    store_id: int
    old_status: str
    new_status: str
    ticket_id: int | None
    actor: Actor  # the connector that brought the change
