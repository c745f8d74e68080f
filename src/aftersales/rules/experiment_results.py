"""Reads of rule experiments: the list, and the outcome of each arm from data the apps already keep
(docs/rules.md "Experiments"):

- resolution time: hours from the ticket's creation to its resolution (`Ticket.resolved_at`), median
  and mean over the arm's resolved tickets;
- CSAT: the buyers' 1-5 ratings (followups' `CsatResponse`) when that app is installed, else
  `csat_available=False` ("no CSAT yet");
- refund cost: the refunds that reached the buyer (status succeeded) on the arm's tickets, summed per
  currency (never converted);
- reopen rate: the share of the arm's tickets moved from a resolved status back to an open or waiting
  one after they entered the experiment (the `status_changed` ticket events).

Whether the arms differ (rules.significance): Mann-Whitney U on resolution hours and on CSAT ratings,
a two-proportion z-test on the reopen rate; p < 0.05 is called significant, fewer than 5 observations
in an arm give no p-value."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core.errors import NotFound
from aftersales.inbox.models import Ticket, TicketEvent, TicketEventType
from aftersales.inbox.workflow import STATUS_CATEGORY, StatusCategory
from aftersales.returns.models import Refund, RefundStatus

from .experiment_models import ExperimentArm, ExperimentAssignment, RuleExperiment
from .significance import SignificanceTest, mann_whitney_u, two_proportion_z


@dataclass(frozen=True)
class MoneyTotal:
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class ArmOutcome:
    arm: str
    tickets: int
    resolved: int
    resolution_hours_median: float | None
    resolution_hours_mean: float | None
    csat_responses: int
    csat_average: float | None
    refund_totals: tuple[MoneyTotal, ...]
    refunds: int
    reopened: int

    @property
    def reopen_rate(self) -> float | None:
        return self.reopened / self.tickets if self.tickets else None


@dataclass(frozen=True)
class ExperimentResults:
    experiment_id: int
    rule_id: int
    rule_name: str
    version_number: int
    treatment_percent: int
    started_at: datetime
    ended_at: datetime | None
    is_current_version: bool
    csat_available: bool
    arms: tuple[ArmOutcome, ...]
    # treatment vs control: resolution hours and CSAT (Mann-Whitney U), reopen rate (two-proportion z)
    tests: tuple[SignificanceTest, ...] = ()


def experiment_list(user: Any, *, rule_id: int | None = None) -> QuerySet[RuleExperiment]:
    """The organization's experiments, newest first (admins)."""
    check_perm(user, Permission.ADMINISTER)
    rows = RuleExperiment.objects.filter(organization_id=organization_of(user)).select_related("rule", "version")
    if rule_id is not None:
        rows = rows.filter(rule_id=rule_id)
    return rows.order_by("-started_at", "-pk")


def _csat_model() -> Any | None:
    try:
        return apps.get_model("followups", "CsatResponse")
    except LookupError:
        return None


def _hours(pairs: list[tuple[datetime, datetime | None]]) -> list[float]:
    return [(resolved - created).total_seconds() / 3600.0 for created, resolved in pairs if resolved is not None]


def _reopened(ticket_ids: QuerySet[Any], assigned: dict[int, datetime]) -> int:
    resolved = StatusCategory.RESOLVED
    reopened: set[int] = set()
    events = TicketEvent.objects.filter(ticket_id__in=ticket_ids, type=TicketEventType.STATUS_CHANGED)
    for ticket_id, payload, at in events.values_list("ticket_id", "payload", "at").iterator(chunk_size=2000):
        old, new = STATUS_CATEGORY.get(payload.get("old", "")), STATUS_CATEGORY.get(payload.get("new", ""))
        if old == resolved and new not in (None, resolved) and at >= assigned[ticket_id]:
            reopened.add(ticket_id)
    return len(reopened)


def _arm(experiment: RuleExperiment, arm: str, csat: Any | None) -> tuple[ArmOutcome, list[float], list[float]]:
    """The arm's outcome, with its resolution hours and CSAT ratings (for the significance tests)."""
    assignments = ExperimentAssignment.objects.filter(experiment=experiment, arm=arm)
    ticket_ids = assignments.values("ticket_id")
    assigned = dict(assignments.values_list("ticket_id", "assigned_at"))
    pairs = list(
        Ticket.objects.filter(pk__in=ticket_ids, resolved_at__isnull=False).values_list("created_at", "resolved_at")
    )
    hours = _hours(pairs)
    refunds = Refund.objects.filter(ticket_id__in=ticket_ids, status=RefundStatus.SUCCEEDED)
    totals = tuple(
        MoneyTotal(row["currency"], row["total"])
        for row in refunds.values("currency").annotate(total=Sum("amount")).order_by("currency")
    )
    ratings: list[float] = []
    if csat is not None:
        ratings = [float(r) for r in csat.objects.filter(ticket_id__in=ticket_ids).values_list("rating", flat=True)]
    csat_count, csat_avg = len(ratings), (statistics.fmean(ratings) if ratings else None)
    outcome = ArmOutcome(
        arm=arm,
        tickets=len(assigned),
        resolved=len(hours),
        resolution_hours_median=statistics.median(hours) if hours else None,
        resolution_hours_mean=statistics.fmean(hours) if hours else None,
        csat_responses=csat_count,
        csat_average=csat_avg,
        refund_totals=totals,
        refunds=refunds.count(),
        reopened=_reopened(ticket_ids, assigned),
    )
    return outcome, hours, ratings


def experiment_results(user: Any, experiment_id: int) -> ExperimentResults:
    """Both arms' outcomes (admins; another organization's experiment is 404)."""
    check_perm(user, Permission.ADMINISTER)
    experiment = (
        RuleExperiment.objects.select_related("rule", "version")
        .filter(organization_id=organization_of(user), pk=experiment_id)
        .first()
    )
    if experiment is None:
        raise NotFound(_("no such experiment"), field="experiment_id")
    csat = _csat_model()
    (treated, hours_t, csat_t), (control, hours_c, csat_c) = (
        _arm(experiment, arm, csat) for arm in (ExperimentArm.TREATMENT, ExperimentArm.CONTROL)
    )
    tests = [
        mann_whitney_u("resolution_hours", hours_t, hours_c),
        two_proportion_z("reopen_rate", treated.reopened, treated.tickets, control.reopened, control.tickets),
    ]
    if csat is not None:
        tests.insert(1, mann_whitney_u("csat", csat_t, csat_c))
    return ExperimentResults(
        experiment_id=experiment.pk,
        rule_id=experiment.rule_id,
        rule_name=experiment.rule.name,
        version_number=experiment.version.number,
        treatment_percent=experiment.treatment_percent,
        started_at=experiment.started_at,
        ended_at=experiment.ended_at,
        is_current_version=experiment.rule.current_version_id == experiment.version_id,
        csat_available=csat is not None,
        arms=(treated, control),
        tests=tuple(tests),
    )
