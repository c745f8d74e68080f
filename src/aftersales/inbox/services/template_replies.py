"""A reply sent as one of the store's approved platform templates (WhatsApp: the only message allowed
once the customer's 24-hour window is closed). Checked against the stored template
(channels.models.MessageTemplate, synced from the platform): its name, its language, exactly as many
non-empty variables as its placeholders. Then the ordinary reply path queues it (tickets.
ticket_reply_idempotent with the template payload); the worker's delivery hands it to the connector,
which sends the template."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext

from aftersales.accounts.models import Permission, User
from aftersales.channels.models import MessageTemplate
from aftersales.core.actors import Actor
from aftersales.core.errors import ValidationFailed

from ..models import Message, Ticket
from .common import check_ticket_actor
from .tickets import ticket_reply_idempotent

MAX_VARIABLE_CHARS = 1024
_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


def _check_variables(template: MessageTemplate, variables: list[str]) -> list[str]:
    if len(variables) != template.variables:
        raise ValidationFailed(
            gettext("the template %(name)s takes %(count)s variables, %(given)s given")
            % {"name": template.name, "count": template.variables, "given": len(variables)},
            field="variables",
        )
    cleaned: list[str] = []
    for index, value in enumerate(variables):
        text = str(value).strip()
        if not text:
            raise ValidationFailed(gettext("fill in every variable of the template"), field=f"variables[{index}]")
        if len(text) > MAX_VARIABLE_CHARS or "\n" in text:
            raise ValidationFailed(
                gettext("a template variable is one line of at most %(limit)s characters")
                % {"limit": MAX_VARIABLE_CHARS},
                field=f"variables[{index}]",
            )
        cleaned.append(text)
    return cleaned


MAX_HEADER_TEXT = 60  # Meta's limit for a text header's parameter
MAX_BUTTON_VALUE = 2000
MEDIA_HEADERS = ("IMAGE", "VIDEO", "DOCUMENT")


def _one_line(value: Any, field: str, limit: int) -> str:
    text = str(value if value is not None else "").strip()
    if not text:
        raise ValidationFailed(gettext("fill in this parameter of the template"), field=field)
    if len(text) > limit or "\n" in text or "\r" in text:
        raise ValidationFailed(
            gettext("one line of at most %(limit)s characters") % {"limit": limit},
            field=field,
        )
    return text


def _check_header(template: MessageTemplate, header: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The header's parameter as the connector sends it, checked against the stored template:
    a text header's {{1}}, or a media header's https link (and a document's file name)."""
    given = {k: v for k, v in (header or {}).items() if v not in (None, "")}
    kind = template.header_format
    if not kind or (kind == "TEXT" and not template.header_variables):
        if given:
            raise ValidationFailed(gettext("this template's header takes no parameter"), field="header")
        return None
    if kind not in ("TEXT", *MEDIA_HEADERS):
        raise ValidationFailed(
            gettext("a %(format)s header cannot be sent from here") % {"format": kind}, field="header"
        )
    expected = kind.lower()
    if str(given.get("type") or expected).lower() != expected:
        raise ValidationFailed(
            gettext("this template's header is %(format)s") % {"format": expected}, field="header[type]"
        )
    unknown = sorted(set(given) - {"type", "text", "link", "filename"})
    if unknown:
        raise ValidationFailed(gettext("unknown header parameter"), field=f"header[{unknown[0]}]")
    if kind == "TEXT":
        return {"type": "text", "text": _one_line(given.get("text"), "header[text]", MAX_HEADER_TEXT)}
    link = _one_line(given.get("link"), "header[link]", MAX_BUTTON_VALUE)
    parts = urlsplit(link)
    if parts.scheme != "https" or not parts.hostname:
        raise ValidationFailed(gettext("the media must be an https:// link"), field="header[link]")
    out = {"type": expected, "link": link}
    if given.get("filename"):
        if kind != "DOCUMENT":
            raise ValidationFailed(gettext("only a document header has a file name"), field="header[filename]")
        out["filename"] = _one_line(given["filename"], "header[filename]", 240)
    return out


def _check_buttons(template: MessageTemplate, buttons: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """URL suffixes (required for a URL button ending in {{1}}) and quick-reply payloads (optional),
    each naming the template's button by its index."""
    stored = [b for b in template.buttons or [] if isinstance(b, Mapping)]
    chosen: dict[int, dict[str, Any]] = {}
    for position, button in enumerate(buttons):
        field = f"buttons[{position}]"
        if not isinstance(button, Mapping):
            raise ValidationFailed(gettext("a button parameter is an object {index, value}"), field=field)
        index = button.get("index")
        if isinstance(index, str) and index.isdigit():
            index = int(index)
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(stored):
            raise ValidationFailed(
                gettext("the template has %(count)s buttons: index 0 to %(last)s")
                % {"count": len(stored), "last": max(len(stored) - 1, 0)},
                field=f"{field}[index]",
            )
        if index in chosen:
            raise ValidationFailed(gettext("this button is given twice"), field=f"{field}[index]")
        spec = stored[index]
        kind = str(spec.get("type") or "")
        if kind == "URL" and spec.get("variables"):
            value = _one_line(button.get("value"), f"{field}[value]", MAX_BUTTON_VALUE)
            chosen[index] = {"index": index, "type": "url", "value": value}
        elif kind == "QUICK_REPLY":
            value = _one_line(button.get("value"), f"{field}[value]", 1000)
            chosen[index] = {"index": index, "type": "quick_reply", "value": value}
        else:
            raise ValidationFailed(gettext("this button of the template takes no parameter"), field=field)
    for index, spec in enumerate(stored):
        if spec.get("type") == "URL" and spec.get("variables") and index not in chosen:
            raise ValidationFailed(
                gettext("the link of the button %(text)s needs its ending") % {"text": spec.get("text") or index},
                field=f"buttons[{index}]",
            )
    return [chosen[i] for i in sorted(chosen)]


def template_render(body: str, variables: list[str]) -> str:
    """The template's text with {{1}}, {{2}}... replaced by the variables (as the customer sees it)."""

    def fill(match: re.Match[str]) -> str:
        position = int(match.group(1))
        return variables[position - 1] if 0 < position <= len(variables) else match.group(0)

    return _PLACEHOLDER.sub(fill, body)


def ticket_template_reply(
    *,
    ticket: Ticket,
    author: User | Actor,
    name: str,
    language: str,
    variables: list[str],
    idempotency_key: str | None = None,
    header: Mapping[str, Any] | None = None,
    buttons: list[Mapping[str, Any]] | None = None,
) -> tuple[Message, bool]:
    """Queue the store's approved template `name` in `language` with `variables` as a reply.
    Unknown template (field name), no such language of it (field language), a wrong number of
    variables (field variables) or an empty one (field variables[i]), a header parameter the
    template does not take or lacks (header, header[text], header[link]...), a button parameter
    (buttons[i], buttons[i][index], buttons[i][value]): 422, nothing queued.
    Returns the message and whether it was created (see ticket_reply_idempotent)."""
    check_ticket_actor(author, ticket, Permission.REPLY)  # 403 before anything is looked up
    name, language = (name or "").strip(), (language or "").strip()
    known = MessageTemplate.objects.filter(store_id=ticket.store_id, name=name)
    if not name or not known.exists():
        raise ValidationFailed(gettext("no approved template of this store has this name"), field="name")
    template = known.filter(language=language).first()
    if template is None:
        languages = ", ".join(known.values_list("language", flat=True))
        raise ValidationFailed(
            gettext("the template %(name)s exists only in %(languages)s") % {"name": name, "languages": languages},
            field="language",
        )
    values = _check_variables(template, list(variables or []))
    header_value = _check_header(template, header)
    button_values = _check_buttons(template, list(buttons or []))
    payload: dict[str, Any] = {"name": template.name, "language": template.language, "variables": values}
    shown = template_render(template.body, values)
    if header_value is not None:
        payload["header"] = header_value
        if header_value["type"] == "text":
            shown = template_render(template.header_text, [header_value["text"]]) + "\n\n" + shown
    if button_values:
        payload["buttons"] = button_values
    return ticket_reply_idempotent(
        ticket=ticket,
        author=author,
        body=shown.strip() or template.name,
        idempotency_key=idempotency_key,
        template=payload,
    )
