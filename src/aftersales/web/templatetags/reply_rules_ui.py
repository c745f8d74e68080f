"""The channel's rules for a reply, shown in the reply box (e.g. Amazon's buyer messages)."""

from __future__ import annotations

from typing import Any

from django import template

from aftersales.channels.selectors import message_templates_of_store
from aftersales.inbox.models import Ticket
from aftersales.inbox.services.reply_rules import reply_rules_notice, template_required

register = template.Library()


@register.filter
def reply_rules(ticket: Ticket) -> str:
    return reply_rules_notice(ticket)


@register.simple_tag
def template_offers(ticket: Ticket) -> list[Any]:
    """The store's approved templates when only a template can be sent (WhatsApp, window closed)."""
    return message_templates_of_store(ticket.store_id) if template_required(ticket) else []
