"""Sold units (by serial number / IMEI), warranty terms, claims, repair orders, replacement requests,
expiry reminders, and the audit rows of claims and repair orders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from aftersales.catalog.models import CustomerTier, ProductCategory
from aftersales.core.actors import ActorKind
from aftersales.core.models import TimeStampedModel

from .workflow import ClaimStatus, RepairStatus


class WarrantySettings(TimeStampedModel):
    """Per organization: expiry reminders to customers."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="warranty_settings"
    )
    reminders_enabled = models.BooleanField(default=False)
    reminder_days_before = models.PositiveSmallIntegerField(
        default=30, help_text="Remind the customer this many days before the warranty ends"
    )
    # Rendered in the buyer's language (language.templates); none: the built-in text.
    reminder_template = models.ForeignKey(
        "language.ReplyTemplate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )


class SoldUnit(TimeStampedModel):
    """One physical unit sold, identified by its serial number and/or IMEI (unique per organization)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="sold_units")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="sold_units")
    order_line = models.ForeignKey(
        "catalog.OrderLine", on_delete=models.SET_NULL, null=True, blank=True, related_name="sold_units"
    )
    order = models.ForeignKey("catalog.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    store = models.ForeignKey("catalog.Store", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    customer = models.ForeignKey(
        "catalog.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="sold_units"
    )
    serial_number = models.CharField(max_length=64, blank=True, default="")
    imei = models.CharField(max_length=15, blank=True, default="")
    sold_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_country = CountryField(blank=True)
    # The last covered local day under the term that applied when it was last computed (refreshed
    # when terms change); the reminder sweep filters on it, the lookup recomputes live.
    warranty_ends_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "serial_number"],
                condition=~Q(serial_number=""),
                name="soldunit_unique_serial",
            ),
            models.UniqueConstraint(
                fields=["organization", "imei"], condition=~Q(imei=""), name="soldunit_unique_imei"
            ),
            models.CheckConstraint(condition=~Q(serial_number="") | ~Q(imei=""), name="soldunit_serial_or_imei"),
        ]
        indexes = [models.Index(fields=["organization", "warranty_ends_on"], name="soldunit_org_ends")]

    def __str__(self) -> str:
        return self.imei or self.serial_number


class WarrantyTerm(TimeStampedModel):
    """Warranty months for a product category, a region and a customer tier (blank: any)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="warranty_terms")
    category = models.CharField(max_length=30, choices=ProductCategory.choices, blank=True, default="")
    region = models.CharField(
        max_length=8, blank=True, default="", help_text="A country code (DE) or a group (EU); blank: any"
    )
    customer_tier = models.CharField(max_length=10, choices=CustomerTier.choices, blank=True, default="")
    months = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "category", "region", "customer_tier"], name="warrantyterm_unique_scope"
            )
        ]
        ordering = ["category", "region", "customer_tier", "id"]


class ClaimResolution(models.TextChoices):
    REPAIR = "repair", _("Repair")
    REPLACEMENT = "replacement", _("Replacement")


class WarrantyClaim(TimeStampedModel):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="warranty_claims")
    unit = models.ForeignKey(SoldUnit, on_delete=models.PROTECT, related_name="claims")
    customer = models.ForeignKey("catalog.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    order = models.ForeignKey("catalog.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    ticket = models.ForeignKey(
        "inbox.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="warranty_claims"
    )
    status = models.CharField(max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED)
    problem = models.TextField()
    claimed_at = models.DateTimeField()
    # The judgement at opening: the term, the last covered day, in / out of warranty.
    term_months = models.PositiveSmallIntegerField()
    term_source = models.CharField(max_length=10)
    warranty_ends_on = models.DateField()
    in_warranty = models.BooleanField()
    days_left = models.IntegerField()
    override_reason = models.TextField(blank=True, default="", help_text="Why an out-of-warranty claim was accepted")
    resolution = models.CharField(max_length=12, choices=ClaimResolution.choices, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["organization", "status"], name="warrantyclaim_org_status"),
            models.Index(fields=["organization", "-created_at"], name="warrantyclaim_org_created"),
        ]


class AuditFields(models.Model):
    type = models.CharField(max_length=30)
    payload = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_ref = models.CharField(max_length=64, blank=True, default="")
    at = models.DateTimeField()

    class Meta:
        abstract = True


class WarrantyClaimEvent(AuditFields):
    """The claim's audit trail and timeline: `created`, `status_changed` (old, new, reason),
    `repair_order_created`, `replacement_requested`, `replacement_reserved`, `replacement_out_of_stock`."""

    claim = models.ForeignKey(WarrantyClaim, on_delete=models.CASCADE, related_name="events")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["claim", "at"], name="warrantyclaimevent_claim_at")]


class RepairOrder(TimeStampedModel):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="repair_orders")
    claim = models.ForeignKey(WarrantyClaim, on_delete=models.PROTECT, related_name="repair_orders")
    status = models.CharField(max_length=20, choices=RepairStatus.choices, default=RepairStatus.AWAITING_UNIT)
    diagnosis = models.TextField(blank=True, default="")
    return_carrier = models.CharField(max_length=80, blank=True, default="")
    return_tracking_number = models.CharField(max_length=80, blank=True, default="")

    class Meta:
        constraints = [
            # One open repair order per claim (a cancelled one may be followed by another).
            models.UniqueConstraint(
                fields=["claim"],
                condition=~Q(status__in=[RepairStatus.CANCELLED, RepairStatus.CLOSED]),
                name="repairorder_one_open_per_claim",
            )
        ]
        indexes = [models.Index(fields=["organization", "status"], name="repairorder_org_status")]


class RepairOrderEvent(AuditFields):
    """The repair order's audit trail: `created`, `status_changed` (old, new, reason, details)."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="events")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["repair_order", "at"], name="repairorderevent_order_at")]


class ReplacementRequest(TimeStampedModel):
    """A replacement unit owed for an approved claim. Its stock is reserved through the inventory
    ledger when it is requested (warranty.replacements.replacement_reserve, after commit): reserved
    (warehouse and reserved_at set) or out of stock (out_of_stock_at and the shortage in stock_note:
    the agent offers a refund instead, or retries the reservation: replacement_retry); shipped from
    the reservation (replacement_ship: fulfilled_at, carrier, tracking number)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="warranty_replacements"
    )
    claim = models.OneToOneField(WarrantyClaim, on_delete=models.PROTECT, related_name="replacement")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField(default=1)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reserved_at = models.DateTimeField(null=True, blank=True)
    out_of_stock_at = models.DateTimeField(null=True, blank=True)
    stock_note = models.TextField(blank=True)
    # Filled when the replacement ships (warranty.replacements.replacement_ship): fulfilled_at above.
    carrier = models.CharField(max_length=80, blank=True, default="")
    tracking_number = models.CharField(max_length=80, blank=True, default="")


class ReminderState(models.TextChoices):
    QUEUED = "queued", _("Queued for delivery")


class WarrantyReminder(models.Model):
    """One expiry reminder per (unit, last covered day, days before): the key makes a rerun of the
    sweep harmless. The text is rendered in the buyer's language; it waits for a delivery channel
    (see docs/warranty.md): nothing here pretends it reached the customer."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(SoldUnit, on_delete=models.CASCADE, related_name="reminders")
    customer = models.ForeignKey("catalog.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    key = models.CharField(max_length=80, unique=True)
    ends_on = models.DateField()
    days_before = models.PositiveSmallIntegerField()
    language = models.CharField(max_length=10)
    body = models.TextField()
    state = models.CharField(max_length=10, choices=ReminderState.choices, default=ReminderState.QUEUED)
    created_at = models.DateTimeField()
