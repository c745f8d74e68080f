"""The reply and note boxes: what the file input offers (the server decides by content anyway)."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()

# A hint for the browser's file picker only: inbox.attachment_types sniffs every file.
ACCEPT = "image/*,application/pdf,text/plain,text/csv,audio/*,video/*,.docx,.xlsx,.heic,.amr,.opus"


@register.simple_tag
def attachment_accept() -> str:
    return ACCEPT


@register.simple_tag
def attachment_max_bytes() -> int:
    return int(settings.ATTACHMENT_MAX_BYTES)


@register.simple_tag(takes_context=True)
def carried_list(context: template.Context) -> str:
    """The inbox query string the page was opened from (`in`), for "next ticket" and "Send and next"."""
    request = context.get("request")
    if request is None:
        return ""
    return str(request.POST.get("in") or request.GET.get("in") or "")[:2000]
