"""A/B experiments on rules (docs/rules.md "Experiments"): the deterministic split, the engine's hook
and the writes that start and stop an experiment. Results are read by rules.experiment_results.

The split: sha256("rule-experiment:<experiment id>:<ticket id>") read as a number, modulo 100, below
the treatment percentage -> treatment (the rule acts), else control (the rule matches but does
nothing). The same ticket always lands in the same arm of an experiment, on any worker, retried or
not; another experiment of the same rule splits independently."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core.clock import now
from aftersales.core.errors import Conflict, NotFound, ValidationFailed

from .experiment_models import ExperimentArm, ExperimentAssignment, RuleExperiment
from .models import Rule


def arm_for(experiment_id: int, ticket_id: int, treatment_percent: int) -> ExperimentArm:
    """The arm of a ticket in an experiment (pure, deterministic)."""
    digest = hashlib.sha256(f"rule-experiment:{experiment_id}:{ticket_id}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % 100
    return ExperimentArm.TREATMENT if bucket < treatment_percent else ExperimentArm.CONTROL


def experiment_arm(*, rule: Rule, ticket_id: int | None) -> ExperimentArm | None:
    """For the engine, after `rule` matched an event on `ticket_id` and before its actions run: None
    when the rule runs no experiment on its current version (or the event has no ticket): act as
    usual; else the ticket's arm, recorded once (a second call finds the same arm). On CONTROL the
    engine logs the match and runs no action. Runs inside the engine's transaction."""
    if ticket_id is None:
        return None
    experiment = (
        RuleExperiment.objects.filter(rule_id=rule.pk, ended_at__isnull=True)
        .only("pk", "version_id", "treatment_percent")
        .first()
    )
    if experiment is None or experiment.version_id != rule.current_version_id:
        return None
    arm = arm_for(experiment.pk, ticket_id, experiment.treatment_percent)
    ExperimentAssignment.objects.get_or_create(
        experiment=experiment, ticket_id=ticket_id, defaults={"arm": arm, "assigned_at": now()}
    )
    return arm


def check_treatment_percent(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 99:
        raise ValidationFailed(_("a whole number from 1 to 99"), field="treatment_percent")
    return value


def experiment_start(*, user: Any, rule_id: int, treatment_percent: Any) -> RuleExperiment:
    """Start an experiment on the rule's current version. Locks the rule row. Admins only; another
    organization's rule is 404; a rule already running one, or without a version, is 409."""
    check_perm(user, Permission.ADMINISTER)
    percent = check_treatment_percent(treatment_percent)
    with transaction.atomic():
        rule = Rule.objects.select_for_update().filter(organization_id=organization_of(user), pk=rule_id).first()
        if rule is None:
            raise NotFound(_("no such rule"), field="rule_id")
        if rule.current_version_id is None:
            raise Conflict(_("the rule has no saved version yet"), field="rule_id")
        if RuleExperiment.objects.filter(rule=rule, ended_at__isnull=True).exists():
            raise Conflict(_("the rule already runs an experiment; stop it first"), field="rule_id")
        return RuleExperiment.objects.create(
            organization_id=rule.organization_id,
            rule=rule,
            version_id=rule.current_version_id,
            treatment_percent=percent,
            started_at=now(),
            created_by=user,
        )


def experiment_stop(*, user: Any, experiment_id: int) -> RuleExperiment:
    """End a running experiment (the rule acts on every ticket again). Locks the experiment row."""
    check_perm(user, Permission.ADMINISTER)
    with transaction.atomic():
        experiment = (
            RuleExperiment.objects.select_for_update()
            .filter(organization_id=organization_of(user), pk=experiment_id)
            .first()
        )
        if experiment is None:
            raise NotFound(_("no such experiment"), field="experiment_id")
        if experiment.ended_at is not None:
            raise Conflict(_("the experiment has already ended"), field="experiment_id")
        experiment.ended_at = now()
        experiment.save(update_fields=["ended_at"])
        return experiment
