"""Writes of the catalog: store credentials (encrypted at rest) and their key rotation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from aftersales.core import events
from aftersales.core.crypto import EncryptedToken, rotate
from aftersales.core.errors import ValidationFailed

from .events import CustomerTierChanged
from .models import Customer, CustomerTier, Product, Store, ValueTier


def store_set_credentials(*, store: Store, credentials: dict[str, Any]) -> Store:
    if not isinstance(credentials, dict) or not all(isinstance(k, str) for k in credentials):
        raise ValidationFailed("credentials must be an object with string keys", field="credentials")
    with transaction.atomic():
        locked = Store.objects.select_for_update().get(pk=store.pk)
        locked.credentials = credentials
        locked.save(update_fields=["credentials", "updated_at"])
    return locked


def stores_rotate_credentials() -> int:
    """Re-encrypt every store's credentials with the first key of FIELD_ENCRYPTION_KEYS, in one
    transaction. Tokens are rotated as tokens (never decoded into Python objects); safe to rerun."""
    table = connection.ops.quote_name(Store._meta.db_table)
    rotated = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, credentials FROM {table} WHERE credentials <> ''")  # noqa: S608
            rows = cursor.fetchall()
        for pk, token in rows:
            Store.objects.filter(pk=pk).update(credentials=EncryptedToken(rotate(token)))
            rotated += 1
    return rotated


def value_tier_for(price: Decimal, *, high_threshold: Decimal, mid_threshold: Decimal) -> str:
    """Pure: a product's value tier from its price and the organization's thresholds."""
    if price >= high_threshold:
        return ValueTier.HIGH
    if price >= mid_threshold:
        return ValueTier.MID
    return ValueTier.LOW


def product_save(*, product: Product) -> Product:
    """Save a product with its value tier derived from the organization's thresholds."""
    if product.price_amount is None or product.price_amount < 0:
        raise ValidationFailed("price must be zero or more", field="price_amount")
    org = product.organization
    product.value_tier = value_tier_for(
        product.price_amount, high_threshold=org.high_value_threshold, mid_threshold=org.mid_value_threshold
    )
    product.save()
    return product


def organization_set_value_thresholds(*, organization: Any, high: Decimal, mid: Decimal) -> int:
    """Change the value-tier thresholds and re-tier every product (three UPDATEs). Returns the
    number of products whose tier changed."""
    if mid < 0 or high < mid:
        raise ValidationFailed("thresholds must satisfy 0 <= mid <= high", field="high_value_threshold")
    with transaction.atomic():
        organization.high_value_threshold = high
        organization.mid_value_threshold = mid
        organization.save(update_fields=["high_value_threshold", "mid_value_threshold", "updated_at"])
        products = Product.objects.filter(organization=organization)
        changed = (
            products.filter(price_amount__gte=high).exclude(value_tier=ValueTier.HIGH).update(value_tier=ValueTier.HIGH)
        )
        changed += (
            products.filter(price_amount__gte=mid, price_amount__lt=high)
            .exclude(value_tier=ValueTier.MID)
            .update(value_tier=ValueTier.MID)
        )
        changed += (
            products.filter(price_amount__lt=mid).exclude(value_tier=ValueTier.LOW).update(value_tier=ValueTier.LOW)
        )
    return changed


def customer_set_tier(*, customer: Customer, tier: str) -> Customer:
    """Change a customer's tier (VIP, at risk...). Tickets carry a copy of the tier for fast inbox
    filtering; the inbox updates it from the CustomerTierChanged event."""
    if tier not in CustomerTier.values:
        raise ValidationFailed(f"unknown tier {tier!r}; expected one of {', '.join(CustomerTier.values)}", field="tier")
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        old = locked.tier
        if old != tier:
            locked.tier = tier
            locked.save(update_fields=["tier", "updated_at"])
            events.publish(CustomerTierChanged(customer_id=locked.pk, old_tier=old, new_tier=tier))
    return locked
