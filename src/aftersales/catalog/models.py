"""Stores (marketplace accounts), products, customers, orders, shipments.

Every record that comes from a platform carries its (store, external id) identity so that
connectors can upsert idempotently."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from aftersales.core.crypto import EncryptedJSONField
from aftersales.core.models import TimeStampedModel
from aftersales.core.money import AMOUNT_DIGITS, AMOUNT_PLACES


class Platform(models.TextChoices):
    AMAZON = "amazon", "Amazon"
    EBAY = "ebay", "eBay"
    SHOPEE = "shopee", "Shopee"
    ALIEXPRESS = "aliexpress", "AliExpress"
    TIKTOK = "tiktok", "TikTok Shop"
    WISH = "wish", "Wish"
    SHOPIFY = "shopify", "Shopify"
    EMAIL = "email", _("Email")
    WHATSAPP = "whatsapp", "WhatsApp"
    FACEBOOK = "facebook", "Facebook Messenger"


class Store(TimeStampedModel):
    """One marketplace account (or mailbox) of the seller."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="stores")
    name = models.CharField(max_length=120)
    platform = models.CharField(max_length=20, choices=Platform.choices)
    site = models.CharField(max_length=40, blank=True, help_text="Marketplace/site code, e.g. amazon.de, shopee.br")
    external_id = models.CharField(max_length=120, blank=True, help_text="Seller id on the platform")
    default_language = models.CharField(max_length=10, default="en")
    timezone = models.CharField(max_length=64, default="UTC")
    currency = models.CharField(max_length=3, default="USD")
    country = CountryField(blank=True, help_text="The market the store sells to")
    credentials = EncryptedJSONField(blank=True, default=dict)
    is_active = models.BooleanField(default=True)
    # The platform endpoint for this store, used instead of the connector's default only when
    # settings.CHANNELS_ALLOW_ENDPOINT_OVERRIDE is on and the host is loopback (the local fakes).
    endpoint_url = models.URLField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="store_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()} {self.site})".strip()


class CustomerTier(models.TextChoices):
    VIP = "vip", _("VIP")
    REGULAR = "regular", _("Regular")
    NEW = "new", pgettext_lazy("customer tier", "New")
    AT_RISK = "at_risk", _("At risk")


def normalise_email(email: str) -> str:
    """The form a buyer's e-mail address is matched under: NFC, surrounding blanks dropped,
    lower-cased (Unicode-aware: "MÜLLER@Example.COM" and "müller@example.com" are one buyer).
    `str.lower`, not `casefold`: casefolding would also make "straße@" and "strasse@" one buyer,
    and those are two mailboxes."""
    return unicodedata.normalize("NFC", email).strip().lower()


class Customer(TimeStampedModel):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="customers")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    # normalise_email(email), kept by save(): the indexed key of the buyer lookup at ingest
    # (an equality probe on (organization, email_normalized) on every database, where
    # email__iexact scanned the organization's customers on SQLite and PostgreSQL alike).
    email_normalized = models.CharField(max_length=254, blank=True, editable=False)
    country = CountryField(blank=True)
    preferred_language = models.CharField(max_length=10, blank=True)
    tier = models.CharField(max_length=10, choices=CustomerTier.choices, default=CustomerTier.NEW)
    lifetime_value_amount = models.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, default=Decimal("0")
    )
    lifetime_value_currency = models.CharField(max_length=3, default="USD")
    order_count = models.PositiveIntegerField(default=0)
    return_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "email"], name="customer_org_email"),
            models.Index(fields=["organization", "email_normalized"], name="customer_org_email_norm"),
            models.Index(Upper("email"), name="customer_email_upper"),  # email__iexact in search
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"customer {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email_normalized = normalise_email(self.email)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "email_normalized"}
        super().save(*args, **kwargs)


class CustomerTierChange(models.Model):
    """A customer's tier change, append-only: written by catalog.services.customer_set_tier (the one
    service that changes a tier) in its transaction, read by the rules' dry run (the tier as of an
    instant, rules.customer_history). Migration catalog 0008 wrote one row per customer with its tier
    at that moment (`old_tier` "" and `at` the migration's time: nothing is known before it)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tier_changes", db_index=False)
    old_tier = models.CharField(max_length=10, blank=True)  # "": not recorded (the migration's row)
    new_tier = models.CharField(max_length=10, choices=CustomerTier.choices)
    at = models.DateTimeField()
    actor_kind = models.CharField(max_length=20, blank=True)
    actor_ref = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "at"], name="customer_tier_change_at")]


class CustomerIdentity(TimeStampedModel):
    """The buyer's id on one store (Amazon buyer id, eBay username, e-mail address...)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    # Indexed by customer_identity_unique (store, external_id), which also serves every lookup by store
    # (a separate store_id index was one more B-tree to write per new buyer, and the planner's pick for
    # the (store, external id) probe of ingest on a small table).
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="customer_identities", db_index=False)
    external_id = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="customer_identity_unique"),
        ]


class ProductCategory(models.TextChoices):
    PHONES = "phones", _("Phones")
    COMPUTERS = "computers", _("Computers and tablets")
    CONSUMER_ELECTRONICS = "consumer_electronics", _("Consumer electronics")
    ELECTRONIC_ACCESSORIES = "electronic_accessories", _("Electronic accessories")
    APPAREL = "apparel", _("Apparel")
    SHOES = "shoes", _("Shoes")
    HOME = "home", _("Home and kitchen")
    BEAUTY = "beauty", _("Beauty")
    TOYS = "toys", _("Toys")
    SPORTS = "sports", _("Sports and outdoors")
    OTHER = "other", _("Other")


THREE_C_CATEGORIES = frozenset(
    {
        ProductCategory.PHONES,
        ProductCategory.COMPUTERS,
        ProductCategory.CONSUMER_ELECTRONICS,
        ProductCategory.ELECTRONIC_ACCESSORIES,
    }
)


class ValueTier(models.TextChoices):
    HIGH = "high", _("High value")
    MID = "mid", _("Mid value")
    LOW = "low", _("Low value")


class Product(TimeStampedModel):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="products")
    sku = models.CharField(max_length=80)
    title = models.CharField(max_length=300)
    category = models.CharField(max_length=30, choices=ProductCategory.choices, default=ProductCategory.OTHER)
    price_amount = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES)
    price_currency = models.CharField(max_length=3, default="USD")
    value_tier = models.CharField(max_length=4, choices=ValueTier.choices, default=ValueTier.LOW)
    warranty_months = models.PositiveSmallIntegerField(default=12)
    is_serialised = models.BooleanField(default=False, help_text="Tracked by serial number / IMEI")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "sku"], name="product_unique_sku")]

    def __str__(self) -> str:
        return f"{self.sku} {self.title}"


class OrderStatus(models.TextChoices):
    """Order statuses as connectors normalise them. The column stays free text (a platform may
    send a status not listed here: it is shown as sent); these give the known ones a label."""

    PENDING = "pending", pgettext_lazy("order status", "Pending")
    PAID = "paid", pgettext_lazy("order status", "Paid")
    PROCESSING = "processing", pgettext_lazy("order status", "Processing")
    UNSHIPPED = "unshipped", pgettext_lazy("order status", "Not shipped")
    PARTIALLY_SHIPPED = "partially_shipped", pgettext_lazy("order status", "Partially shipped")
    SHIPPED = "shipped", pgettext_lazy("order status", "Shipped")
    DELIVERED = "delivered", pgettext_lazy("order status", "Delivered")
    COMPLETED = "completed", pgettext_lazy("order status", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")
    REFUNDED = "refunded", pgettext_lazy("order status", "Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", pgettext_lazy("order status", "Partially refunded")
    RETURNED = "returned", pgettext_lazy("order status", "Returned")


class ShipmentStatus(models.TextChoices):
    """Shipment and tracking-event statuses (same free-text rule as OrderStatus)."""

    PENDING = "pending", pgettext_lazy("shipment status", "Pending")
    INFO_RECEIVED = "info_received", pgettext_lazy("shipment status", "Information received")
    PICKED_UP = "picked_up", pgettext_lazy("shipment status", "Picked up")
    DEPARTED = "departed", pgettext_lazy("shipment status", "Departed")
    IN_TRANSIT = "in_transit", pgettext_lazy("shipment status", "In transit")
    ARRIVED = "arrived", pgettext_lazy("shipment status", "Arrived")
    CUSTOMS_HOLD = "customs_hold", pgettext_lazy("shipment status", "Held by customs")
    CUSTOMS_CLEARED = "customs_cleared", pgettext_lazy("shipment status", "Cleared customs")
    OUT_FOR_DELIVERY = "out_for_delivery", pgettext_lazy("shipment status", "Out for delivery")
    FAILED_ATTEMPT = "failed_attempt", pgettext_lazy("shipment status", "Delivery attempt failed")
    DELIVERED = "delivered", pgettext_lazy("shipment status", "Delivered")
    EXCEPTION = "exception", pgettext_lazy("shipment status", "Exception")
    RETURNED = "returned", pgettext_lazy("shipment status", "Returned to sender")
    LOST = "lost", pgettext_lazy("shipment status", "Lost")


def status_label(choices: type[models.TextChoices], value: str) -> str:
    """The translated label of a known status, else the value as the platform sent it."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


class Order(TimeStampedModel):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="orders")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="orders")
    external_id = models.CharField(max_length=120, help_text="Order number on the platform")
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders")
    placed_at = models.DateTimeField()
    status = models.CharField(max_length=40, blank=True)
    total_amount = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")
    ship_country = CountryField(blank=True)
    # A keyed hash of the normalised shipping address (catalog.addresses), never the address itself;
    # NULL when the platform gave none.
    ship_address_key = models.CharField(max_length=64, null=True, blank=True)
    # When the platform last changed the order (the sync engine skips older versions of it).
    platform_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "external_id"], name="order_unique_external_id")]
        indexes = [
            models.Index(fields=["external_id"], name="order_external_id"),  # search by order number
            # "several accounts to one address" (returns.review): an organization's orders by address key
            models.Index(fields=["organization", "ship_address_key"], name="order_org_ship_address"),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def status_label(self) -> str:
        return status_label(OrderStatus, self.status)


class OrderStatusChange(models.Model):
    """An order's status change as the platform reported it, append-only: written where an order
    version changes a stored order's status (channels.apply and channels.apply_many, through
    catalog.history.order_status_changes_record) and by the exchange's cancellation; read by the
    rules' dry run (the order's status as of an instant). `at` is the platform's update time of the
    version when it gave one, else when it was applied. An order's status before its first change
    is that change's `old_status`; an order never changed has had its stored status throughout."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes", db_index=False)
    old_status = models.CharField(max_length=40, blank=True)
    new_status = models.CharField(max_length=40, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["order", "at"], name="order_status_change_at")]


class OrderLine(models.Model):
    # Indexed by orderline_order_sku (order, sku), which also serves every lookup by order.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="order_lines")
    sku = models.CharField(max_length=80)
    title = models.CharField(max_length=300, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    unit_price_amount = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES)
    currency = models.CharField(max_length=3, default="USD")
    # The platform's line-item id (write-backs such as refunds and shipping confirmations need it).
    external_line_id = models.CharField(max_length=120, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["order", "external_line_id"], name="orderline_order_extline"),
            models.Index(fields=["sku"], name="orderline_sku"),
            # The inbox's `sku` filter probes (order_id, sku) per ticket: index-only with this one.
            models.Index(fields=["order", "sku"], name="orderline_order_sku"),
        ]

    @property
    def line_total(self) -> Decimal:
        return self.unit_price_amount * self.quantity


class Shipment(TimeStampedModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=80)
    tracking_number = models.CharField(max_length=80)
    status = models.CharField(max_length=40, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tracking_number"], name="shipment_tracking")]

    @property
    def status_label(self) -> str:
        return status_label(ShipmentStatus, self.status)


class TrackingEvent(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    status = models.CharField(max_length=40)
    location = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at"]

    @property
    def status_label(self) -> str:
        return status_label(ShipmentStatus, self.status)
