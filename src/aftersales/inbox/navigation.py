"""Moving through the inbox from a ticket: the next (or previous) ticket of the list the agent
came from (the inbox's query string, read by inbox.selectors.inbox_query as the list is), in that
list's sort order. Used by the keyboard shortcuts and "Send and next".

The position is the current ticket's sort key and id (as the list's keyset cursor), so it works
even when the ticket has just left the list (solved in an "open" view)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import F, Q

from aftersales.inbox.models import Ticket

from .selectors import NULLABLE_SORT_KEYS, SORTS, default_view, inbox_query, ticket_queryset


def ticket_neighbour(
    user: Any, params: Mapping[str, Any], ticket: Ticket, *, previous: bool = False, date_timezone: Any = None
) -> int | None:
    """The id of the ticket after (or before) `ticket` in the list `params` describes, or None at
    the end. `params` are validated like the inbox's (ValidationFailed / NotFound naming the
    parameter); an empty mapping is the user's default view (the inbox without a query string)."""
    query = inbox_query(user, params or default_view(user), date_timezone=date_timezone)
    ordering = SORTS[query.sort]
    key = ordering[0].lstrip("-")
    descending = ordering[0].startswith("-")
    nullable = key in NULLABLE_SORT_KEYS
    at = getattr(ticket, key)
    pk = ticket.pk
    qs = ticket_queryset(user, query.filters).exclude(pk=pk)
    # The list's order: (key, id) both descending with NULL keys last, or both ascending (the
    # ascending sorts have no NULL keys).
    smaller = Q(**{f"{key}__lt": at}) | Q(**{key: at, "pk__lt": pk}) if at is not None else Q()
    larger = Q(**{f"{key}__gt": at}) | Q(**{key: at, "pk__gt": pk}) if at is not None else Q()
    order: list[Any]
    if descending and not previous:
        if at is None:
            qs = qs.filter(**{f"{key}__isnull": True, "pk__lt": pk})
        else:
            qs = qs.filter(smaller | Q(**{f"{key}__isnull": True}) if nullable else smaller)
        order = [F(key).desc(nulls_last=True) if nullable else F(key).desc(), "-pk"]
    elif descending:
        if at is None:  # the NULLs shown just before, then the smallest key shown before them
            qs = qs.filter(Q(**{f"{key}__isnull": True, "pk__gt": pk}) | Q(**{f"{key}__isnull": False}))
            order = [F(key).asc(nulls_first=True), "pk"]
        else:
            qs = qs.filter(larger)
            order = [F(key).asc(), "pk"]
    elif not previous:
        qs = qs.filter(larger)
        order = [F(key).asc(), "pk"]
    else:
        qs = qs.filter(smaller)
        order = [F(key).desc(), "-pk"]
    found: int | None = qs.order_by(*order).values_list("pk", flat=True).first()
    return found
