"""Returns, refund requests, inquiries and cases as the marketplace holds them.

`ReturnRequest` is the marketplace's view of a buyer's request (its status word as the platform
sent it, its deadline `respond_by`); the seller's own handling (RMAs, refunds, inventory) builds on
top of it later. `ReturnRequestEvent` is its audit trail (received, status changed)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.actors import ActorKind
from aftersales.core.models import TimeStampedModel
from aftersales.core.money import AMOUNT_DIGITS, AMOUNT_PLACES


class ReturnRequestKind(models.TextChoices):
    """channels.base.ReturnKind, with labels."""

    RETURN = "return", _("Return")
    REFUND_REQUEST = "refund_request", _("Refund request")
    INQUIRY = "inquiry", _("Inquiry")
    CASE = "case", _("Case")
    CANCELLATION = "cancellation", _("Cancellation request")


class ReturnRequest(TimeStampedModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="return_requests", db_index=False
    )
    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="return_requests", db_index=False)
    external_id = models.CharField(max_length=120, help_text="The return / case id on the platform")
    kind = models.CharField(max_length=20, choices=ReturnRequestKind.choices)
    platform_status = models.CharField(max_length=60, help_text="The platform's status word, as sent")
    order = models.ForeignKey(
        "catalog.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="return_requests"
    )
    order_external_id = models.CharField(max_length=120, blank=True)
    customer = models.ForeignKey(
        "catalog.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="return_requests"
    )
    ticket = models.ForeignKey(
        "inbox.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="return_requests"
    )
    reason = models.CharField(max_length=120, blank=True, help_text="The platform's reason code")
    buyer_comment = models.TextField(blank=True)
    requested_amount = models.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, null=True, blank=True
    )
    currency = models.CharField(max_length=3, blank=True)
    respond_by = models.DateTimeField(null=True, blank=True, help_text="The marketplace's deadline")
    created_on_platform = models.DateTimeField()
    updated_on_platform = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="returnrequest_unique_external_id"),
        ]
        indexes = [
            models.Index(fields=["organization", "respond_by"], name="returnrequest_org_respond_by"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id}"


class ReturnRequestLine(models.Model):
    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=80)
    quantity = models.PositiveIntegerField(default=1)
    external_line_id = models.CharField(max_length=120, blank=True)
    reason = models.CharField(max_length=120, blank=True)
    order_line = models.ForeignKey(
        "catalog.OrderLine", on_delete=models.SET_NULL, null=True, blank=True, related_name="return_lines"
    )


class ReturnRequestEventType(models.TextChoices):
    RECEIVED = "received", _("Received from the marketplace")
    STATUS_CHANGED = "status_changed", _("Marketplace status changed")
    UPDATED = "updated", _("Updated by the marketplace")


class ReturnRequestEvent(models.Model):
    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=20, choices=ReturnRequestEventType.choices)
    payload = models.JSONField(default=dict, blank=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_ref = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class ReturnPolicyVersion(models.Model):
    """One saved version of an organization's return-policy document (returns/policy). Every save or
    import adds a version; exactly one per organization is active (returns/policy_store.py)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="return_policy_versions", db_index=False
    )
    number = models.PositiveIntegerField()
    document = models.JSONField()
    is_active = models.BooleanField(default=False)
    comment = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="returnpolicy_unique_number"),
            models.UniqueConstraint(
                fields=["organization"], condition=models.Q(is_active=True), name="returnpolicy_one_active"
            ),
        ]


class ExchangeRate(models.Model):
    """The admin's rate table: 1 `currency` = `rate` units of the organization's reporting currency
    (the policy document's `reporting_currency`). Used for value tiers; the rate used is reported."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="exchange_rates", db_index=False
    )
    currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    as_of = models.DateField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "currency"], name="exchangerate_unique_currency"),
        ]
