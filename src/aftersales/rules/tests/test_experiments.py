"""A/B experiments (rules/experiments.py, rules/experiment_results.py): the deterministic split, the
engine hook recording each ticket's arm once, starting/stopping (admins, 404 across organizations,
409s), and per-arm outcomes from tickets, refunds, status events and CSAT ratings."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.followups.models import CsatResponse, FollowUp, FollowUpKind, FollowUpOutcome
from aftersales.inbox.models import TicketEvent, TicketEventType
from aftersales.returns.models import Refund, RefundStatus
from aftersales.rules.experiment_models import ExperimentArm, ExperimentAssignment, RuleExperiment
from aftersales.rules.experiment_results import experiment_list, experiment_results
from aftersales.rules.experiments import arm_for, experiment_arm, experiment_start, experiment_stop
from aftersales.rules.models import Rule, RuleVersion
from aftersales.testing.factories import OrderFactory


def make_rule(org: Any, name: str = "VIP urgent") -> Rule:
    rule = Rule.objects.create(organization=org, name=name, trigger="ticket_created", enabled=True)
    version = RuleVersion.objects.create(
        rule=rule, number=1, conditions={"all": []}, actions=[{"type": "set_urgency", "params": {"urgency": "high"}}]
    )
    rule.current_version = version
    rule.save(update_fields=["current_version"])
    return rule


def test_split_is_deterministic_and_close_to_the_percentage() -> None:
    arms = [arm_for(7, ticket_id, 30) for ticket_id in range(1, 20_001)]
    assert arms == [arm_for(7, ticket_id, 30) for ticket_id in range(1, 20_001)]
    share = arms.count(ExperimentArm.TREATMENT) / len(arms)
    assert 0.28 < share < 0.32
    other = [arm_for(8, ticket_id, 30) for ticket_id in range(1, 20_001)]
    # independent splits agree on 0.3² + 0.7² = 58% of tickets
    assert 0.56 < sum(a == b for a, b in zip(arms, other, strict=True)) / len(arms) < 0.60
    assert {arm_for(1, t, 1) for t in range(1, 2000)} >= {ExperimentArm.CONTROL}
    assert arm_for(1, 5, 99) in ExperimentArm.values


@pytest.mark.django_db
def test_start_and_stop(world: Any) -> None:
    rule = make_rule(world.org)
    with pytest.raises(PermissionDenied):
        experiment_start(user=world.agent, rule_id=rule.pk, treatment_percent=50)
    with pytest.raises(NotFound):
        experiment_start(user=world.foreign_user, rule_id=rule.pk, treatment_percent=50)
    for bad in (0, 100, "50", True, 12.5):
        with pytest.raises(ValidationFailed) as err:
            experiment_start(user=world.admin, rule_id=rule.pk, treatment_percent=bad)
        assert err.value.field == "treatment_percent"
    experiment = experiment_start(user=world.admin, rule_id=rule.pk, treatment_percent=50)
    assert experiment.version_id == rule.current_version_id and experiment.ended_at is None
    with pytest.raises(Conflict):
        experiment_start(user=world.admin, rule_id=rule.pk, treatment_percent=20)
    with transaction.atomic(), pytest.raises(IntegrityError):  # the database refuses a second running one too
        RuleExperiment.objects.create(
            organization=world.org,
            rule=rule,
            version=rule.current_version,
            treatment_percent=5,
            started_at=timezone.now(),
        )
    with pytest.raises(NotFound):
        experiment_stop(user=world.foreign_user, experiment_id=experiment.pk)
    assert experiment_stop(user=world.admin, experiment_id=experiment.pk).ended_at is not None
    with pytest.raises(Conflict):
        experiment_stop(user=world.admin, experiment_id=experiment.pk)
    assert experiment_start(user=world.admin, rule_id=rule.pk, treatment_percent=20).pk != experiment.pk
    assert [e.pk for e in experiment_list(world.admin, rule_id=rule.pk)][1] == experiment.pk
    assert list(experiment_list(world.foreign_user)) == []
    versionless = Rule.objects.create(organization=world.org, name="Empty", trigger="ticket_created")
    with pytest.raises(Conflict):
        experiment_start(user=world.admin, rule_id=versionless.pk, treatment_percent=50)


@pytest.mark.django_db
def test_engine_hook_records_each_ticket_once(world: Any) -> None:
    rule = make_rule(world.org)
    ticket = world.ticket()
    assert experiment_arm(rule=rule, ticket_id=ticket.pk) is None  # no experiment: act as usual
    experiment = experiment_start(user=world.admin, rule_id=rule.pk, treatment_percent=50)
    assert experiment_arm(rule=rule, ticket_id=None) is None
    arm = experiment_arm(rule=rule, ticket_id=ticket.pk)
    assert arm == arm_for(experiment.pk, ticket.pk, 50)
    assert experiment_arm(rule=rule, ticket_id=ticket.pk) == arm
    assert ExperimentAssignment.objects.filter(experiment=experiment).count() == 1
    # an edit of the rule (a new version) stops the split: the experiment was about version 1
    v2 = RuleVersion.objects.create(rule=rule, number=2, conditions={"all": []}, actions=[])
    rule.current_version = v2
    rule.save(update_fields=["current_version"])
    assert experiment_arm(rule=rule, ticket_id=world.ticket().pk) is None


def _resolve(ticket: Any, hours: float) -> None:
    type(ticket).objects.filter(pk=ticket.pk).update(
        status="solved", status_category="resolved", resolved_at=ticket.created_at + timedelta(hours=hours)
    )


def _csat(ticket: Any, rating: int) -> None:
    survey = FollowUp.objects.create(
        organization=ticket.organization,
        kind=FollowUpKind.CSAT_SURVEY,
        key=f"csat:{ticket.pk}",
        ticket=ticket,
        outcome=FollowUpOutcome.SENT,
        created_at=timezone.now(),
    )
    CsatResponse.objects.create(
        organization=ticket.organization, survey=survey, ticket=ticket, rating=rating, rated_at=timezone.now()
    )


@pytest.mark.django_db
def test_results_per_arm(world: Any) -> None:
    rule = make_rule(world.org)
    experiment = experiment_start(user=world.admin, rule_id=rule.pk, treatment_percent=50)
    by_arm: dict[str, list[Any]] = {ExperimentArm.TREATMENT: [], ExperimentArm.CONTROL: []}
    while min(len(v) for v in by_arm.values()) < 2:
        ticket = world.ticket()
        by_arm[experiment_arm(rule=rule, ticket_id=ticket.pk)].append(ticket)  # type: ignore[index]
    treated, control = by_arm[ExperimentArm.TREATMENT][:2], by_arm[ExperimentArm.CONTROL][:2]
    ExperimentAssignment.objects.exclude(ticket_id__in=[t.pk for t in treated + control]).delete()
    _resolve(treated[0], 2)
    _resolve(treated[1], 4)
    _resolve(control[0], 10)
    _csat(treated[0], 5)
    _csat(treated[1], 4)
    _csat(control[0], 2)
    # a reopen in the control arm after it entered the experiment (one before it does not count)
    later = timezone.now() + timedelta(hours=1)
    TicketEvent.objects.create(
        ticket=control[0], type=TicketEventType.STATUS_CHANGED, payload={"old": "solved", "new": "open"}, at=later
    )
    TicketEvent.objects.create(
        ticket=control[1],
        type=TicketEventType.STATUS_CHANGED,
        payload={"old": "solved", "new": "open"},
        at=timezone.now() - timedelta(days=1),
    )
    order = OrderFactory(store=world.store_us)
    for n, (ticket, amount, status) in enumerate(
        [
            (treated[0], "12.50", RefundStatus.SUCCEEDED),
            (treated[1], "7.50", RefundStatus.SUCCEEDED),
            (treated[1], "99", RefundStatus.REJECTED),
        ]
    ):
        Refund.objects.create(
            organization=world.org,
            store=world.store_us,
            order=order,
            ticket=ticket,
            kind="partial",
            status=status,
            amount=Decimal(amount),
            currency="USD",
            idempotency_key=f"exp-{n}",
        )
    results = experiment_results(world.admin, experiment.pk)
    treatment, ctl = results.arms
    assert results.csat_available and results.is_current_version and results.treatment_percent == 50
    assert (treatment.arm, treatment.tickets, treatment.resolved) == ("treatment", 2, 2)
    assert (treatment.resolution_hours_median, treatment.resolution_hours_mean) == (3.0, 3.0)
    assert (treatment.csat_responses, treatment.csat_average) == (2, 4.5)
    assert [(m.currency, m.amount) for m in treatment.refund_totals] == [("USD", Decimal("20.0000"))]
    assert (treatment.refunds, treatment.reopened, treatment.reopen_rate) == (2, 0, 0.0)
    assert (ctl.tickets, ctl.resolved, ctl.resolution_hours_median, ctl.csat_average) == (2, 1, 10.0, 2.0)
    assert (ctl.refund_totals, ctl.reopened, ctl.reopen_rate) == ((), 1, 0.5)
    assert [(t.metric, t.method, t.n_treatment, t.n_control, t.p_value) for t in results.tests] == [
        ("resolution_hours", "mann_whitney_u", 2, 1, None),  # too few for a verdict
        ("csat", "mann_whitney_u", 2, 1, None),
        ("reopen_rate", "two_proportion_z", 2, 2, None),
    ]
    with pytest.raises(NotFound):
        experiment_results(world.foreign_user, experiment.pk)
    with pytest.raises(PermissionDenied):
        experiment_results(world.agent, experiment.pk)


@pytest.mark.django_db(transaction=True)
def test_engine_acts_on_treatment_only(world: Any) -> None:
    """End to end through the engine: the control arm's execution is logged with no action."""
    from aftersales.rules.engine import run_rules
    from aftersales.rules.services import rule_create

    rule = rule_create(
        user=world.admin,
        data={
            "name": "Urgent all",
            "trigger": "ticket_created",
            "enabled": True,
            "conditions": {"all": []},
            "actions": [{"type": "set_urgency", "params": {"urgency": "high"}}],
        },
    )
    experiment = experiment_start(user=world.admin, rule_id=rule.pk, treatment_percent=50)
    tickets: dict[str, Any] = {}
    while len(tickets) < 2:
        ticket = world.ticket()
        tickets.setdefault(arm_for(experiment.pk, ticket.pk, 50), ticket)
    for ticket in tickets.values():
        run_rules(
            organization_id=world.org.pk, trigger="ticket_created", event_key=f"t:{ticket.pk}", ticket_id=ticket.pk
        )
    treated, control = tickets[ExperimentArm.TREATMENT], tickets[ExperimentArm.CONTROL]
    treated.refresh_from_db()
    control.refresh_from_db()
    assert (treated.urgency, control.urgency) == ("high", "medium")
    assert rule.executions.get(ticket=control).actions == []
    assert rule.executions.get(ticket=treated).actions[0]["status"] == "ok"
    assert dict(ExperimentAssignment.objects.values_list("ticket_id", "arm")) == {
        treated.pk: "treatment",
        control.pk: "control",
    }


def test_results_say_whether_the_arms_differ(world: Any) -> None:
    rule = make_rule(world.org)
    experiment = experiment_start(user=world.admin, rule_id=rule.pk, treatment_percent=50)
    by_arm: dict[str, list[Any]] = {ExperimentArm.TREATMENT: [], ExperimentArm.CONTROL: []}
    while min(len(v) for v in by_arm.values()) < 6:
        ticket = world.ticket()
        by_arm[experiment_arm(rule=rule, ticket_id=ticket.pk)].append(ticket)  # type: ignore[index]
    treated, control = by_arm[ExperimentArm.TREATMENT][:6], by_arm[ExperimentArm.CONTROL][:6]
    ExperimentAssignment.objects.exclude(ticket_id__in=[t.pk for t in treated + control]).delete()
    for n, ticket in enumerate(treated):
        _resolve(ticket, 1 + n % 2)  # 1-2 hours
    for n, ticket in enumerate(control):
        _resolve(ticket, 20 + n)  # 20-25 hours
    results = experiment_results(world.admin, experiment.pk)
    by_metric = {t.metric: t for t in results.tests}
    hours = by_metric["resolution_hours"]
    assert (hours.n_treatment, hours.n_control, hours.significant) == (6, 6, True)
    assert hours.p_value is not None and hours.p_value < 0.01
    assert by_metric["reopen_rate"].p_value == 1.0 and by_metric["reopen_rate"].significant is False
