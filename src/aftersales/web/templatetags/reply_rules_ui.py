"""The channel's rules for a reply, shown in the reply box (e.g. Amazon's buyer messages)."""

from __future__ import annotations

from django import template

from aftersales.inbox.models import Ticket
from aftersales.inbox.services.reply_rules import reply_rules_notice

register = template.Library()


@register.filter
def reply_rules(ticket: Ticket) -> str:
    return reply_rules_notice(ticket)
