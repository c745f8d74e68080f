"""Close a ticket's platform ticket (Wish: the buyer's ticket or an escalation to Wish): PROCESS, the
ticket's scope; stores whose connector has `close_ticket`. The same service as the agent UI. Also
escalating it to the platform's support (Wish: AWAITING_WISH), the same way; and sending an RMA's
evidence picture to its marketplace dispute (AliExpress: aliexpress.issue.image.upload)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.channels.platform_evidence import rma_evidence_to_platform
from aftersales.channels.ticket_close import ticket_close_on_platform, ticket_escalate_on_platform

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.platform_tickets import PlatformEvidenceOut, PlatformTicketCloseOut

router = Router(tags=["tickets"])


@router.post("/tickets/{ticket_id}/platform-close", response=with_errors({200: PlatformTicketCloseOut}))
def close_on_platform(request: HttpRequest, ticket_id: int) -> Status[Any]:
    """Close the ticket on its marketplace, at most once (a replay answers the recorded outcome).
    422 names `ticket` when the store's connector cannot close tickets; 404 for a ticket outside
    your sight. Our own ticket's status is not changed."""
    return _outcome(ticket_id, ticket_close_on_platform(user=current_user(request), ticket_id=ticket_id))


@router.post("/tickets/{ticket_id}/platform-escalate", response=with_errors({200: PlatformTicketCloseOut}))
def escalate_on_platform(request: HttpRequest, ticket_id: int) -> Status[Any]:
    """Escalate the ticket to its marketplace's support (Wish: appeal to Wish), at most once (a replay
    answers the recorded outcome). 422 names `ticket` when the store's connector cannot escalate;
    404 for a ticket outside your sight. Our own ticket's status is not changed."""
    return _outcome(ticket_id, ticket_escalate_on_platform(user=current_user(request), ticket_id=ticket_id))


def _outcome(ticket_id: int, row: Any) -> Status[Any]:
    return Status(
        200,
        {
            "ticket_id": ticket_id,
            "conversation_id": row.request.get("conversation_id", ""),
            "status": row.status,
            "detail": row.detail,
        },
    )


@router.post(
    "/rmas/{rma_id}/evidence/{evidence_id}/platform-upload",
    response=with_errors({200: PlatformEvidenceOut}),
    tags=["rmas"],
)
def evidence_to_platform(request: HttpRequest, rma_id: Id, evidence_id: Id) -> Status[Any]:
    """Send one picture of the RMA's evidence to its marketplace dispute (AliExpress: the issue the
    RMA was opened from), at most once (a replay answers the recorded outcome). PROCESS; 404 for an
    RMA or evidence outside your sight; 422 naming `rma_id` when the RMA has no marketplace dispute
    that takes evidence, `evidence_id` for a file that is not a JPEG, PNG or GIF picture."""
    row = rma_evidence_to_platform(user=current_user(request), rma_id=rma_id, evidence_id=evidence_id)
    return Status(
        200,
        {
            "rma_id": rma_id,
            "evidence_id": evidence_id,
            "issue_id": row.request.get("issue_id", ""),
            "status": row.status,
            "detail": row.detail,
        },
    )
