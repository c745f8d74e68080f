"""Tickets: the inbox list, the detail, field changes and bulk actions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.accounts.selectors import teams_of_organization
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.inbox.selectors import inbox_query, ticket_detail, ticket_get, ticket_page
from aftersales.inbox.services import BulkAction, ticket_update, tickets_bulk_apply
from aftersales.inbox.workflow import TicketStatus
from aftersales.returns.selectors import return_requests_of_ticket
from aftersales.sla.selectors import inbox_row_clocks

from ..auth import current_user
from ..schemas.actions import BulkIn, BulkOut, TicketPatchIn
from ..schemas.common import Id, with_errors
from ..schemas.tickets import TicketDetailOut, TicketFullOut, TicketListQuery, TicketPageOut

router = Router(tags=["tickets"])


@router.get("/tickets", response=with_errors({200: TicketPageOut}))
def list_tickets(request: HttpRequest, query: Query[TicketListQuery]) -> dict[str, Any]:
    """The inbox: tickets you may see, filtered, keyset-paginated (`next_cursor`). With `view`,
    one of your saved views applies; filters and sort given with it override the view's."""
    user = current_user(request)
    read = inbox_query(user, request.GET)  # the web UI's inbox reads its query string the same way
    page = ticket_page(user, read.filters, limit=read.limit, sort=read.sort, cursor=read.cursor)
    clocks = inbox_row_clocks([t.pk for t in page.tickets])  # both clocks of the page: one query
    for ticket in page.tickets:
        ticket.row_clocks = clocks  # type: ignore[attr-defined]
    return {"items": page.tickets, "next_cursor": page.next_cursor}


@router.post("/tickets/bulk", response=with_errors({200: BulkOut}))
def bulk_action(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    """Apply one action to many tickets. Each ticket succeeds or fails on its own; the result says
    which failed and why (tickets you may not see are reported as not found)."""
    user = current_user(request)
    check_perm(user, Permission.PROCESS)
    value = payload.value
    if payload.action == BulkAction.ASSIGN:
        if isinstance(value, str):
            if not value.isdigit():
                raise ValidationFailed(_("assign takes a user id or null"), field="value")
            value = int(value)
    elif not isinstance(value, str):
        raise ValidationFailed(_("%(action)s takes a text value") % {"action": payload.action}, field="value")
    elif payload.action == BulkAction.STATUS and value not in TicketStatus.values:
        raise ValidationFailed(
            _("unknown status %(value)r; expected one of %(join)s")
            % {"value": value, "join": ", ".join(TicketStatus.values)},
            field="value",
        )
    result = tickets_bulk_apply(actor=user, ticket_ids=payload.ticket_ids, action=payload.action, value=value)
    return {
        "summary": result.summary,
        "succeeded": result.succeeded,
        "failed": [{"ticket_id": ticket_id, "error": error} for ticket_id, error in result.failed.items()],
    }


@router.get("/tickets/{ticket_id}", response=with_errors({200: TicketDetailOut}))
def get_ticket(request: HttpRequest, ticket_id: Id) -> dict[str, Any]:
    """A ticket with its timeline (messages with attachments, notes, events, in order), its order
    (lines, shipments with tracking) and its customer (other tickets, orders across stores)."""
    detail = ticket_detail(current_user(request), ticket_id)
    return {
        "ticket": detail.ticket,
        "timeline": detail.timeline,
        "order": detail.order,
        "customer": {
            "customer": detail.ticket.customer,
            "order_count": detail.customer_order_count,
            "lifetime_value": detail.customer_lifetime_value,
            "return_count": detail.customer_return_count,
            "tickets": detail.customer_tickets,
            "orders": detail.customer_orders,
        },
        "return_requests": list(return_requests_of_ticket(ticket_id=detail.ticket.pk)),
    }


@router.patch("/tickets/{ticket_id}", response=with_errors({200: TicketFullOut}))
def update_ticket(request: HttpRequest, ticket_id: Id, payload: TicketPatchIn) -> Any:
    """Change classification fields; only the fields sent change."""
    user = current_user(request)
    ticket = ticket_get(user, ticket_id)
    changes: dict[str, Any] = {
        "category": payload.category,
        "urgency": payload.urgency,
        "is_high_priority": payload.is_high_priority,
        "subject": payload.subject,
    }
    if "team_id" in payload.model_fields_set:
        team = None
        if payload.team_id is not None:
            team = teams_of_organization(user).filter(pk=payload.team_id).first()
            if team is None:
                raise NotFound(_("team not found"), field="team_id")
        changes["team"] = team
    return ticket_update(ticket=ticket, actor=user, **changes)
