"""Closing a ticket on its platform (channels.ticket_close)."""

from __future__ import annotations

from ninja import Field, Schema


class PlatformTicketCloseOut(Schema):
    ticket_id: int
    conversation_id: str = Field(..., description="The platform's ticket, as the conversation id (wish:<id>)")
    status: str = Field(..., description="pending (a transient error: ask again), succeeded, failed, unknown")
    detail: str = Field(..., description="The platform's words when it refused, or the transient error")
