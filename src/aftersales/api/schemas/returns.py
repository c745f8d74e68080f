"""Return policies and eligibility (issue 10 §1-2)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ninja import Field, Schema

from aftersales.catalog.models import CustomerTier, Platform, ProductCategory

from .common import Id, InputSchema, Instant


class EvidenceKind(StrEnum):
    PHOTOS = "photos"
    VIDEO = "video"
    IMEI = "imei"
    SERIAL_NUMBER = "serial_number"


class EligibilityIn(InputSchema):
    store_id: Id | None = Field(None, description="The store; or give platform and site")
    platform: Platform | None = None
    site: str | None = Field(None, max_length=40, examples=["shopee.br"])
    delivery_country: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="ISO 3166 alpha-2")
    delivered_at: Instant
    requested_at: Instant
    sku: str | None = Field(None, max_length=80, description="A SKU of the catalog; or give category")
    category: ProductCategory | None = None
    unit_price: Decimal = Field(..., description="Decimal string, 0 to 1000000000, at most 2 decimal places")
    currency: str = Field(..., max_length=3, examples=["EUR"])
    reason: str = Field(..., max_length=64, description="A reason code of the active policy")
    evidence: list[EvidenceKind] = Field(default_factory=list, max_length=4)
    customer_tier: CustomerTier | None = None
    quantity_purchased: int = Field(..., ge=1, le=100_000)
    quantity_already_returned: int = Field(0, ge=0, le=100_000)
    quantity_requested: int = Field(..., ge=1, le=100_000)


class RateOut(Schema):
    currency: str
    rate: str
    as_of: date | None


class EligibilityOut(Schema):
    eligible: bool
    resolution: str = Field(
        ...,
        description="return_and_refund, returnless_refund, partial_refund_offer, exchange, repair, reject, "
        "needs_evidence",
    )
    rejection: str | None = Field(None, description="window_expired, quantity or reason_not_accepted")
    restocking_fee_percent: str
    partial_refund_percent: str | None
    missing_evidence: list[str]
    return_shipping_paid_by: str | None
    last_day: date = Field(..., description="The window's last local day (in time until its end)")
    timezone: str
    days_since_delivery: int
    value_tier: str
    unit_price_reporting: str
    reporting_currency: str
    rate: RateOut
    clauses: list[str]
    policy_version: int = Field(..., description="0 = the built-in default policy")


def eligibility_out(result: Any) -> dict[str, Any]:
    d = result.decision
    return {
        "eligible": d.eligible,
        "resolution": d.resolution,
        "rejection": d.rejection,
        "restocking_fee_percent": str(d.restocking_fee_percent),
        "partial_refund_percent": str(d.partial_refund_percent) if d.partial_refund_percent is not None else None,
        "missing_evidence": list(d.missing_evidence),
        "return_shipping_paid_by": d.return_shipping_paid_by,
        "last_day": d.last_day,
        "timezone": d.timezone,
        "days_since_delivery": d.days_since_delivery,
        "value_tier": d.value_tier,
        "unit_price_reporting": str(d.unit_price_reporting),
        "reporting_currency": d.reporting_currency,
        "rate": {"currency": d.rate.currency, "rate": str(d.rate.rate), "as_of": d.rate.as_of},
        "clauses": list(d.clauses),
        "policy_version": result.policy_version,
    }


class PolicyIn(InputSchema):
    document: dict[str, Any] = Field(..., description="The policy document (docs/returns-policy.md)")
    comment: str = Field("", max_length=200)


class PolicyVersionOut(Schema):
    number: int = Field(..., description="0 = the built-in default (never saved)")
    is_active: bool
    comment: str
    created_at: datetime | None
    created_by: str | None
    document: dict[str, Any]


class PolicyVersionSummaryOut(Schema):
    number: int
    is_active: bool
    comment: str
    created_at: datetime | None
    created_by: str | None


class ExchangeRateIn(InputSchema):
    rate: Decimal = Field(..., description="1 unit of the currency in the reporting currency; at most 8 places")
    as_of: date | None = None


class ExchangeRateOut(Schema):
    currency: str
    rate: str
    as_of: date

    @staticmethod
    def resolve_rate(obj: Any) -> str:
        return format(obj.rate.normalize(), "f")
