"""Parcel tracking through a tracking provider (17TRACK first).

- TrackingAccount: the organization's account at a provider; its API key is encrypted at rest and
  write-only (the UI and API say whether one is set, never what it is). `push_token` is the secret
  part of the push URL the seller enters in the provider's dashboard.
- ShipmentTracking: one per shipment followed through a provider: registration, the last poll, the
  last event, the provider's own status words. "Stalled for N days" is the age of the last event
  (selectors.shipments_stalled).
- TrackingPush: every push received, stored raw (after its signature verified) before it is
  processed; unique per account and body hash, so a push received twice is processed once."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.crypto import EncryptedJSONField
from aftersales.core.models import TimeStampedModel


class Provider(models.TextChoices):
    SEVENTEENTRACK = "17track", "17TRACK"


def new_push_token() -> str:
    return secrets.token_urlsafe(24)


class TrackingAccount(TimeStampedModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="tracking_accounts"
    )
    provider = models.CharField(max_length=20, choices=Provider.choices, default=Provider.SEVENTEENTRACK)
    credentials = EncryptedJSONField(blank=True, default=dict)  # {"api_key": "..."}
    is_active = models.BooleanField(default=True)
    push_token = models.CharField(max_length=64, unique=True, default=new_push_token)
    # A loopback endpoint of a local fake (tests, demo); honoured only when
    # settings.CHANNELS_ALLOW_ENDPOINT_OVERRIDE is on.
    endpoint_url = models.CharField(max_length=200, blank=True)
    poll_interval_hours = models.PositiveSmallIntegerField(default=6)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True)
    last_check_detail = models.CharField(max_length=300, blank=True)
    last_error = models.CharField(max_length=300, blank=True)  # the last failed call, shown to admins

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "provider"], name="tracking_account_unique_provider")
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} ({self.organization_id})"

    @property
    def api_key_set(self) -> bool:
        return bool((self.credentials or {}).get("api_key"))


class ShipmentTracking(models.Model):
    shipment = models.OneToOneField("catalog.Shipment", on_delete=models.CASCADE, related_name="tracking")
    account = models.ForeignKey(TrackingAccount, on_delete=models.CASCADE, related_name="trackings")
    number = models.CharField(max_length=80, blank=True, help_text="The shipment's number as registered")
    carrier_code = models.CharField(max_length=20, blank=True, help_text="The provider's carrier key")
    carrier_guess = models.CharField(max_length=20, blank=True, help_text="Our guess from the number's shape")
    registered_at = models.DateTimeField(null=True, blank=True)
    register_claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, help_text="Why registering or mapping failed")
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=40, blank=True, help_text="Our ShipmentStatus value")
    provider_status = models.CharField(max_length=40, blank=True, help_text="e.g. InTransit")
    provider_sub_status = models.CharField(max_length=60, blank=True, help_text="e.g. InTransit_PickedUp")
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="No longer followed (final status)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "stopped_at", "last_polled_at"], name="shiptrack_due"),
            models.Index(fields=["account", "last_event_at"], name="shiptrack_last_event"),
            models.Index(fields=["account", "number"], name="shiptrack_number"),
        ]

    def __str__(self) -> str:
        return f"tracking of shipment {self.shipment_id}"


class TrackingPush(models.Model):
    account = models.ForeignKey(TrackingAccount, on_delete=models.CASCADE, related_name="pushes")
    received_at = models.DateTimeField()
    body_sha256 = models.CharField(max_length=64)
    body = models.TextField()
    event = models.CharField(max_length=40, blank=True)
    number = models.CharField(max_length=80, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, help_text=_("Why it could not be processed"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "body_sha256"], name="tracking_push_unique_body")]
        indexes = [models.Index(fields=["processed_at"], name="tracking_push_pending")]
