"""Closing a ticket on its platform (channels.ticket_close); sending an RMA's evidence picture to the
marketplace's dispute (channels.platform_evidence)."""

from __future__ import annotations

from ninja import Field, Schema


class PlatformTicketCloseOut(Schema):
    ticket_id: int
    conversation_id: str = Field(..., description="The platform's ticket, as the conversation id (wish:<id>)")
    status: str = Field(..., description="pending (a transient error: ask again), succeeded, failed, unknown")
    detail: str = Field(..., description="The platform's words when it refused, or the transient error")


class PlatformEvidenceOut(Schema):
    rma_id: int
    evidence_id: int
    issue_id: str = Field(..., description="The marketplace's dispute (AliExpress issue id)")
    status: str = Field(..., description="pending (a transient error: ask again), succeeded, failed, unknown")
    detail: str = Field(..., description="The platform's words when it refused, or the transient error")
