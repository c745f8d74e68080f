"""Close the ticket's platform ticket (Wish) from the ticket page: the same service as
POST /api/v1/tickets/{id}/platform-close (channels.ticket_close). Also: send an RMA's evidence picture
to its marketplace dispute (AliExpress; channels.platform_evidence)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from aftersales.channels.models import WriteBackStatus
from aftersales.channels.platform_evidence import rma_evidence_to_platform
from aftersales.channels.ticket_close import ticket_close_on_platform, ticket_escalate_on_platform

from ..access import AgentRequest, web_view


def _tell(request: AgentRequest, row: Any, *, done: str, refused: str) -> None:
    """The ledger row's outcome as a message: `done` on success, `refused` (with the platform's
    words as %(detail)s) on a refusal, a retry hint after a transient error."""
    if row.status == WriteBackStatus.SUCCEEDED:
        messages.success(request, done)
    elif row.status == WriteBackStatus.PENDING:
        messages.warning(request, _("The marketplace did not answer; try again. (%(detail)s)") % {"detail": row.detail})
    else:
        messages.error(request, refused % {"detail": row.detail})


@web_view(methods=("POST",))
def ticket_platform_close(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """POST: close it on the platform, back to the ticket with the outcome (4xx from the service)."""
    row = ticket_close_on_platform(user=request.user, ticket_id=ticket_id)
    _tell(
        request,
        row,
        done=_("Closed on the marketplace."),
        refused=_("The marketplace refused to close it: %(detail)s"),
    )
    return redirect("web:ticket", ticket_id=ticket_id)


@web_view(methods=("POST",))
def ticket_platform_escalate(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """POST: escalate it to the platform's support (the same service as
    POST /api/v1/tickets/{id}/platform-escalate), back to the ticket with the outcome."""
    row = ticket_escalate_on_platform(user=request.user, ticket_id=ticket_id)
    _tell(
        request,
        row,
        done=_("Escalated to the marketplace's support."),
        refused=_("The marketplace refused the escalation: %(detail)s"),
    )
    return redirect("web:ticket", ticket_id=ticket_id)


@web_view(methods=("POST",))
def rma_evidence_platform_upload(request: AgentRequest, rma_id: int, evidence_id: int) -> HttpResponse:
    """POST: send the RMA's evidence picture to its marketplace dispute (the same service as
    POST /api/v1/rmas/{id}/evidence/{evidence_id}/platform-upload), back to the RMA with the outcome."""
    row = rma_evidence_to_platform(user=request.user, rma_id=rma_id, evidence_id=evidence_id)
    _tell(
        request,
        row,
        done=_("The picture was sent to the marketplace's dispute."),
        refused=_("The marketplace refused the picture: %(detail)s"),
    )
    return redirect("web:rma", rma_id=rma_id)
