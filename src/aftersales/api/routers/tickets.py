"""Tickets: the inbox list, the detail, field changes and bulk actions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.accounts.selectors import teams_of_organization, users_of_organization
from aftersales.catalog.selectors import customer_get, stores_of_organization
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.inbox.selectors import (
    FILTER_NAMES,
    TicketFilters,
    parse_page_params,
    parse_ticket_filters,
    saved_views,
    ticket_detail,
    ticket_get,
    ticket_page,
)
from aftersales.inbox.services import BulkAction, ticket_update, tickets_bulk_apply
from aftersales.inbox.workflow import TicketStatus

from ..auth import current_user
from ..schemas.actions import BulkIn, BulkOut, TicketPatchIn
from ..schemas.common import Id, with_errors
from ..schemas.tickets import TicketDetailOut, TicketFullOut, TicketListQuery, TicketPageOut

router = Router(tags=["tickets"])


@router.get("/tickets", response=with_errors({200: TicketPageOut}))
def list_tickets(request: HttpRequest, query: Query[TicketListQuery]) -> dict[str, Any]:
    """The inbox: tickets you may see, filtered, keyset-paginated (`next_cursor`)."""
    user = current_user(request)
    params: dict[str, Any] = {}
    sort = query.sort
    if query.view is not None:
        view = saved_views(user).filter(pk=query.view).first()
        if view is None:
            raise NotFound("saved view not found", field="view")
        params.update(view.filters)
        sort = sort or view.sort
    for name in request.GET:
        if name in FILTER_NAMES:
            values = request.GET.getlist(name)
            params[name] = values if len(values) > 1 else values[0]
    filters = parse_ticket_filters(params)
    _check_filter_ids(user, filters)
    limit, sort = parse_page_params(query.limit, sort)
    page = ticket_page(user, filters, limit=limit, sort=sort, cursor=query.cursor or None)
    return {"items": page.tickets, "next_cursor": page.next_cursor}


def _check_filter_ids(user: Any, filters: TicketFilters) -> None:
    """Ids in filters must be of the user's organization (404 naming the filter otherwise)."""
    if filters.store:
        found = stores_of_organization(user).filter(pk__in=filters.store).count()
        if found != len(set(filters.store)):
            raise NotFound("store not found", field="store")
    if filters.team is not None and not teams_of_organization(user).filter(pk=filters.team).exists():
        raise NotFound("team not found", field="team")
    if filters.customer is not None:
        try:
            customer_get(user, filters.customer)
        except NotFound:
            raise NotFound("customer not found", field="customer") from None
    if filters.assignee not in ("", "me", "none"):
        assignee_id = int(filters.assignee)
        if not any(u.pk == assignee_id for u in users_of_organization(user)):
            raise NotFound("assignee not found", field="assignee")


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
                raise ValidationFailed("assign takes a user id or null", field="value")
            value = int(value)
    elif not isinstance(value, str):
        raise ValidationFailed(f"{payload.action} takes a text value", field="value")
    elif payload.action == BulkAction.STATUS and value not in TicketStatus.values:
        raise ValidationFailed(
            f"unknown status {value!r}; expected one of {', '.join(TicketStatus.values)}", field="value"
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
            "tickets": detail.customer_tickets,
            "orders": detail.customer_orders,
        },
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
                raise NotFound("team not found", field="team_id")
        changes["team"] = team
    return ticket_update(ticket=ticket, actor=user, **changes)
