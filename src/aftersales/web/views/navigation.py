"""Moving from a ticket to the next (or previous) ticket of the inbox list the agent came from:
the keyboard shortcuts (j/k on the ticket page) and "Send and next". The list travels as `in`,
the inbox's query string (added to the list's ticket links by app.js)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.inbox.models import Ticket
from aftersales.inbox.navigation import ticket_neighbour
from aftersales.inbox.selectors import ticket_get

from ..access import AgentRequest, web_view

MAX_IN = 2000  # characters of the carried inbox query string


def inbox_query_string(raw: str | None) -> str:
    """The `in` parameter as carried (bounded; validated when used)."""
    return (raw or "")[:MAX_IN]


def neighbour_url(request: AgentRequest, ticket: Ticket, inbox: str, *, previous: bool = False) -> str:
    """Where "next" leads: the neighbouring ticket (keeping `in`), or back to the list with a
    notice at its end or when the carried query is no longer valid."""
    try:
        target = ticket_neighbour(
            request.user,
            QueryDict(inbox),
            ticket,
            previous=previous,
            date_timezone=timezone.get_current_timezone(),
        )
    except (ValidationFailed, NotFound):
        target = None
    if target is None:
        messages.info(request, _("No more tickets in this list."))
        return reverse("web:inbox") + (f"?{inbox}" if inbox else "")
    url = reverse("web:ticket", args=[target])
    return url + (f"?{urlencode({'in': inbox})}" if inbox else "")


@web_view()
def ticket_next_view(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """GET /tickets/<id>/next/?in=<inbox query>[&dir=prev]: redirect to the neighbouring ticket."""
    ticket = ticket_get(request.user, ticket_id)
    inbox = inbox_query_string(request.GET.get("in"))
    return redirect(neighbour_url(request, ticket, inbox, previous=request.GET.get("dir") == "prev"))
