"""A reply sent as one of the store's approved platform templates (WhatsApp: the only message allowed
once the customer's 24-hour window is closed). Checked against the stored template
(channels.models.MessageTemplate, synced from the platform): its name, its language, exactly as many
non-empty variables as its placeholders. Then the ordinary reply path queues it (tickets.
ticket_reply_idempotent with the template payload); the worker's delivery hands it to the connector,
which sends the template."""

from __future__ import annotations

import re

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
) -> tuple[Message, bool]:
    """Queue the store's approved template `name` in `language` with `variables` as a reply.
    Unknown template (field name), no such language of it (field language), a wrong number of
    variables (field variables) or an empty one (field variables[i]): 400, nothing queued.
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
    payload = {"name": template.name, "language": template.language, "variables": values}
    return ticket_reply_idempotent(
        ticket=ticket,
        author=author,
        body=template_render(template.body, values) or template.name,
        idempotency_key=idempotency_key,
        template=payload,
    )
