"""Reads of stored attachments and message HTML for someone who may see the ticket: the one place the
web view and the API route that serve files ask (so both answer the same 404s)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from aftersales.core.errors import NotFound

from .attachment_types import serves_inline
from .message_html import html_with_remote_images
from .models import Attachment, Message
from .selectors import tickets_visible


@dataclass(frozen=True)
class AttachmentDownload:
    attachment: Attachment
    inline: bool  # shown in the browser (raster images, PDF) rather than downloaded


def attachment_for_viewer(user: Any, attachment_id: int) -> AttachmentDownload:
    """An attachment of a message on a ticket the user may see, or NotFound naming attachment_id
    (also for another organization's attachments and tickets outside the user's scope)."""
    attachment = (
        Attachment.objects.select_related("message")
        .filter(pk=attachment_id, message__ticket__in=tickets_visible(user))
        .first()
    )
    if attachment is None:
        raise NotFound(_("attachment not found"), field="attachment_id")
    return AttachmentDownload(attachment=attachment, inline=serves_inline(attachment.content_type))


def message_html_with_images(user: Any, ticket_id: int, message_id: int) -> str:
    """The sanitised HTML of a message with its remote images restored, for the sandboxed "load
    images" frame: only for a message of that ticket, on a ticket the user may see."""
    message = (
        Message.objects.filter(pk=message_id, ticket_id=ticket_id, ticket__in=tickets_visible(user))
        .only("body_html")
        .first()
    )
    if message is None:
        raise NotFound(_("message not found"), field="message_id")
    return html_with_remote_images(message.body_html)
