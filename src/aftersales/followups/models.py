"""Time-based follow-ups (issue 11 section 5): the organization's settings, the follow-up log (one row
per (kind, object, slot): the claim that makes every periodic job idempotent, and what was sent or
skipped and why), the buyers' CSAT ratings and the coupon pool."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_THANKS_CATEGORIES = ["complaint"]


def _default_thanks_categories() -> list[str]:
    return list(DEFAULT_THANKS_CATEGORIES)


class FollowUpSettings(models.Model):
    """Per organization. Everything is off until an admin turns it on."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    stall_enabled = models.BooleanField(default=False)
    stall_days = models.PositiveSmallIntegerField(default=7)
    stall_template = models.ForeignKey(
        "language.ReplyTemplate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    csat_enabled = models.BooleanField(default=False)
    csat_delay_hours = models.PositiveSmallIntegerField(default=24)
    csat_sample_percent = models.PositiveSmallIntegerField(default=100)
    csat_link_days = models.PositiveSmallIntegerField(default=14)
    csat_template = models.ForeignKey(
        "language.ReplyTemplate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    thanks_enabled = models.BooleanField(default=False)
    thanks_categories = models.JSONField(default=_default_thanks_categories, blank=True)
    coupon_pattern = models.CharField(
        max_length=60, blank=True, help_text="Used when the imported pool is empty, e.g. THANKS-{code}"
    )
    thanks_template = models.ForeignKey(
        "language.ReplyTemplate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    warranty_delivery_enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(null=True, blank=True)


class FollowUpKind(models.TextChoices):
    PARCEL_STALLED = "parcel_stalled", _("Parcel stalled")
    CSAT_SURVEY = "csat_survey", _("Satisfaction survey")
    COMPLAINT_THANKS = "complaint_thanks", _("Thank-you with a coupon")
    WARRANTY_REMINDER = "warranty_reminder", _("Warranty expiry reminder")


class FollowUpOutcome(models.TextChoices):
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Skipped")


class FollowUp(models.Model):
    """One follow-up decision. `key` = kind + object + slot (the shipment and its last tracking
    event, the ticket and its resolution instant, the warranty reminder): a second run of a job
    finds the key taken and does nothing. `reason` is a code (skip_reasons in services) and
    `detail` the words shown to the agent."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=FollowUpKind.choices)
    key = models.CharField(max_length=120, unique=True)
    ticket = models.ForeignKey(
        "inbox.Ticket", on_delete=models.CASCADE, null=True, blank=True, related_name="follow_ups"
    )
    message = models.ForeignKey("inbox.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    outcome = models.CharField(max_length=10, choices=FollowUpOutcome.choices)
    reason = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    language = models.CharField(max_length=10, blank=True)
    coupon_code = models.CharField(max_length=60, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="CSAT: the link's expiry")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="followup_ticket"),
            models.Index(fields=["organization", "kind", "-created_at"], name="followup_org_kind"),
        ]


class CsatResponse(models.Model):
    """The buyer's rating of a solved ticket: one per survey (re-rating replaces it until the link
    expires). The agent and team are the ticket's at the time of the rating, for analytics."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    survey = models.OneToOneField(FollowUp, on_delete=models.CASCADE, related_name="csat")
    ticket = models.ForeignKey("inbox.Ticket", on_delete=models.CASCADE, related_name="csat_responses")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey("accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    language = models.CharField(max_length=10, blank=True)
    rated_at = models.DateTimeField()
    changes = models.PositiveSmallIntegerField(default=0, help_text="How many times the buyer re-rated")

    class Meta:
        indexes = [models.Index(fields=["organization", "rated_at"], name="csat_org_rated")]
        constraints = [models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="csat_rating_1_5")]


class Coupon(models.Model):
    """A code from the pool the admin imported (or one made from the pattern when the pool ran dry).
    Used once: claimed with a conditional update on `used_at`."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=60)
    imported_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.OneToOneField(FollowUp, on_delete=models.SET_NULL, null=True, blank=True, related_name="coupon")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="coupon_org_code")]
        indexes = [models.Index(fields=["organization", "used_at", "id"], name="coupon_org_free")]
