"""The rules list of Settings > Rules (reads): each rule with its current version number, its last
run and how many events it matched in the last 30 days, and its running experiment. One query for
the rules, one for the execution figures, one for the experiments, whatever the number of rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core.clock import now

from .experiment_models import RuleExperiment
from .models import Rule, RuleExecution

MATCH_WINDOW_DAYS = 30


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    version: int
    last_run_at: datetime | None
    matches: int  # executions in the last MATCH_WINDOW_DAYS days
    experiment: RuleExperiment | None


def rule_overview(user: Any) -> list[RuleRow]:
    """The organization's rules in evaluation order per trigger (admins)."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    rules = list(
        Rule.objects.filter(organization_id=organization_id)
        .select_related("current_version")
        .order_by("trigger", "priority", "-specificity", "pk")
    )
    since = now() - timedelta(days=MATCH_WINDOW_DAYS)
    figures: dict[int, Any] = {
        row["rule_id"]: row
        for row in RuleExecution.objects.filter(organization_id=organization_id)
        .values("rule_id")
        .annotate(last=Max("created_at"), recent=Count("pk", filter=Q(created_at__gte=since)))
    }
    running = {
        e.rule_id: e for e in RuleExperiment.objects.filter(organization_id=organization_id, ended_at__isnull=True)
    }
    return [
        RuleRow(
            rule=r,
            version=r.current_version.number if r.current_version else 0,
            last_run_at=figures.get(r.pk, {}).get("last"),
            matches=figures.get(r.pk, {}).get("recent", 0),
            experiment=running.get(r.pk),
        )
        for r in rules
    ]
