"""Template helpers of the agent UI: money, language names, note bodies with @mentions, query
strings, and the unread-notifications count."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language_info

from aftersales.notifications.selectors import unread_count

register = template.Library()

# Codes the engine uses that Django's language table names differently.
LANGUAGE_INFO_CODES = {"zh": "zh-hans", "zh-cn": "zh-hans", "zh_hans": "zh-hans"}

# Same shape as the mention syntax the note service understands (@username).
MENTION_RE = re.compile(r"(?<![\w@.])@([\w.+-]{1,150})")


@register.filter
def money(amount: Any, currency: str = "") -> str:
    """1234.5, "EUR" -> "EUR 1,234.50" (Decimal, never float)."""
    if amount in (None, ""):
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    return f"{currency} {value:,.2f}".strip()


@register.filter
def language_name(code: str) -> str:
    """A language code as a name in the UI language ("de" -> "German" / "德语")."""
    if not code:
        return ""
    try:
        return str(get_language_info(LANGUAGE_INFO_CODES.get(code.lower(), code))["name_translated"])
    except KeyError:
        return code


@register.filter
def note_body(message: Any) -> SafeString:
    """The escaped body of a note, line breaks kept, @mentions of notified colleagues highlighted."""
    mentioned = {m.user.username.lower() for m in message.mentions.all()}
    text = str(escape(message.body))

    def mark(match: re.Match[str]) -> str:
        name = match.group(1)
        css = "mention" if name.lower() in mentioned else "mention mention-unknown"
        return f'<span class="{css}">@{name}</span>'

    text = MENTION_RE.sub(mark, text)
    return mark_safe(text.replace("\n", "<br>"))  # noqa: S308 (escaped above; only our spans added)


@register.simple_tag
def query(params: dict[str, str] | None = None, **overrides: Any) -> str:
    """'?a=1&b=2' from a dict of current parameters, with some replaced or removed (None)."""
    merged = dict(params or {})
    for key, value in overrides.items():
        if value in (None, ""):
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return "?" + urlencode(merged) if merged else "?"


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated or not getattr(user, "organization_id", None):
        return 0
    if not hasattr(request, "_unread_notifications"):
        request._unread_notifications = unread_count(user)
    return int(request._unread_notifications)


@register.simple_tag
def badge(value: str, label: Any, kind: str = "") -> SafeString:
    """A coloured pill: {% badge ticket.status ticket.get_status_display "status" %}."""
    css = f"pill pill-{kind}-{value}" if kind else f"pill pill-{value}"
    return format_html('<span class="{}">{}</span>', css, label)


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    """{{ errors|lookup:name }}: a dict item by a variable key ("" when absent)."""
    if not isinstance(mapping, dict):
        return ""
    return mapping.get(key, "")
