"""The "no movement for N days" trigger (`ticket_idle`, docs/rules.md): evaluated on a schedule over
open and waiting tickets whose last movement (rules.movement: messages both ways and notes, status,
assignee, team and priority changes, RMA and tracking events, else the creation) is at least N days
old, where N comes from the rule's own condition
`{"field": "ticket.last_movement_at", "op": "days_since", "value": {"gte": N}}` (required on save).

Event key `ticket_idle:<ticket>:<last movement>`: a rule applies once per ticket and idle period;
any new movement starts a new period (the rule may apply again N days after it), a second run of the
job in the same period applies nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from aftersales.core.clock import now as clock_now

from .conditions import path_error
from .engine import MAX_SCHEDULED_TICKETS, ruleset, run_over_tickets
from .models import Rule, RuleTrigger
from .movement import last_movement

IDLE_FIELD = "ticket.last_movement_at"


def idle_days_required(conditions: Any) -> float | None:
    """N of the rule's required `days_since >= N` (or `> N`) leaf on the last movement, None without."""
    leaves = conditions.get("all") if isinstance(conditions, dict) and "all" in conditions else [conditions]
    found: float | None = None
    for leaf in leaves or []:
        if not isinstance(leaf, dict) or leaf.get("field") != IDLE_FIELD or leaf.get("op") != "days_since":
            continue
        value = leaf.get("value")
        if not isinstance(value, dict) or len(value) != 1:
            continue
        cmp, days = next(iter(value.items()))
        if cmp in ("gte", "gt") and isinstance(days, int | float) and not isinstance(days, bool) and days > 0:
            found = float(days) if found is None else max(found, float(days))
    return found


def check_idle_conditions(conditions: Any) -> None:
    if idle_days_required(conditions) is None:
        raise path_error(
            "conditions",
            _(
                'a "no movement" rule needs, at the top of its conditions, '
                '{"field": "ticket.last_movement_at", "op": "days_since", "value": {"gte": N}} with N > 0'
            ),
        )


def run_idle(*, now: datetime | None = None) -> dict[str, int]:
    """Evaluate every organization's enabled ticket_idle rules over its open/waiting tickets idle
    for at least the smallest N among them (the oldest movement first, at most MAX_SCHEDULED_TICKETS
    per organization and run), snapshots built in batches."""
    from aftersales.inbox.models import Ticket
    from aftersales.inbox.workflow import StatusCategory

    at = now or clock_now()
    totals = {"organizations": 0, "tickets": 0, "applied": 0}
    organization_ids = (
        Rule.objects.filter(trigger=RuleTrigger.TICKET_IDLE, enabled=True)
        .values_list("organization_id", flat=True)
        .distinct()
    )
    for organization_id in organization_ids:
        compiled = ruleset(organization_id, RuleTrigger.TICKET_IDLE)
        days = [d for d in (idle_days_required(r.conditions) for r in compiled) if d is not None]
        if not days:
            continue
        totals["organizations"] += 1
        threshold = at - timedelta(days=min(days))
        rows = list(
            Ticket.objects.filter(
                organization_id=organization_id,
                status_category__in=[StatusCategory.OPEN, StatusCategory.WAITING],
                merged_into__isnull=True,
            )
            # the last message (indexed column) is a lower bound of the last movement: a cheap first cut
            .annotate(messaged=Coalesce(F("last_message_at"), F("created_at")))
            .filter(messaged__lte=threshold)
            .annotate(moved=last_movement())
            .filter(moved__lte=threshold)
            .order_by("moved", "pk")
            .values_list("pk", "moved")[:MAX_SCHEDULED_TICKETS]
        )
        keyed = [(ticket_id, f"ticket_idle:{ticket_id}:{moved.isoformat()}") for ticket_id, moved in rows]
        run_over_tickets(
            organization_id=organization_id,
            trigger=RuleTrigger.TICKET_IDLE,
            keyed=keyed,
            at=at,
            rules=compiled,
            totals=totals,
        )
    return totals
