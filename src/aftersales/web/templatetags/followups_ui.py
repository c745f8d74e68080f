"""The ticket's follow-ups (what was sent or skipped, and why) and the buyer's CSAT rating as a small
panel: `{% ticket_followups_panel ticket %}` in the ticket page. One selector call."""

from __future__ import annotations

from typing import Any

from django import template

from aftersales.followups.selectors import ticket_follow_ups

register = template.Library()


@register.inclusion_tag("followups/_ticket_panel.html", takes_context=True)
def ticket_followups_panel(context: Any, ticket: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    found = ticket_follow_ups(user, ticket.pk) if user is not None else None
    return {"found": found}
