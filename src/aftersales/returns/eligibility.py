"""Eligibility without side effects (issue 10, section 2): the facts of a return request, resolved
against the organization's store, product and rate table, judged by the active policy version.
Reads only. The same function serves the API, the settings page's try-it form and (later) the RMA
request path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.catalog.models import Product, Store
from aftersales.core.errors import ValidationFailed
from aftersales.core.money import validate_currency
from aftersales.core.validation import check_instant

from .policy import Decision, Facts, FactsError
from .policy.document import CATEGORIES, CUSTOMER_TIERS, EVIDENCE_KINDS
from .policy_store import active_compiled_policy
from .rates import rate_lookup

MAX_QUANTITY = 100_000
MAX_PRICE = Decimal("1000000000")


@dataclass(frozen=True)
class EligibilityResult:
    decision: Decision
    policy_version: int


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("%(field)s: %(problem)s") % {"field": field, "problem": message}, field=field)


def check_eligibility(
    *,
    user: Any,
    delivered_at: datetime,
    requested_at: datetime,
    reason: str,
    unit_price: Decimal,
    currency: str,
    quantity_purchased: int,
    quantity_requested: int,
    quantity_already_returned: int = 0,
    store_id: int | None = None,
    platform: str | None = None,
    site: str | None = None,
    delivery_country: str | None = None,
    sku: str | None = None,
    category: str | None = None,
    customer_tier: str | None = None,
    evidence: list[str] | tuple[str, ...] = (),
) -> EligibilityResult:
    check_perm(user, Permission.VIEW)
    organization_id = organization_of(user)
    check_instant(delivered_at, field="delivered_at")
    check_instant(requested_at, field="requested_at")
    if isinstance(unit_price, float) or not isinstance(unit_price, Decimal) or not unit_price.is_finite():
        raise _fail("unit_price", _("must be a decimal string"))
    exponent = unit_price.as_tuple().exponent
    if unit_price < 0 or unit_price > MAX_PRICE:
        raise _fail("unit_price", _("must be between 0 and 1000000000"))
    if isinstance(exponent, int) and exponent < -2:
        raise _fail("unit_price", _("at most 2 decimal places"))
    try:
        validate_currency(currency)
    except Exception:
        raise _fail("currency", _("unknown currency code")) from None
    for field, value in (
        ("quantity_purchased", quantity_purchased),
        ("quantity_requested", quantity_requested),
        ("quantity_already_returned", quantity_already_returned),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
            raise _fail(field, _("must be a whole number from 0 to 100000"))
    if category is not None and category not in CATEGORIES:
        raise _fail("category", _("unknown product category"))
    if customer_tier is not None and customer_tier not in CUSTOMER_TIERS:
        raise _fail("customer_tier", _("unknown customer tier"))
    for i, kind in enumerate(evidence):
        if kind not in EVIDENCE_KINDS:
            raise _fail(f"evidence[{i}]", _("must be one of: photos, video, imei, serial_number"))

    return eligibility_decide(
        organization_id=organization_id,
        delivered_at=delivered_at,
        requested_at=requested_at,
        reason=reason,
        unit_price=unit_price,
        currency=currency,
        quantity_purchased=quantity_purchased,
        quantity_requested=quantity_requested,
        quantity_already_returned=quantity_already_returned,
        store_id=store_id,
        platform=platform,
        site=site,
        delivery_country=delivery_country,
        sku=sku,
        category=category,
        customer_tier=customer_tier,
        evidence=evidence,
    )


def eligibility_decide(
    *,
    organization_id: int,
    delivered_at: datetime,
    requested_at: datetime,
    reason: str,
    unit_price: Decimal,
    currency: str,
    quantity_purchased: int,
    quantity_requested: int,
    quantity_already_returned: int = 0,
    store_id: int | None = None,
    platform: str | None = None,
    site: str | None = None,
    delivery_country: str | None = None,
    sku: str | None = None,
    category: str | None = None,
    customer_tier: str | None = None,
    evidence: list[str] | tuple[str, ...] | frozenset[str] = (),
    lookup_sku: bool = True,
) -> EligibilityResult:
    """The decision for validated facts of one organization: the store, SKU and rate are resolved
    from its data and the active policy judges. Shared by the eligibility API (after `check_eligibility`
    validated the input and the user) and RMA creation (returns.rma, facts taken from the order).
    A SKU is looked up in the catalog (unknown: refused; its category unless one is given), except
    with `lookup_sku=False` (the RMA path, which read the SKU and its category from the order line).
    Raises ValidationFailed naming the field."""
    store_timezone: str | None = None
    if store_id is not None:
        store = (
            Store.objects.filter(pk=store_id, organization_id=organization_id)
            .only("platform", "site", "timezone")
            .first()
        )
        if store is None:
            raise _fail("store_id", _("no such store"))
        platform, site, store_timezone = store.platform, store.site or site, store.timezone
    elif platform is None and site is None:
        raise _fail("store_id", _("give a store id, or a platform and/or site"))
    if sku is not None and lookup_sku:
        product = (
            Product.objects.filter(organization_id=organization_id, sku=sku).values_list("category", flat=True).first()
        )
        if product is None:
            raise _fail("sku", _("unknown SKU"))
        category = category or product
    elif category is None:
        raise _fail("sku", _("give a SKU or a product category"))

    version, policy = active_compiled_policy(organization_id)
    rate = None
    if currency != policy.document.reporting_currency:
        rate = rate_lookup(organization_id, currency)
        if rate is None:
            raise _fail(
                "currency",
                _("no exchange rate from %(from)s to %(to)s in the rate table")
                % {"from": currency, "to": policy.document.reporting_currency},
            )
    facts = Facts(
        delivered_at=delivered_at,
        requested_at=requested_at,
        reason=reason,
        unit_price=unit_price,
        currency=currency,
        quantity_purchased=quantity_purchased,
        quantity_requested=quantity_requested,
        quantity_already_returned=quantity_already_returned,
        sku=sku,
        category=category,
        store_id=store_id,
        platform=platform,
        site=site,
        delivery_country=delivery_country.upper() if delivery_country else None,
        customer_tier=customer_tier,
        evidence=frozenset(evidence),
        store_timezone=store_timezone,
        rate=rate,
    )
    try:
        decision = policy.evaluate(facts)
    except FactsError as exc:
        raise _fail(exc.field, exc.message) from None
    return EligibilityResult(decision=decision, policy_version=version)
