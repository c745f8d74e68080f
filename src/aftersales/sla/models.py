"""SLA: business calendars, policies, team calendars and one clock row per ticket.

The arithmetic lives in business_time.py (pure); this module stores what it needs. A `TicketSla` row
is always recomputed as a whole from the ticket's history (services.ticket_sla_recompute), never
incremented, so recomputing twice is harmless. See docs/sla.md."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.catalog.models import CustomerTier, Platform
from aftersales.core.models import TimeStampedModel
from aftersales.inbox.workflow import TicketCategory, Urgency

from .business_time import Calendar, calendar_from_spec


class BusinessCalendar(TimeStampedModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="business_calendars", db_index=False
    )
    name = models.CharField(max_length=120)
    timezone = models.CharField(max_length=64, help_text="IANA time zone, e.g. Europe/Berlin")
    # {"mon": [["09:00", "12:00"], ["13:30", "18:30"]], ..., "sat": [["10:00", "14:00"]]}; missing days are closed.
    weekly_hours = models.JSONField(default=dict, blank=True)
    holidays = models.JSONField(default=list, blank=True, help_text="Closed dates, YYYY-MM-DD")
    special_days = models.JSONField(default=dict, blank=True, help_text="Dates with other hours")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="businesscalendar_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def as_calendar(self) -> Calendar:
        """The validated pure calendar (the compiled form is cached by content in business_time)."""
        return calendar_from_spec(
            timezone=self.timezone, weekly=self.weekly_hours, holidays=self.holidays, special_days=self.special_days
        )


class TeamCalendar(models.Model):
    """The business hours a team works (accounts.Team has no field for it). A ticket routed to the team
    counts its SLA time on this calendar, whatever the policy's calendar."""

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, primary_key=True, related_name="+")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="team_links")


class SlaPolicy(TimeStampedModel):
    """Targets for the tickets it matches. An empty dimension matches every ticket; the most specific
    policy wins, by the weights in `SPECIFICITY` (urgency 8, platform 4, customer tier 2, category 1),
    so a policy naming the urgency beats any that does not. Two active policies cannot name the same
    values (unique), so there are no ties."""

    SPECIFICITY: dict[str, int] = {"urgency": 8, "platform": 4, "customer_tier": 2, "category": 1}

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="sla_policies", db_index=False
    )
    name = models.CharField(max_length=120)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, blank=True)
    platform = models.CharField(max_length=20, choices=Platform.choices, blank=True)
    customer_tier = models.CharField(max_length=10, choices=CustomerTier.choices, blank=True)
    category = models.CharField(max_length=30, choices=TicketCategory.choices, blank=True)
    first_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    warning_percent = models.PositiveSmallIntegerField(
        default=75, help_text="Warn when this share of the target has been used"
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="policies",
        help_text="Empty: around the clock (unless the ticket's team has a calendar)",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="slapolicy_unique_name"),
            models.UniqueConstraint(
                fields=["organization", "urgency", "platform", "customer_tier", "category"],
                condition=Q(is_active=True),
                name="slapolicy_unique_match",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def specificity(self) -> int:
        return sum(w for f, w in self.SPECIFICITY.items() if getattr(self, f))

    def matches(self, ticket: Any) -> bool:
        return all(not getattr(self, f) or getattr(self, f) == getattr(ticket, f) for f in self.SPECIFICITY)


class SlaClock(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")
    MARKETPLACE = "marketplace", _("Marketplace response")


class MarketplaceClockSource(models.TextChoices):
    NONE = "", _("No marketplace clock")
    ELAPSED_HOURS = "elapsed_hours", _("Marketplace response window")
    RESPOND_BY = "respond_by", _("Marketplace due date")


class TicketSla(models.Model):
    """The clocks of one ticket, recomputed from its audit trail. A due time is null while the clock
    is paused (the ticket waits on the customer) or has no target; `*_at` say when the clock stopped
    (met), `*_warned_at` / `*_breached_at` when the sweep flagged it (once: those are claimed)."""

    ticket = models.OneToOneField("inbox.Ticket", on_delete=models.CASCADE, primary_key=True, related_name="sla")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    calendar_name = models.CharField(max_length=120, blank=True)
    started_at = models.DateTimeField(help_text="The arrival of the message that opened the ticket")
    first_response_due = models.DateTimeField(null=True, blank=True)
    first_response_warn_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True, help_text="The first delivered reply")
    first_response_warned_at = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    marketplace_source = models.CharField(
        max_length=20, choices=MarketplaceClockSource.choices, blank=True, default=MarketplaceClockSource.NONE
    )
    marketplace_started_at = models.DateTimeField(null=True, blank=True)
    marketplace_due = models.DateTimeField(null=True, blank=True)
    marketplace_warn_at = models.DateTimeField(null=True, blank=True)
    marketplace_warned_at = models.DateTimeField(null=True, blank=True)
    marketplace_breached_at = models.DateTimeField(null=True, blank=True)
    is_paused = models.BooleanField(default=False)
    paused_since = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.BigIntegerField(default=0, help_text="Elapsed time spent waiting on the customer")
    computed_at = models.DateTimeField()
    # Set when a calendar, policy or team calendar of the organization changed: the refresh task
    # recomputes these rows in batches.
    is_stale = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["organization"], condition=Q(is_stale=True), name="ticketsla_stale"),
            # The sweep: clocks running towards a warning or a breach.
            models.Index(
                fields=["first_response_warn_at"],
                condition=Q(first_response_warned_at__isnull=True, first_response_warn_at__isnull=False),
                name="ticketsla_fr_warn",
            ),
            models.Index(
                fields=["first_response_due"],
                condition=Q(first_response_breached_at__isnull=True, first_response_due__isnull=False),
                name="ticketsla_fr_due",
            ),
            models.Index(
                fields=["resolution_warn_at"],
                condition=Q(resolution_warned_at__isnull=True, resolution_warn_at__isnull=False),
                name="ticketsla_res_warn",
            ),
            models.Index(
                fields=["resolution_due"],
                condition=Q(resolution_breached_at__isnull=True, resolution_due__isnull=False),
                name="ticketsla_res_due",
            ),
            models.Index(
                fields=["marketplace_warn_at"],
                condition=Q(marketplace_warned_at__isnull=True, marketplace_warn_at__isnull=False),
                name="ticketsla_mp_warn",
            ),
            models.Index(
                fields=["marketplace_due"],
                condition=Q(marketplace_breached_at__isnull=True, marketplace_due__isnull=False),
                name="ticketsla_mp_due",
            ),
        ]

    def __str__(self) -> str:
        return f"SLA of ticket #{self.ticket_id}"
