"""A/B experiments on rules (issue 11 §1, docs/rules.md "Experiments"): while an experiment runs, a
rule's matching tickets are split deterministically by ticket id into a treatment arm (the rule acts)
and a control arm (nothing is done); each ticket's arm is recorded once, so outcomes can be compared
per arm from the data the apps already keep (rules.experiments.experiment_results)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExperimentArm(models.TextChoices):
    TREATMENT = "treatment", _("Treatment (the rule acts)")
    CONTROL = "control", _("Control (nothing is done)")


class RuleExperiment(models.Model):
    """One experiment on one version of a rule. A rule runs at most one experiment at a time; an edit
    of the rule (a new version) leaves the experiment pinned to its version: it stops splitting."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey("rules.Rule", on_delete=models.CASCADE, related_name="experiments")
    version = models.ForeignKey("rules.RuleVersion", on_delete=models.CASCADE, related_name="experiments")
    treatment_percent = models.PositiveSmallIntegerField(help_text="Share of tickets the rule acts on (1-99)")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule"], condition=models.Q(ended_at__isnull=True), name="rule_experiment_one_running"
            ),
            models.CheckConstraint(
                condition=models.Q(treatment_percent__gte=1, treatment_percent__lte=99),
                name="rule_experiment_percent_1_99",
            ),
        ]
        indexes = [models.Index(fields=["organization", "-started_at"], name="rule_experiment_org_started")]

    def __str__(self) -> str:
        return f"experiment {self.pk} on rule {self.rule_id} v{self.version_id}"


class ExperimentAssignment(models.Model):
    """The arm a ticket fell in, the first time the rule matched it during the experiment."""

    experiment = models.ForeignKey(RuleExperiment, on_delete=models.CASCADE, related_name="assignments")
    ticket = models.ForeignKey("inbox.Ticket", on_delete=models.CASCADE, related_name="+")
    arm = models.CharField(max_length=10, choices=ExperimentArm.choices)
    assigned_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["experiment", "ticket"], name="experiment_assignment_once"),
        ]
        indexes = [models.Index(fields=["experiment", "arm"], name="experiment_assignment_arm")]
