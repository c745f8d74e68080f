"""A dry run replayed in the background (rules.simulation_runs, docs/rules.md "Simulation (dry run)"):
one row per run, kept for the organization, with its progress and its result. The row is also the
run's checkpoint: the cursor of the next page and the totals so far are saved together after each
page, so a worker that dies mid-run resumes after the last saved page, nothing counted twice."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SimulationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


# rules.simulation_runs.run_transition: the one writer of a run's status
SIMULATION_TRANSITIONS: dict[str, frozenset[str]] = {
    SimulationStatus.QUEUED: frozenset(
        {SimulationStatus.RUNNING, SimulationStatus.DONE, SimulationStatus.FAILED, SimulationStatus.CANCELLED}
    ),
    SimulationStatus.RUNNING: frozenset(
        {SimulationStatus.RUNNING, SimulationStatus.DONE, SimulationStatus.FAILED, SimulationStatus.CANCELLED}
    ),
    SimulationStatus.DONE: frozenset(),
    SimulationStatus.FAILED: frozenset(),
    SimulationStatus.CANCELLED: frozenset(),
}
FINISHED = (SimulationStatus.DONE, SimulationStatus.FAILED, SimulationStatus.CANCELLED)


class RuleSimulationRun(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    rule = models.ForeignKey("rules.Rule", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=120, blank=True)
    trigger = models.CharField(max_length=24)
    document = models.JSONField(help_text="The rule document replayed (checked like a save)")
    days = models.PositiveSmallIntegerField()
    since = models.DateTimeField()
    until = models.DateTimeField()
    status = models.CharField(max_length=12, choices=SimulationStatus.choices, default=SimulationStatus.QUEUED)
    progress = models.FloatField(default=0)
    cursor = models.TextField(blank=True, help_text="The next page's cursor (empty when done)")
    events_examined = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    change_counts = models.JSONField(default=dict, blank=True)
    matches = models.JSONField(default=list, blank=True, help_text="The matches kept (at most MAX_KEPT_MATCHES)")
    duration_ms = models.FloatField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="rule_sim_run_org_created"),
            # the periodic clean-up (rules.simulation_runs.simulation_runs_prune): finished runs by age
            models.Index(
                fields=["finished_at"], condition=models.Q(finished_at__isnull=False), name="rule_sim_run_finished"
            ),
        ]

    def __str__(self) -> str:
        return f"simulation {self.pk} ({self.status})"
