"""Agent actions on one ticket: reply, note, status, assignment, tags, merge."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Router
from ninja.responses import Status

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_ticket
from aftersales.accounts.selectors import users_of_organization
from aftersales.core.errors import NotFound
from aftersales.inbox.selectors import ticket_get
from aftersales.inbox.services import (
    ticket_add_note,
    ticket_assign,
    ticket_change_status,
    ticket_merge,
    ticket_set_tags,
)
from aftersales.inbox.services.template_replies import ticket_template_reply
from aftersales.language.services import reply_send

from ..attachments import decode_attachments
from ..auth import current_user
from ..schemas.actions import (
    AssignIn,
    MergeIn,
    NoteIn,
    NoteOut,
    ReplyIn,
    StatusIn,
    TagsIn,
    TagsOut,
    TemplateMessageIn,
)
from ..schemas.common import Id, with_errors
from ..schemas.tickets import MessageOut, TicketFullOut

router = Router(tags=["tickets"])


@router.post("/tickets/{ticket_id}/replies", response=with_errors({201: MessageOut, 200: MessageOut}))
def reply(
    request: HttpRequest,
    ticket_id: Id,
    payload: ReplyIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="Retry-safe: the same key on the same ticket returns the first reply (200) instead of a new one",
    ),
) -> Status[Any]:
    """Queue a reply to the customer (delivered by the worker). 201 when created, 200 when the
    Idempotency-Key was already used for this ticket (the first reply is returned, nothing is
    recorded again). When `body` is a translation (see POST /tickets/{ticket_id}/reply-drafts),
    send what you wrote as `original_text` + `original_language`: it is kept in the reply's
    `translations`. A text sent as written that reads as another language than the customer's
    needs `confirm_language` (422 otherwise); with `seen_message_id`, a colleague's reply after
    that message needs `confirm_newer` (409 otherwise)."""
    user = current_user(request)
    message, created = reply_send(  # the reply and its original are stored together, or neither
        ticket=ticket_get(user, ticket_id),
        author=user,
        body=payload.body,
        idempotency_key=idempotency_key,
        status=payload.status.value if payload.status else None,
        attachments=decode_attachments(payload.attachments),
        original_text=payload.original_text,
        original_language=payload.original_language.value if payload.original_language else None,
        confirm_language=payload.confirm_language,
        seen_message_id=payload.seen_message_id,
        confirm_newer=payload.confirm_newer,
        template_id=payload.template_id,
    )
    return Status(201 if created else 200, message)


@router.post("/tickets/{ticket_id}/template-messages", response=with_errors({201: MessageOut, 200: MessageOut}))
def send_template_message(
    request: HttpRequest,
    ticket_id: Id,
    payload: TemplateMessageIn,
    idempotency_key: str | None = Header(
        None, alias="Idempotency-Key", description="Retry-safe: the same key on the same ticket returns the first one"
    ),
) -> Status[Any]:
    """Queue one of the store's approved templates (WhatsApp: what can be sent once the customer's
    24-hour window is closed; see POST /stores/{id}/sync/templates) with its variables. 400 naming
    the field: unknown template (name), language, number of variables (variables), an empty one
    (variables[i]), the header's parameter (header[text], header[link]...), a button's
    (buttons[i][value]); nothing is queued then."""
    user = current_user(request)
    message, created = ticket_template_reply(
        ticket=ticket_get(user, ticket_id),
        author=user,
        name=payload.name,
        language=payload.language,
        variables=payload.variables,
        idempotency_key=idempotency_key,
        header=payload.header.dict() if payload.header is not None else None,
        buttons=[b.dict() for b in payload.buttons],
    )
    return Status(201 if created else 200, message)


@router.post("/tickets/{ticket_id}/notes", response=with_errors({201: NoteOut}))
def add_note(request: HttpRequest, ticket_id: Id, payload: NoteIn) -> Status[Any]:
    """Add an internal note; returns the colleagues it mentioned (and notified)."""
    user = current_user(request)
    note, mentioned = ticket_add_note(
        ticket=ticket_get(user, ticket_id),
        author=user,
        body=payload.body,
        attachments=decode_attachments(payload.attachments),
    )
    return Status(201, {"note": note, "mentioned": mentioned})


@router.post("/tickets/{ticket_id}/status", response=with_errors({200: TicketFullOut}))
def change_status(request: HttpRequest, ticket_id: Id, payload: StatusIn) -> Any:
    """Move the ticket through the status workflow (409 when the transition is not allowed)."""
    user = current_user(request)
    return ticket_change_status(ticket=ticket_get(user, ticket_id), actor=user, status=payload.status.value)


@router.post("/tickets/{ticket_id}/assign", response=with_errors({200: TicketFullOut}))
def assign(request: HttpRequest, ticket_id: Id, payload: AssignIn) -> Any:
    """Assign to a colleague who can process tickets, or unassign with `assignee_id: null`."""
    user = current_user(request)
    ticket = ticket_get(user, ticket_id)
    check_ticket(user, ticket, Permission.PROCESS)  # refused before the assignee is looked up, as in the web UI
    assignee = None
    if payload.assignee_id is not None:
        assignee = next((u for u in users_of_organization(user) if u.pk == payload.assignee_id), None)
        if assignee is None:
            raise NotFound(_("assignee not found"), field="assignee_id")
    return ticket_assign(ticket=ticket, actor=user, assignee=assignee)


@router.post("/tickets/{ticket_id}/tags", response=with_errors({200: TagsOut}))
def set_tags(request: HttpRequest, ticket_id: Id, payload: TagsIn) -> dict[str, list[str]]:
    """Add and remove tags (created on first use); returns the ticket's tags afterwards."""
    user = current_user(request)
    tags = ticket_set_tags(ticket=ticket_get(user, ticket_id), actor=user, add=payload.add, remove=payload.remove)
    return {"tags": tags}


@router.post("/tickets/{ticket_id}/merge", response=with_errors({200: TicketFullOut}))
def merge(request: HttpRequest, ticket_id: Id, payload: MergeIn) -> Any:
    """Merge this (duplicate) ticket into `target_id`; returns the target. Tickets of different
    customers or stores merge only with `confirm_differences` (409 naming the differences without)."""
    user = current_user(request)
    source = ticket_get(user, ticket_id)
    try:
        target = ticket_get(user, payload.target_id)
    except NotFound:
        raise NotFound(_("target ticket not found"), field="target_id") from None
    return ticket_merge(source=source, target=target, actor=user, confirm_differences=payload.confirm_differences)
