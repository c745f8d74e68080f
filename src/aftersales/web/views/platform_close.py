"""Close the ticket's platform ticket (Wish) from the ticket page: the same service as
POST /api/v1/tickets/{id}/platform-close (channels.ticket_close)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from aftersales.channels.models import WriteBackStatus
from aftersales.channels.ticket_close import ticket_close_on_platform, ticket_escalate_on_platform

from ..access import AgentRequest, web_view


@web_view(methods=("POST",))
def ticket_platform_close(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """POST: close it on the platform, back to the ticket with the outcome (4xx from the service)."""
    row = ticket_close_on_platform(user=request.user, ticket_id=ticket_id)
    if row.status == WriteBackStatus.SUCCEEDED:
        messages.success(request, _("Closed on the marketplace."))
    elif row.status == WriteBackStatus.PENDING:
        messages.warning(request, _("The marketplace did not answer; try again. (%(detail)s)") % {"detail": row.detail})
    else:
        messages.error(request, _("The marketplace refused to close it: %(detail)s") % {"detail": row.detail})
    return redirect("web:ticket", ticket_id=ticket_id)


@web_view(methods=("POST",))
def ticket_platform_escalate(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """POST: escalate it to the platform's support (the same service as
    POST /api/v1/tickets/{id}/platform-escalate), back to the ticket with the outcome."""
    row = ticket_escalate_on_platform(user=request.user, ticket_id=ticket_id)
    if row.status == WriteBackStatus.SUCCEEDED:
        messages.success(request, _("Escalated to the marketplace's support."))
    elif row.status == WriteBackStatus.PENDING:
        messages.warning(request, _("The marketplace did not answer; try again. (%(detail)s)") % {"detail": row.detail})
    else:
        messages.error(request, _("The marketplace refused the escalation: %(detail)s") % {"detail": row.detail})
    return redirect("web:ticket", ticket_id=ticket_id)
