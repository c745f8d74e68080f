"""Refunds (issue 10 section 4): request, decide, execute, review queue."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from ninja import Field, Schema

from .common import Id, InputSchema, MoneyOut, UserRef, money

AMOUNT_DOC = "Decimal string (never a number), positive, with at most the currency's decimal places (JPY 0, EUR 2)"


class RefundKindIn(StrEnum):
    FULL = "full"
    PARTIAL = "partial"
    SHIPPING = "shipping"


class RefundLineIn(InputSchema):
    order_line_id: Id
    amount: str = Field(..., max_length=32, description=AMOUNT_DOC, examples=["12.50"])
    quantity: int = Field(0, ge=0, le=100_000, description="Units refunded (0: an amount only)")


class RefundIn(InputSchema):
    order_id: Id
    kind: RefundKindIn = Field(
        ..., description="full (what is left of the order or the RMA's lines), partial, shipping"
    )
    currency: str = Field(..., max_length=3, description="The order's currency", examples=["USD"])
    amount: str | None = Field(
        None, max_length=32, description=AMOUNT_DOC + "; required for partial and shipping", examples=["25.00"]
    )
    lines: list[RefundLineIn] | None = Field(
        None, max_length=500, description="Partial refunds: the amount per order line (else spread over the lines)"
    )
    rma_id: Id | None = None
    ticket_id: Id | None = None
    reason: str = Field("", max_length=200)
    idempotency_key: str | None = Field(
        None,
        min_length=1,
        max_length=120,
        description="The same key answers the refund it made (default for an RMA: rma:<id>:refund)",
    )


class ApproveIn(InputSchema):
    note: str = Field("", max_length=2000)


class RejectIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=2000)


class CancelIn(InputSchema):
    reason: str = Field("", max_length=2000)


class MarkDoneIn(InputSchema):
    platform_refund_id: str = Field(..., min_length=1, max_length=200, description="The marketplace's refund id")
    note: str = Field("", max_length=2000)


class ReviewAccountOut(Schema):
    id: int
    name: str
    email: str


class ReviewReasonOut(Schema):
    code: str = Field(
        ...,
        description="amount_above_paid, repeat_returner, unit_mismatch, high_value_without_evidence or shared_address",
    )
    message: str
    accounts: list[ReviewAccountOut] = Field(
        default_factory=list, description="shared_address: the other customer accounts with orders to the address"
    )


class RefundLineOut(Schema):
    order_line_id: int
    sku: str
    quantity: int
    amount: MoneyOut


class RefundEventOut(Schema):
    type: str
    payload: dict[str, Any]
    actor_kind: str
    actor_ref: str
    actor_user: UserRef | None
    at: datetime


class RefundOut(Schema):
    id: int
    status: str
    kind: str
    amount: MoneyOut
    order_id: int
    order_external_id: str
    rma_id: int | None
    ticket_id: int | None
    reason: str
    idempotency_key: str
    review_reasons: list[ReviewReasonOut]
    requested_by: UserRef | None
    approved_by: UserRef | None
    approved_at: datetime | None
    platform_refund_id: str
    platform_detail: str
    executed_at: datetime | None
    reconciled_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_amount(obj: Any) -> dict[str, str]:
        return money(obj.amount, obj.currency)

    @staticmethod
    def resolve_order_external_id(obj: Any) -> str:
        return str(obj.order.external_id)


class RefundFullOut(RefundOut):
    lines: list[RefundLineOut]
    events: list[RefundEventOut]

    @staticmethod
    def resolve_lines(obj: Any) -> list[dict[str, Any]]:
        return [
            {
                "order_line_id": line.order_line_id,
                "sku": line.order_line.sku,
                "quantity": line.quantity,
                "amount": money(line.amount, obj.currency),
            }
            for line in obj.lines.all()
        ]

    @staticmethod
    def resolve_events(obj: Any) -> list[Any]:
        return list(obj.events.all())


class ReviewSettingsIn(InputSchema):
    repeat_window_days: int = Field(..., ge=1, le=3650, description="Look-back of the repeat-returner check")
    repeat_threshold: int = Field(
        ..., ge=0, le=1000, description="Earlier RMAs + refunds in the window that make a repeat returner (0: off)"
    )
    high_value_requires_evidence: bool = Field(..., description="High-value refunds need evidence on their RMA")
    shared_address_window_days: int | None = Field(
        None,
        ge=0,
        le=3650,
        description="Look-back of the several-accounts-to-one-address check (0: off; not given: unchanged)",
    )


class ReviewSettingsOut(Schema):
    repeat_window_days: int
    repeat_threshold: int
    high_value_requires_evidence: bool
    shared_address_window_days: int
