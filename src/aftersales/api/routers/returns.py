"""Return policies (versioned documents, admins) and the side-effect-free eligibility check."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Path, Router

from aftersales.returns.eligibility import check_eligibility
from aftersales.returns.policy_store import policy_active, policy_save, policy_version, policy_versions
from aftersales.returns.rates import rate_list, rate_set

from ..auth import current_user
from ..schemas.common import with_errors
from ..schemas.returns import (
    EligibilityIn,
    EligibilityOut,
    ExchangeRateIn,
    ExchangeRateOut,
    PolicyIn,
    PolicyVersionOut,
    PolicyVersionSummaryOut,
    eligibility_out,
)

router = Router(tags=["returns"])


@router.post("/returns/eligibility", response=with_errors({200: EligibilityOut}))
def check_return_eligibility(request: HttpRequest, payload: EligibilityIn) -> Any:
    """Judge a return request against the active policy. Writes nothing. 422 names the field
    (quantities above purchased, over-precise amounts, unknown currency or SKU, missing offsets)."""
    result = check_eligibility(
        user=current_user(request),
        store_id=payload.store_id,
        platform=payload.platform.value if payload.platform else None,
        site=payload.site,
        delivery_country=payload.delivery_country,
        delivered_at=payload.delivered_at,
        requested_at=payload.requested_at,
        sku=payload.sku,
        category=payload.category.value if payload.category else None,
        unit_price=payload.unit_price,
        currency=payload.currency,
        reason=payload.reason,
        evidence=[e.value for e in payload.evidence],
        customer_tier=payload.customer_tier.value if payload.customer_tier else None,
        quantity_purchased=payload.quantity_purchased,
        quantity_already_returned=payload.quantity_already_returned,
        quantity_requested=payload.quantity_requested,
    )
    return eligibility_out(result)


@router.get("/returns/policy", response=with_errors({200: PolicyVersionOut}))
def get_return_policy(request: HttpRequest) -> Any:
    """The active policy version (the export). Admins only."""
    return policy_active(current_user(request))


@router.put("/returns/policy", response=with_errors({200: PolicyVersionOut}))
def import_return_policy(request: HttpRequest, payload: PolicyIn) -> Any:
    """Store the document as a new active version (the previous ones are kept). 422 names the
    offending path, e.g. `document.windows[2].scope.sku`. Admins only."""
    return policy_save(user=current_user(request), document=payload.document, comment=payload.comment)


@router.get("/returns/policy/versions", response=with_errors({200: list[PolicyVersionSummaryOut]}))
def list_return_policy_versions(request: HttpRequest) -> Any:
    """Saved versions, newest first. Admins only."""
    return policy_versions(current_user(request))


@router.get("/returns/policy/versions/{number}", response=with_errors({200: PolicyVersionOut}))
def get_return_policy_version(request: HttpRequest, number: int = Path(..., ge=1, le=1_000_000)) -> Any:
    """One saved version. Admins only."""
    return policy_version(current_user(request), number)


@router.get("/returns/rates", response=with_errors({200: list[ExchangeRateOut]}))
def list_exchange_rates(request: HttpRequest) -> Any:
    """The rate table (1 unit of each currency in the policy's reporting currency). Admins only."""
    return rate_list(current_user(request))


@router.put("/returns/rates/{currency}", response=with_errors({200: ExchangeRateOut}))
def set_exchange_rate(
    request: HttpRequest, payload: ExchangeRateIn, currency: str = Path(..., pattern=r"^[A-Z]{3}$")
) -> Any:
    """Create or replace one currency's rate. Admins only."""
    return rate_set(user=current_user(request), currency=currency, rate=payload.rate, as_of=payload.as_of)
