"""Agent actions on one ticket: reply, note, status, assignment, tags, merge."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Header, Router
from ninja.responses import Status

from aftersales.accounts.selectors import users_of_organization
from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.inbox.models import Message
from aftersales.inbox.selectors import ticket_get
from aftersales.inbox.services import (
    ticket_add_note,
    ticket_assign,
    ticket_change_status,
    ticket_merge,
    ticket_reply_idempotent,
    ticket_set_tags,
)
from aftersales.language.services import reply_record_translation

from ..attachments import decode_attachments
from ..auth import current_user
from ..schemas.actions import AssignIn, MergeIn, NoteIn, NoteOut, ReplyIn, StatusIn, TagsIn, TagsOut
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
    `translations`."""
    user = current_user(request)
    ticket = ticket_get(user, ticket_id)
    attachments = decode_attachments(payload.attachments)
    original = _original(payload)
    with transaction.atomic():  # the reply and its original are stored together, or neither
        message, created = ticket_reply_idempotent(
            ticket=ticket,
            author=user,
            body=payload.body,
            idempotency_key=idempotency_key,
            status=payload.status.value if payload.status else None,
            attachments=attachments,
        )
        if original is not None:
            text, language = original
            if created:
                message = reply_record_translation(message=message, original_text=text, original_language=language)
            elif not _same_original(message, text, language):
                # a replay records nothing; a different original under the same key is another reply
                raise Conflict("this idempotency key was already used for a different reply", field="original_text")
    return Status(201 if created else 200, message)


def _original(payload: ReplyIn) -> tuple[str, str] | None:
    """(original_text, original_language) when the reply is a translation of what the agent wrote."""
    if payload.original_text is None and payload.original_language is None:
        return None
    if payload.original_language is None:
        raise ValidationFailed("original_language is required with original_text", field="original_language")
    if payload.original_text is None:
        raise ValidationFailed("original_text is required with original_language", field="original_text")
    if not payload.original_text.strip():
        raise ValidationFailed("original_text must not be empty", field="original_text")
    return payload.original_text, payload.original_language.value


def _same_original(message: Message, text: str, language: str) -> bool:
    entry = (message.translations or {}).get(language) or {}
    return entry.get("provider") == "author" and entry.get("text") == text.strip()


@router.post("/tickets/{ticket_id}/notes", response=with_errors({201: NoteOut}))
def add_note(request: HttpRequest, ticket_id: Id, payload: NoteIn) -> Status[Any]:
    """Add an internal note; returns the colleagues it mentioned (and notified)."""
    user = current_user(request)
    note, mentioned = ticket_add_note(ticket=ticket_get(user, ticket_id), author=user, body=payload.body)
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
    assignee = None
    if payload.assignee_id is not None:
        assignee = next((u for u in users_of_organization(user) if u.pk == payload.assignee_id), None)
        if assignee is None:
            raise NotFound("assignee not found", field="assignee_id")
    return ticket_assign(ticket=ticket, actor=user, assignee=assignee)


@router.post("/tickets/{ticket_id}/tags", response=with_errors({200: TagsOut}))
def set_tags(request: HttpRequest, ticket_id: Id, payload: TagsIn) -> dict[str, list[str]]:
    """Add and remove tags (created on first use); returns the ticket's tags afterwards."""
    user = current_user(request)
    tags = ticket_set_tags(ticket=ticket_get(user, ticket_id), actor=user, add=payload.add, remove=payload.remove)
    return {"tags": tags}


@router.post("/tickets/{ticket_id}/merge", response=with_errors({200: TicketFullOut}))
def merge(request: HttpRequest, ticket_id: Id, payload: MergeIn) -> Any:
    """Merge this (duplicate) ticket into `target_id`; returns the target."""
    user = current_user(request)
    source = ticket_get(user, ticket_id)
    try:
        target = ticket_get(user, payload.target_id)
    except NotFound:
        raise NotFound("target ticket not found", field="target_id") from None
    return ticket_merge(source=source, target=target, actor=user)
