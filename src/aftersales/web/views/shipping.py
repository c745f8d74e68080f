"""Mark the ticket's order shipped on its marketplace (carrier + tracking number), for stores whose
connector can (channels.shipping: the same service as POST /api/v1/tickets/{id}/shipments)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from aftersales.accounts.permissions import Permission, check_perm
from aftersales.channels.shipping import can_mark_shipped, ticket_order_mark_shipped
from aftersales.core.errors import DomainError, NotFound, PermissionDenied
from aftersales.inbox.selectors import ticket_detail

from ..access import AgentRequest, web_view


@web_view(methods=("GET", "POST"))
def ticket_mark_shipped(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """GET: the form; POST: mark shipped, back to the ticket (the form again, 4xx, naming the field)."""
    detail = ticket_detail(request.user, ticket_id)
    check_perm(request.user, Permission.PROCESS)
    order = detail.order
    context: dict[str, Any] = {
        "ticket": detail.ticket,
        "order": order,
        "supported": order is not None and can_mark_shipped(order.store.platform),
        "errors": {},
        "values": {},
    }
    if request.method != "POST":
        return render(request, "web/tickets/mark_shipped.html", context)
    try:
        shipment = ticket_order_mark_shipped(
            user=request.user,
            ticket_id=ticket_id,
            carrier=request.POST.get("carrier", ""),
            tracking_number=request.POST.get("tracking_number", ""),
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        context.update(errors={exc.field or "general": exc.message}, values=request.POST)
        return render(request, "web/tickets/mark_shipped.html", context, status=exc.status_code)
    messages.success(
        request,
        _("Shipment %(number)s recorded; the marketplace is being told.") % {"number": shipment.tracking_number},
    )
    return redirect("web:ticket", ticket_id=ticket_id)
