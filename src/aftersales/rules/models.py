"""Automation rules (docs/rules.md): a rule is a trigger, a JSON condition set and ordered actions.

`Rule` is the named, enabled/disabled, prioritised thing an admin manages; its content lives in
immutable `RuleVersion` rows (every edit writes a new version, `Rule.current_version` points at the
one in force) so every execution names the exact document it ran. `RuleExecution` is the log of a
rule applied to one event, and its claim: UNIQUE (rule, event_key) makes the same event apply the
same rule at most once, across worker retries and concurrent workers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import TimeStampedModel


class RuleTrigger(models.TextChoices):
    TICKET_CREATED = "ticket_created", _("Ticket created")
    TICKET_UPDATED = "ticket_updated", _("Ticket updated")
    MESSAGE_RECEIVED = "message_received", _("Message received (after triage)")
    RMA_REQUESTED = "rma_requested", _("Return requested")
    RMA_STATUS_CHANGED = "rma_status_changed", _("Return status changed")
    SHIPMENT_STALLED = "shipment_stalled", _("Shipment stalled")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    SCHEDULED = "scheduled", _("Scheduled")
    TICKET_IDLE = "ticket_idle", _("No movement for N days")


class Rule(TimeStampedModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="rules", db_index=False
    )
    name = models.CharField(max_length=120)
    trigger = models.CharField(max_length=24, choices=RuleTrigger.choices)
    enabled = models.BooleanField(default=False)
    priority = models.IntegerField(default=100, help_text="Lower runs first")
    # Denormalised from the current version for the engine's ordering and the list (scope level).
    specificity = models.PositiveSmallIntegerField(default=0)
    current_version = models.ForeignKey(
        "RuleVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="rule_unique_name")]
        indexes = [models.Index(fields=["organization", "trigger", "enabled"], name="rule_org_trigger")]

    def __str__(self) -> str:
        return self.name


class RuleVersion(models.Model):
    """One immutable document of a rule (never updated; an edit writes the next number)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    conditions = models.JSONField(default=dict)
    actions = models.JSONField(default=list)
    scope = models.JSONField(default=dict, blank=True)
    schedule = models.JSONField(default=dict, blank=True)
    stop_further = models.BooleanField(
        default=False, help_text="No lower-priority rule runs on the event after a match"
    )
    approval_limit_amount = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    approval_limit_currency = models.CharField(max_length=3, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "number"], name="rule_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.number}"

    def document(self) -> dict[str, object]:
        """The rule document (docs/rules.md) this version holds."""
        limit = None
        if self.approval_limit_amount is not None:
            limit = {"amount": str(self.approval_limit_amount), "currency": self.approval_limit_currency}
        return {
            "conditions": self.conditions,
            "actions": self.actions,
            "scope": self.scope,
            "schedule": self.schedule,
            "stop_further": self.stop_further,
            "approval_limit": limit,
        }


class ExecutionOutcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    PARTIAL = "partial", _("Applied with errors")
    FAILED = "failed", _("Failed")
    CHAIN_LIMIT = "chain_limit", _("Stopped: chain too deep")


class RuleExecution(models.Model):
    """A rule that matched one event, what it did and how it went. The row is inserted before the
    actions run, in the same transaction: its UNIQUE (rule, event_key) is the idempotency claim."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="executions")
    version = models.ForeignKey(RuleVersion, on_delete=models.CASCADE, related_name="executions")
    trigger = models.CharField(max_length=24, choices=RuleTrigger.choices)
    event_key = models.CharField(max_length=200, help_text="Identity of the triggering event")
    ticket = models.ForeignKey(
        "inbox.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="rule_executions"
    )
    rma = models.ForeignKey("returns.Rma", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    chain_depth = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=12, choices=ExecutionOutcome.choices, default=ExecutionOutcome.APPLIED)
    matched = models.JSONField(default=list, blank=True, help_text="The conditions that held, with the values seen")
    actions = models.JSONField(default=list, blank=True, help_text="[{type, params, status, result|error}]")
    duration_ms = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "event_key"], name="rule_execution_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["rule", "-created_at"], name="rule_exec_rule_created"),
            models.Index(fields=["ticket", "-created_at"], name="rule_exec_ticket_created"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}@{self.event_key}"


from .experiment_models import ExperimentAssignment, RuleExperiment  # noqa: E402,F401
from .simulation_run_models import RuleSimulationRun  # noqa: E402,F401
from .webhook_secret_models import RuleWebhookSecret  # noqa: E402,F401
