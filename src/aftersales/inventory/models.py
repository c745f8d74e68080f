"""Warehouses and the append-only stock ledger.

Stock is the sum of `InventoryMovement` rows per (warehouse, SKU), never an edited counter.
`StockLevel` is the ledger's running total kept in the same transaction as each movement (its row
is the lock that serialises reservations of one SKU in one warehouse; lock rows in (warehouse id,
SKU) order); `inventory.services.stock_rebuild` recomputes it from the ledger and tests check the
two agree."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.actors import ActorKind
from aftersales.core.models import TimeStampedModel


class Warehouse(TimeStampedModel):
    """A place goods ship from or come back to: the seller's warehouse or an overseas return hub.
    `serves_countries` (ISO codes) picks the return address for a buyer's region."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="warehouses", db_index=False
    )
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=120)
    is_return_hub = models.BooleanField(default=False, help_text="Accepts returns from buyers")
    is_active = models.BooleanField(default=True)
    serves_countries = models.JSONField(default=list, blank=True, help_text="Country codes; empty = anywhere")
    contact_name = models.CharField(max_length=120, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    phone = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="warehouse_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MovementKind(models.TextChoices):
    RECEIVE = "receive", _("Received into stock")
    ADJUST = "adjust", _("Count adjustment")
    RESERVE = "reserve", _("Reserved")
    RELEASE = "release", _("Reservation released")
    SHIP = "ship", _("Shipped")
    RESTOCK = "restock", _("Restocked after inspection")
    REFURBISH = "refurbish", _("Sent to refurbishment")
    WRITE_OFF = "write_off", _("Written off")


class InventoryMovement(models.Model):
    """One append-only ledger row. `on_hand_delta` and `reserved_delta` are signed quantities;
    available = on hand - reserved. `idempotency_key` makes a retried movement a no-op."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="movements", db_index=False)
    sku = models.CharField(max_length=80)
    kind = models.CharField(max_length=12, choices=MovementKind.choices)
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    reference = models.CharField(max_length=80, blank=True, help_text="e.g. rma:12, exchange:3, order:99")
    idempotency_key = models.CharField(max_length=120)
    note = models.CharField(max_length=200, blank=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_ref = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "idempotency_key"], name="movement_unique_key"),
        ]
        indexes = [models.Index(fields=["warehouse", "sku", "at"], name="movement_wh_sku_at")]


class StockLevel(models.Model):
    """Running totals of the ledger for one (warehouse, SKU); written only by inventory.services
    in the transaction that appends the movement."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels", db_index=False)
    sku = models.CharField(max_length=80)
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "sku"], name="stocklevel_unique"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="stocklevel_reserved_nonneg"),
            models.CheckConstraint(
                condition=models.Q(on_hand__gte=models.F("reserved")), name="stocklevel_available_nonneg"
            ),
        ]
        indexes = [models.Index(fields=["organization", "sku"], name="stocklevel_org_sku")]
