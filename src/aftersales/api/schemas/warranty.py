"""Warranty and repair: sold units, warranty terms, claims, repair orders."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from ninja import Field, Schema

from aftersales.catalog.models import CustomerTier, ProductCategory
from aftersales.warranty.models import ClaimResolution
from aftersales.warranty.selectors import ClaimView, RepairView, UnitWarranty
from aftersales.warranty.services import UnitInput
from aftersales.warranty.workflow import ClaimStatus, RepairStatus

from .common import Id, InputSchema, Instant

ClaimStatusName = StrEnum("ClaimStatusName", {s.upper(): s for s in ClaimStatus.values})  # type: ignore[misc]
RepairStatusName = StrEnum("RepairStatusName", {s.upper(): s for s in RepairStatus.values})  # type: ignore[misc]
ResolutionName = StrEnum("ResolutionName", {s.upper(): s for s in ClaimResolution.values})  # type: ignore[misc]
CategoryName = StrEnum("CategoryName", {s.upper(): s for s in ProductCategory.values})  # type: ignore[misc]
TierName = StrEnum("TierName", {s.upper(): s for s in CustomerTier.values})  # type: ignore[misc]


class UnitIn(InputSchema):
    """One unit. Give `order_line_id` (the SKU, sale and delivery dates, country and customer come
    from the order) or `sku` with `sold_at`. A serial number, an IMEI, or both."""

    sku: str = Field("", max_length=80)
    serial_number: str = Field("", max_length=100, description="Stored upper-case without spaces or dashes")
    imei: str = Field("", max_length=40, description="15 digits with its Luhn check digit; separators allowed")
    order_line_id: Id | None = None
    sold_at: Instant | None = None
    delivered_at: Instant | None = None
    delivery_country: str = Field("", max_length=2, description="ISO 3166 code; default: the order's")

    def to_input(self) -> UnitInput:
        return UnitInput(
            sku=self.sku,
            serial_number=self.serial_number,
            imei=self.imei,
            order_line_id=self.order_line_id,
            sold_at=self.sold_at,
            delivered_at=self.delivered_at,
            delivery_country=self.delivery_country,
        )


class UnitsImportIn(InputSchema):
    units: list[UnitIn] = Field(..., description="At most 1000; all or nothing; errors name `units[i].field`")


class UnitOut(Schema):
    id: int
    sku: str
    product_title: str
    category: str
    serial_number: str
    imei: str
    order_id: int | None
    order_number: str | None
    order_line_id: int | None
    customer_id: int | None
    sold_at: datetime
    delivered_at: datetime | None
    delivery_country: str
    warranty_ends_on: date | None


def unit_out(unit: Any) -> dict[str, Any]:
    return {
        "id": unit.pk,
        "sku": unit.product.sku,
        "product_title": unit.product.title,
        "category": unit.product.category,
        "serial_number": unit.serial_number,
        "imei": unit.imei,
        "order_id": unit.order_id,
        "order_number": unit.order.external_id if unit.order_id else None,
        "order_line_id": unit.order_line_id,
        "customer_id": unit.customer_id,
        "sold_at": unit.sold_at,
        "delivered_at": unit.delivered_at,
        "delivery_country": str(unit.delivery_country or ""),
        "warranty_ends_on": unit.warranty_ends_on,
    }


class AppliedTermOut(Schema):
    months: int
    source: str = Field(..., description="term: a warranty term of the organization; product: the product's months")
    term_id: int | None
    category: str
    region: str
    customer_tier: str


class WarrantyStatusOut(Schema):
    in_warranty: bool
    starts_on: date = Field(..., description="Local date of delivery (or sale) in the store's time zone")
    ends_on: date = Field(..., description="The last covered local day")
    checked_on: date
    days_left: int
    days_expired: int


class ClaimSummaryOut(Schema):
    id: int
    status: str
    problem: str
    claimed_at: datetime
    in_warranty: bool


class UnitWarrantyOut(Schema):
    unit: UnitOut
    term: AppliedTermOut
    warranty: WarrantyStatusOut
    claims: list[ClaimSummaryOut]


def unit_warranty_out(view: UnitWarranty) -> dict[str, Any]:
    s = view.status
    return {
        "unit": unit_out(view.unit),
        "term": {
            "months": view.term.months,
            "source": view.term.source,
            "term_id": view.term.term_id,
            "category": view.term.category,
            "region": view.term.region,
            "customer_tier": view.term.customer_tier,
        },
        "warranty": {
            "in_warranty": s.in_warranty,
            "starts_on": s.starts_on,
            "ends_on": s.ends_on,
            "checked_on": s.claim_on,
            "days_left": s.days_left,
            "days_expired": s.days_expired,
        },
        "claims": [claim_summary(c) for c in view.claims],
    }


def claim_summary(claim: Any) -> dict[str, Any]:
    return {
        "id": claim.pk,
        "status": claim.status,
        "problem": claim.problem,
        "claimed_at": claim.claimed_at,
        "in_warranty": claim.in_warranty,
    }


class TermIn(InputSchema):
    category: CategoryName | None = Field(None, description="Blank: any category")
    region: str = Field("", max_length=8, description="A country code (DE), a group (EU), or blank: any")
    customer_tier: TierName | None = Field(None, description="Blank: any tier")
    months: int = Field(..., ge=1, le=120)
    note: str = Field("", max_length=200)


class TermOut(Schema):
    id: int
    category: str
    region: str
    customer_tier: str
    months: int
    note: str


class SettingsIn(InputSchema):
    reminders_enabled: bool
    reminder_days_before: int = Field(..., ge=1, le=365)
    reminder_template_id: Id | None = Field(None, description="A reply template rendered in the buyer's language")


class SettingsOut(Schema):
    reminders_enabled: bool
    reminder_days_before: int
    reminder_template_id: int | None


class ClaimIn(InputSchema):
    unit_id: Id
    problem: str = Field(..., max_length=4000)
    ticket_id: Id | None = None
    claimed_at: Instant | None = Field(None, description="Default: now")
    override_reason: str = Field(
        "", max_length=1000, description="Out of warranty: accepted only from an approver with a reason"
    )


class ClaimStatusIn(InputSchema):
    status: ClaimStatusName
    reason: str = Field("", max_length=1000, description="Required to reject or cancel")


class ResolveIn(InputSchema):
    resolution: ResolutionName
    note: str = Field("", max_length=1000)


class WarrantyEventOut(Schema):
    type: str
    payload: dict[str, Any]
    actor_kind: str
    actor_ref: str
    actor_name: str | None
    at: datetime


def event_out(event: Any) -> dict[str, Any]:
    return {
        "type": event.type,
        "payload": event.payload,
        "actor_kind": event.actor_kind,
        "actor_ref": event.actor_ref,
        "actor_name": str(event.actor) if event.actor_id else None,
        "at": event.at,
    }


class RepairOut(Schema):
    id: int
    claim_id: int
    status: str
    diagnosis: str
    return_carrier: str
    return_tracking_number: str
    created_at: datetime
    events: list[WarrantyEventOut]


def repair_out(view: RepairView) -> dict[str, Any]:
    r = view.repair
    return {
        "id": r.pk,
        "claim_id": r.claim_id,
        "status": r.status,
        "diagnosis": r.diagnosis,
        "return_carrier": r.return_carrier,
        "return_tracking_number": r.return_tracking_number,
        "created_at": r.created_at,
        "events": [event_out(e) for e in view.events],
    }


class ClaimOut(Schema):
    id: int
    status: str
    unit_id: int
    customer_id: int | None
    order_id: int | None
    ticket_id: int | None
    problem: str
    claimed_at: datetime
    in_warranty: bool
    warranty_ends_on: date
    days_left: int = Field(..., description="At opening; negative: days past the end (an override)")
    term_months: int
    override_reason: str
    resolution: str
    events: list[WarrantyEventOut]
    repair_orders: list[RepairOut]
    replacement: ReplacementOut | None = None


class ReplacementOut(Schema):
    id: int
    sku: str
    quantity: int
    warehouse_id: int | None
    reserved_at: datetime | None
    out_of_stock_at: datetime | None
    stock_note: str = Field(..., description="The shortage when out of stock (offer a refund or retry)")
    fulfilled_at: datetime | None = Field(..., description="When the replacement shipped")
    carrier: str
    tracking_number: str


class ReplacementShipIn(InputSchema):
    carrier: str = Field("", max_length=80)
    tracking_number: str = Field("", max_length=80)


def replacement_out(replacement: Any) -> dict[str, Any] | None:
    if replacement is None:
        return None
    return {
        "id": replacement.pk,
        "sku": replacement.product.sku,
        "quantity": replacement.quantity,
        "warehouse_id": replacement.warehouse_id,
        "reserved_at": replacement.reserved_at,
        "out_of_stock_at": replacement.out_of_stock_at,
        "stock_note": replacement.stock_note,
        "fulfilled_at": replacement.fulfilled_at,
        "carrier": replacement.carrier,
        "tracking_number": replacement.tracking_number,
    }


def claim_out(view: ClaimView) -> dict[str, Any]:
    c = view.claim
    return {
        "id": c.pk,
        "status": c.status,
        "unit_id": c.unit_id,
        "customer_id": c.customer_id,
        "order_id": c.order_id,
        "ticket_id": c.ticket_id,
        "problem": c.problem,
        "claimed_at": c.claimed_at,
        "in_warranty": c.in_warranty,
        "warranty_ends_on": c.warranty_ends_on,
        "days_left": c.days_left,
        "term_months": c.term_months,
        "override_reason": c.override_reason,
        "resolution": c.resolution,
        "events": [event_out(e) for e in view.events],
        "repair_orders": [repair_out(r) for r in view.repairs],
        "replacement": replacement_out(view.replacement),
    }


class RepairStatusIn(InputSchema):
    status: RepairStatusName
    reason: str = Field("", max_length=1000, description="Required to cancel")
    diagnosis: str | None = Field(None, max_length=4000)
    carrier: str = Field("", max_length=80)
    tracking_number: str = Field("", max_length=80, description="Required when shipped back")


class OrderLineUnitsIn(InputSchema):
    order_line_id: int
    identifiers: list[str] = Field(
        ..., max_length=1000, description="IMEIs (14-16 digits, Luhn-checked) or serial numbers of the line's units"
    )


class OrderUnitsIn(InputSchema):
    lines: list[OrderLineUnitsIn] = Field(..., min_length=1, max_length=200)


class UnitsCsvRowOut(Schema):
    """One data row of a shipped-units CSV (row: the spreadsheet row, the header is row 1)."""

    row: int
    order_number: str
    order_id: int
    store_id: int = Field(description="the order's store (the row's `store` column when given)")
    store_name: str
    order_line_id: int
    sku: str
    kind: str = Field(description="imei | serial_number")
    value: str
    already_registered: bool


class UnitsCsvImportOut(Schema):
    committed: bool = Field(description="false: a preview, nothing was written")
    registered: int = Field(description="units written now")
    skipped: int = Field(description="rows whose unit is already registered on the same line")
    to_register: int
    rows: list[UnitsCsvRowOut]


def units_csv_out(result: Any) -> dict[str, Any]:
    return {
        "committed": result.committed,
        "registered": result.registered,
        "skipped": result.skipped,
        "to_register": result.to_register,
        "rows": [
            {
                "row": r.row,
                "order_number": r.order_number,
                "order_id": r.order_id,
                "store_id": r.store_id,
                "store_name": r.store_name,
                "order_line_id": r.line_id,
                "sku": r.sku,
                "kind": r.kind,
                "value": r.value,
                "already_registered": r.already_registered,
            }
            for r in result.rows
        ],
    }
