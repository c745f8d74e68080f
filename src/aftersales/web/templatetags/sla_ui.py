"""The ticket's SLA clocks (ours and the marketplace's) as a small panel: `{% ticket_sla_panel ticket %}`
in the ticket page. One selector call (sla.selectors.ticket_clocks: 1-2 queries; a ticket without a
stored row is computed on the fly, nothing written)."""

from __future__ import annotations

from typing import Any

from django import template

from aftersales.core.clock import now
from aftersales.sla.selectors import ticket_clocks

register = template.Library()


@register.inclusion_tag("sla/_ticket_clocks.html", takes_context=True)
def ticket_sla_panel(context: Any, ticket: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    clocks = ticket_clocks(user, ticket) if user is not None else None
    clock_list = [clocks.first_response, clocks.resolution, clocks.marketplace] if clocks else []
    return {"clocks": clocks, "clock_list": clock_list, "now_instant": now()}
