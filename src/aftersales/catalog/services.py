"""Writes of the catalog: stores (an organization admin's settings; credentials encrypted at rest,
never shown again), their key rotation, product value tiers, customer tiers."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_countries import countries

from aftersales.accounts.audit import setting_audit
from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.channels.credentials import check_platform_credentials, merge_kept_secrets
from aftersales.channels.marketplace_apps import app_supplied_fields
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.core.money import validate_currency
from aftersales.core.validation import check_text
from aftersales.language.languages import SUPPORTED, normalise

from .events import CustomerTierChanged
from .history import tier_change_record
from .models import Customer, CustomerTier, Platform, Product, Store, ValueTier

MAX_STORE_NAME = 120
STORE_SECRET_FIELDS = ("credentials",)  # audited as "changed" with a fingerprint, never the value
MAX_SITE = 40
MAX_CREDENTIAL_KEYS = 30
MAX_CREDENTIALS_CHARS = 8_000
# The fields of a store an admin edits (credentials apart: write-only, see store_update).
STORE_FIELDS = (
    "name",
    "platform",
    "site",
    "external_id",
    "default_language",
    "timezone",
    "currency",
    "country",
    "is_active",
)
MAX_SELLER_ID = 120


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    """IANA time zone names this machine knows (the choices of a store's time zone)."""
    return frozenset(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC")


def _clean_store_value(name: str, value: Any) -> Any:
    """One store field, checked and normalised; ValidationFailed naming the field."""
    if name == "is_active":
        if not isinstance(value, bool):
            raise ValidationFailed(_("must be true or false"), field=name)
        return value
    text = " ".join(check_text(value, field=name, one_line=True).split())
    if name == "name":
        if not text or len(text) > MAX_STORE_NAME:
            raise ValidationFailed(
                _("the name must have 1 to %(max)d characters") % {"max": MAX_STORE_NAME}, field=name
            )
        return text
    if name == "platform":
        if text not in Platform.values:
            raise ValidationFailed(
                _("unknown platform %(value)r; expected one of %(choices)s")
                % {"value": text, "choices": ", ".join(Platform.values)},
                field=name,
            )
        return text
    if name == "site":
        if len(text) > MAX_SITE or " " in text:
            raise ValidationFailed(
                _("the site is a code of at most %(max)d characters without spaces, e.g. amazon.de")
                % {"max": MAX_SITE},
                field=name,
            )
        return text.lower()
    if name == "external_id":  # the seller's id on the platform (Amazon merchant token, eBay user id)
        if len(text) > MAX_SELLER_ID or " " in text:
            raise ValidationFailed(
                _("the seller id has at most %(max)d characters and no spaces") % {"max": MAX_SELLER_ID}, field=name
            )
        return text
    if name == "default_language":
        code = normalise(text)
        if code not in SUPPORTED:
            raise ValidationFailed(
                _("unsupported language %(value)r; supported: %(choices)s")
                % {"value": text, "choices": ", ".join(sorted(SUPPORTED))},
                field=name,
            )
        return code
    if name == "timezone":
        if text not in time_zones():
            raise ValidationFailed(
                _("unknown time zone %(value)r; use an IANA name such as Europe/Berlin") % {"value": text[:80]},
                field=name,
            )
        return text
    if name == "currency":
        code = text.upper()
        try:
            validate_currency(code)
        except Exception:  # django ValidationError from the money module
            raise ValidationFailed(
                _("unknown currency %(value)r; use an ISO 4217 code such as EUR") % {"value": text[:10]}, field=name
            ) from None
        return code
    if name == "country":
        code = text.upper()
        if code and code not in countries:
            raise ValidationFailed(
                _("unknown country %(value)r; use an ISO 3166 code such as DE") % {"value": text[:10]}, field=name
            )
        return code
    raise ValidationFailed(_("unknown field"), field=name)


def check_credentials(credentials: Any) -> dict[str, Any]:
    """A store's credentials: an object of at most 30 text keys, small enough to store."""
    if not isinstance(credentials, dict) or not all(isinstance(k, str) and k.strip() for k in credentials):
        raise ValidationFailed(_("credentials must be an object with text keys"), field="credentials")
    for key in credentials:
        check_text(key, field="credentials", one_line=True)
    if len(credentials) > MAX_CREDENTIAL_KEYS:
        raise ValidationFailed(
            _("credentials may have at most %(max)d keys") % {"max": MAX_CREDENTIAL_KEYS}, field="credentials"
        )
    if len(repr(credentials)) > MAX_CREDENTIALS_CHARS:
        raise ValidationFailed(_("credentials are too long"), field="credentials")
    return {key.strip(): value for key, value in credentials.items()}


def check_store_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every given store field checked (unknown fields refused), in STORE_FIELDS order."""
    unknown = sorted(set(values) - set(STORE_FIELDS) - {"credentials"})
    if unknown:
        raise ValidationFailed(_("unknown field"), field=unknown[0])
    clean = {name: _clean_store_value(name, values[name]) for name in STORE_FIELDS if name in values}
    if "credentials" in values and values["credentials"] is not None:
        clean["credentials"] = check_credentials(values["credentials"])
    elif "credentials" in values:
        clean["credentials"] = {}
    return clean


def _name_taken(name: str) -> Conflict:
    return Conflict(_("another store is already named %(name)r") % {"name": name}, field="name")


def store_create(
    *,
    user: User,
    name: str,
    platform: str,
    site: str = "",
    external_id: str = "",
    default_language: str = "en",
    timezone: str = "UTC",
    currency: str = "USD",
    country: str = "",
    is_active: bool = True,
    credentials: dict[str, Any] | None = None,
) -> Store:
    """Add a store (a marketplace account or a mailbox) to the admin's organization. Credentials,
    when given, are checked against the platform's schema (channels/credentials.py); the store's
    sync is run and watched through channels/store_sync.py."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    values: dict[str, Any] = {
        "name": name,
        "platform": platform,
        "site": site,
        "external_id": external_id,
        "default_language": default_language,
        "timezone": timezone,
        "currency": currency,
        "country": country,
        "is_active": is_active,
    }
    if credentials is not None:
        values["credentials"] = credentials
    clean = check_store_values(values)
    if clean.get("credentials"):
        clean["credentials"] = check_platform_credentials(
            clean["platform"],
            clean["credentials"],
            app_supplied=app_supplied_fields(organization_id, clean["platform"]),
        )
    try:
        with transaction.atomic():
            if Store.objects.filter(organization_id=organization_id, name=clean["name"]).exists():
                raise _name_taken(clean["name"])
            store = Store.objects.create(organization_id=organization_id, **clean)
            setting_audit(
                store, [*clean], actor=user, setting=f"store.{store.name}", secret=STORE_SECRET_FIELDS, created=True
            )
            return store
    except IntegrityError:  # created concurrently
        raise _name_taken(clean["name"]) from None


def store_update(*, user: User, store_id: int, changes: Mapping[str, Any]) -> Store:
    """Change some fields of one of the organization's stores (the keys of `changes`, among
    STORE_FIELDS). `credentials`: an object replaces them (checked against the platform's schema;
    secrets left out are kept), None or {} clears them; without the key they are kept.
    Deactivating a store (is_active False) keeps its tickets. Locks the store row."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    clean = check_store_values(changes)
    try:
        with transaction.atomic():
            store = Store.objects.select_for_update().filter(pk=store_id, organization_id=organization_id).first()
            if store is None:
                raise NotFound(_("store not found"), field="store_id")
            if (
                "name" in clean
                and Store.objects.filter(organization_id=organization_id, name=clean["name"])
                .exclude(pk=store.pk)
                .exists()
            ):
                raise _name_taken(clean["name"])
            _check_credentials_of(store, clean)
            for name, value in clean.items():
                setattr(store, name, value)
            if clean:
                setting_audit(store, [*clean], actor=user, setting=f"store.{store.name}", secret=STORE_SECRET_FIELDS)
                store.save(update_fields=[*clean, "updated_at"])
            return store
    except IntegrityError:
        raise _name_taken(str(clean.get("name", ""))) from None


def _check_credentials_of(store: Store, clean: dict[str, Any]) -> None:
    """The credentials of an update against the platform's schema (channels/credentials.py):
    secrets left out keep their stored value while the platform stays the same; a platform change
    without new credentials checks the stored ones against the new platform."""
    platform = clean.get("platform", store.platform)
    if clean.get("credentials"):
        stored = (store.credentials or {}) if platform == store.platform else {}
        merged = merge_kept_secrets(platform, clean["credentials"], stored)
        clean["credentials"] = check_platform_credentials(
            platform, merged, app_supplied=app_supplied_fields(store.organization_id, platform)
        )
    elif "credentials" not in clean and platform != store.platform and store.credentials:
        check_platform_credentials(
            platform, store.credentials, app_supplied=app_supplied_fields(store.organization_id, platform)
        )


def store_deactivate(*, user: User, store_id: int) -> Store:
    """Stop using a store: it stays with its tickets and orders, and can be activated again."""
    return store_update(user=user, store_id=store_id, changes={"is_active": False})


def store_set_credentials(*, store: Store, credentials: dict[str, Any]) -> Store:
    if not isinstance(credentials, dict) or not all(isinstance(k, str) for k in credentials):
        raise ValidationFailed(_("credentials must be an object with string keys"), field="credentials")
    with transaction.atomic():
        locked = Store.objects.select_for_update().get(pk=store.pk)
        locked.credentials = credentials
        locked.save(update_fields=["credentials", "updated_at"])
    return locked


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
        raise ValidationFailed(_("price must be zero or more"), field="price_amount")
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
        raise ValidationFailed(_("thresholds must satisfy 0 <= mid <= high"), field="high_value_threshold")
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


def customer_set_tier(*, customer: Customer, tier: str, actor: Actor) -> Customer:
    """Change a customer's tier (VIP, at risk...). Tickets carry a copy of the tier for fast inbox
    filtering; the inbox updates it from the CustomerTierChanged event."""
    if tier not in CustomerTier.values:
        raise ValidationFailed(
            _("unknown tier %(tier)r; expected one of %(join)s")
            % {"tier": tier, "join": ", ".join(CustomerTier.values)},
            field="tier",
        )
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        old = locked.tier
        if old != tier:
            locked.tier = tier
            locked.save(update_fields=["tier", "updated_at"])
            tier_change_record(locked, old=old, new=tier, actor=actor)
            events.publish(
                CustomerTierChanged(
                    customer_id=locked.pk,
                    organization_id=locked.organization_id,
                    old_tier=old,
                    new_tier=tier,
                    actor=actor,
                )
            )
    return locked
