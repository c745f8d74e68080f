"""Who else has the ticket open: the ticket page polls this every ~20 s (htmx), which records the
agent as viewing (inbox.services.collisions.presence_touch, in the shared cache) and answers with
the colleagues seen in the last minute ("Li Na is also viewing")."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from aftersales.inbox.selectors import ticket_get
from aftersales.inbox.services.collisions import presence_touch

from ..access import AgentRequest, web_view


@web_view()
def ticket_presence_view(request: AgentRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_get(request.user, ticket_id)  # 404 for a ticket the user may not see
    others = presence_touch(ticket=ticket, user=request.user)
    response = render(request, "web/tickets/_presence.html", {"ticket": ticket, "others": [v.name for v in others]})
    response["Cache-Control"] = "no-store"
    return response
