"""RMAs (issue 10 sections 3 and 8): open one, its page (GET), the actions on it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from .common import Id, InputSchema


class RmaLineIn(InputSchema):
    order_line_id: Id
    quantity: int = Field(..., ge=1, le=100_000)
    reason: str = Field("", max_length=60, description="The line's reason code when it differs from the RMA's")
    sku: str | None = Field(None, max_length=80, description="Checked against the order line's SKU when given")


class EvidenceRefIn(InputSchema):
    kind: str = Field(..., max_length=16, description="photo, video (attachment_id), imei, serial_number (value)")
    value: str = Field("", max_length=80)
    attachment_id: Id | None = Field(None, description="A photo or video the buyer sent on the ticket")


class RmaIn(InputSchema):
    order_id: Id
    lines: list[RmaLineIn] = Field(..., min_length=1, max_length=200)
    reason: str = Field(..., max_length=60, description="A reason code of the return policy", examples=["defective"])
    comment: str = Field("", max_length=4000)
    evidence: list[EvidenceRefIn] = Field(default_factory=list, max_length=50)
    ticket_id: Id | None = None


class ApproveIn(InputSchema):
    resolution: str | None = Field(
        None, max_length=20, description="return_and_refund, returnless_refund, exchange, repair (default: proposed)"
    )
    warehouse_id: Id | None = Field(None, description="Default: the return hub serving the buyer's country")


class RejectIn(InputSchema):
    reason: str = Field(..., max_length=1000, description="Told to the buyer")


class EvidenceRequestIn(InputSchema):
    kinds: list[str] = Field(..., min_length=1, max_length=4, description="photo, video, imei, serial_number")
    message: str = Field("", max_length=2000)


class EvidenceIn(InputSchema):
    """JSON for an IMEI or serial number; photos and videos as multipart/form-data (file, kind, line_id)."""

    kind: str = Field(..., max_length=16)
    value: str = Field("", max_length=80)
    line_id: Id | None = None


class OfferIn(InputSchema):
    amount: str | None = Field(None, max_length=32, description="Decimal string in the lines' currency")
    percent: str | None = Field(None, max_length=8, description="Percent of the lines' value (else the policy's)")
    message: str = Field("", max_length=2000)


class NoteIn(InputSchema):
    note: str = Field("", max_length=1000)


class LabelIn(InputSchema):
    """JSON for a carrier label or the marketplace's; an uploaded label as multipart/form-data (file)."""

    source: str = Field(..., max_length=10, description="uploaded, carrier, platform")
    carrier: str = Field("", max_length=80)
    tracking_number: str = Field("", max_length=80)


class TransitIn(InputSchema):
    carrier: str = Field("", max_length=80)
    tracking_number: str = Field("", max_length=80)


class ReceiveIn(InputSchema):
    warehouse_id: Id | None = None
    note: str = Field("", max_length=1000)


class InspectLineIn(InputSchema):
    line_id: Id
    checklist: dict[str, bool] = Field(default_factory=dict, description="item code: passed (returns.qc)")
    imei: str = Field("", max_length=20)
    serial_number: str = Field("", max_length=80)
    disposition: str | None = Field(None, max_length=12, description="restock, refurbish, write_off")
    note: str = Field("", max_length=500)


class InspectIn(InputSchema):
    lines: list[InspectLineIn] = Field(..., min_length=1, max_length=200)


class ResolveIn(InputSchema):
    outcome: str = Field(..., max_length=24, description="refunded, exchanged, repaired, returned_to_customer")
    note: str = Field("", max_length=1000)


class CancelIn(InputSchema):
    reason: str = Field("", max_length=1000)


class RmaLineOut(Schema):
    id: int
    order_line_id: int
    sku: str
    quantity: int
    unit_price: str
    currency: str
    reason: str
    serial_number: str
    imei: str
    inspection_result: str
    qc_checklist: list[dict[str, Any]]
    disposition: str


class EvidenceOut(Schema):
    id: int
    kind: str
    value: str
    line_id: int | None
    attachment_id: int | None
    has_file: bool
    actor_kind: str
    actor_ref: str
    at: datetime


class RmaEventOut(Schema):
    id: int
    type: str
    payload: dict[str, Any]
    actor_kind: str
    actor_ref: str
    actor_name: str
    at: datetime


class RmaRefundOut(Schema):
    id: int
    kind: str
    status: str
    amount: str
    currency: str
    created_at: datetime


class WarehouseRefOut(Schema):
    id: int
    code: str
    name: str
    address: str


class RmaOut(Schema):
    id: int
    number: str
    status: str
    status_label: str
    resolution: str
    outcome: str
    inspection_result: str
    reason: str
    buyer_comment: str
    buyer_language: str
    delivery_country: str
    store_id: int
    order_id: int
    order_number: str
    customer_id: int | None
    ticket_id: int | None
    return_request_id: int | None
    requested_at: datetime
    decision: dict[str, Any]
    policy_version: int | None
    discrepancies: list[dict[str, Any]]
    restocking_fee_percent: str
    return_shipping_paid_by: str
    return_warehouse: WarehouseRefOut | None
    label_source: str
    label_carrier: str
    label_tracking_number: str
    label_has_file: bool
    label_issued_at: datetime | None
    received_at: datetime | None
    resolved_at: datetime | None
    platform_sync: str
    platform_sync_detail: str
    lines: list[RmaLineOut]
    evidence: list[EvidenceOut]
    events: list[RmaEventOut]
    refunds: list[RmaRefundOut]
    actions: list[str]
    created_at: datetime
