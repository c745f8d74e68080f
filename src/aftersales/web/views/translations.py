"""Translations of a customer message on the ticket page: translate it again, or correct the
translation (the correction is shown at once and becomes an approved translation-memory segment).

With htmx the message is re-rendered in place; without JavaScript the browser comes back to the
message on the ticket page. A refusal (no provider for the pair, provider down, empty correction)
is shown inside the message with the service's status."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import has_perm
from aftersales.core.errors import DomainError, NotFound
from aftersales.inbox.models import Message, MessageDirection, Ticket
from aftersales.language.services import message_retranslate, translation_correct

from ..access import AgentRequest, web_view
from ..timeline import TimelineItem
from ..translations import message_languages
from .replies import translation_error
from .tickets import raise_if_page_error, ticket_context, ticket_for


def _message_for(request: AgentRequest, ticket_id: int, message_id: int, perm: str) -> tuple[Ticket, Message]:
    ticket = ticket_for(request, ticket_id, perm)
    message = (
        Message.objects.select_related("author")
        .prefetch_related("attachments", "mentions__user")
        .filter(pk=message_id, ticket_id=ticket.pk, direction=MessageDirection.INBOUND)
        .first()
    )
    if message is None:
        raise NotFound(_("message not found"), field="message_id")
    return ticket, message


def _message_response(
    request: AgentRequest,
    ticket: Ticket,
    message: Message,
    *,
    status: int = 200,
    error: str = "",
    notice: str = "",
    **extra: Any,
) -> HttpResponse:
    anchor = reverse("web:ticket", args=[ticket.pk]) + f"#message-{message.pk}"
    errors = {message.pk: error} if error else {}
    if not request.htmx:
        if not error:
            messages.success(request, notice)
            return redirect(anchor)
        context = ticket_context(request, ticket.pk, message_errors=errors, **extra)
        return render(request, "web/tickets/page.html", context, status=status)
    message = (
        Message.objects.select_related("author").prefetch_related("attachments", "mentions__user").get(pk=message.pk)
    )
    item = TimelineItem(
        kind=message.direction,
        at=message.sent_at or message.created_at,
        message=message,
        lang=message_languages(request.user, [message])[message.pk],
    )
    context = {
        "item": item,
        "ticket": ticket,
        "can_process": has_perm(request.user, Permission.PROCESS) and ticket.merged_into_id is None,
        "message_errors": errors,
        "message_notices": {message.pk: notice} if notice else {},
        **extra,
    }
    return render(request, "web/tickets/_message.html", context, status=status)


@web_view(methods=("POST",))
def message_retranslate_view(request: AgentRequest, ticket_id: int, message_id: int) -> HttpResponse:
    ticket, message = _message_for(request, ticket_id, message_id, Permission.VIEW)
    target = request.user.language
    try:
        message_retranslate(user=request.user, message=message, target_language=target)
    except DomainError as exc:
        raise_if_page_error(exc)
        error = translation_error(exc, source=message.language, target=target)
        return _message_response(request, ticket, message, status=exc.status_code, error=error)
    return _message_response(request, ticket, message, notice=_("Translated again."))


@web_view(methods=("POST",))
def translation_correct_view(request: AgentRequest, ticket_id: int, message_id: int) -> HttpResponse:
    ticket, message = _message_for(request, ticket_id, message_id, Permission.PROCESS)
    text = request.POST.get("text", "")
    try:
        translation_correct(user=request.user, message=message, target_language=request.user.language, text=text)
    except DomainError as exc:
        raise_if_page_error(exc)
        return _message_response(
            request,
            ticket,
            message,
            status=exc.status_code,
            error=exc.message,
            correcting=message.pk,
            correction_text=text,
        )
    notice = _("Correction saved: it will be used the next time this text comes in.")
    return _message_response(request, ticket, message, notice=notice)
