"""Warehouses, stock per warehouse, the stock ledger, and exchanges."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from ninja import Field, Schema

from .common import Id, InputSchema

COUNTRIES_DOC = "ISO 3166 country codes the warehouse takes returns from; empty: anywhere"


class WarehouseOut(Schema):
    id: int
    code: str
    name: str
    is_return_hub: bool
    is_active: bool
    serves_countries: list[str] = Field(..., description=COUNTRIES_DOC)
    contact_name: str
    address_line1: str
    address_line2: str
    city: str
    region: str
    postal_code: str
    country: str
    phone: str


class WarehouseCreateIn(InputSchema):
    code: str = Field(..., min_length=1, max_length=20, description="Short code, unique in the organization")
    name: str = Field(..., min_length=1, max_length=120)
    is_return_hub: bool = False
    is_active: bool = True
    serves_countries: list[str] = Field(default_factory=list, max_length=250, description=COUNTRIES_DOC)
    contact_name: str = Field("", max_length=120)
    address_line1: str = Field("", max_length=200)
    address_line2: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    region: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=20)
    country: str = Field("", max_length=2, description="ISO 3166 code")
    phone: str = Field("", max_length=40)


class WarehousePatchIn(InputSchema):
    """The fields sent are changed; `is_active: false` retires the warehouse (its ledger stays)."""

    code: str | None = Field(None, min_length=1, max_length=20)
    name: str | None = Field(None, min_length=1, max_length=120)
    is_return_hub: bool | None = None
    is_active: bool | None = None
    serves_countries: list[str] | None = Field(None, max_length=250, description=COUNTRIES_DOC)
    contact_name: str | None = Field(None, max_length=120)
    address_line1: str | None = Field(None, max_length=200)
    address_line2: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=20)
    country: str | None = Field(None, max_length=2)
    phone: str | None = Field(None, max_length=40)


class StockRowOut(Schema):
    warehouse_id: int
    warehouse_code: str
    warehouse_name: str
    is_return_hub: bool
    is_active: bool
    sku: str
    on_hand: int
    reserved: int
    available: int = Field(..., description="on hand - reserved; never negative")


class MovementOut(Schema):
    id: int
    warehouse_id: int
    sku: str
    kind: str
    on_hand_delta: int
    reserved_delta: int
    reference: str
    idempotency_key: str
    note: str
    actor_kind: str
    actor_ref: str
    at: datetime


class MovementPageOut(Schema):
    items: list[MovementOut]
    total: int
    limit: int
    offset: int


class ManualKind(StrEnum):
    RECEIVE = "receive"
    ADJUST = "adjust"


class MovementIn(InputSchema):
    """Goods received (quantity > 0) or a count adjustment (quantity may be negative, never 0).
    The same `idempotency_key` again returns the stored movement and changes nothing."""

    warehouse_id: Id
    sku: str = Field(..., min_length=1, max_length=80)
    kind: ManualKind
    quantity: int = Field(..., ge=-1_000_000, le=1_000_000)
    idempotency_key: str = Field(..., min_length=1, max_length=120)
    note: str = Field("", max_length=200)


class ExchangeLineIn(InputSchema):
    sku: str = Field(..., min_length=1, max_length=80, description="The replacement's SKU (a product of yours)")
    quantity: int = Field(..., gt=0, le=10_000, description="At most what the RMA returns of the replaced line")
    replaces_order_line_id: Id


class ExchangeCreateIn(InputSchema):
    lines: list[ExchangeLineIn] = Field(..., min_length=1, max_length=50)
    warehouse_id: Id | None = Field(None, description="Reserve from this warehouse; default: the first with stock")


class ExchangeShipIn(InputSchema):
    tracking_number: str = Field("", max_length=80)
    carrier: str = Field("", max_length=80)


class ExchangeCancelIn(InputSchema):
    reason: str = Field("", max_length=500)


class ExchangeLineOut(Schema):
    sku: str
    quantity: int
    replaces_order_line_id: int


class ShortageOut(Schema):
    sku: str
    requested: int
    available: int


class ExchangeOut(Schema):
    id: int
    rma_id: int
    status: str
    warehouse_id: int | None
    replacement_order_id: int | None
    lines: list[ExchangeLineOut]
    idempotency_key: str


class ExchangeResultOut(Schema):
    exchange: ExchangeOut
    created: bool = Field(..., description="false: the RMA's open exchange, returned unchanged")
    out_of_stock: bool = Field(..., description="true: nothing reserved; offer the customer a refund instead")
    shortages: list[ShortageOut]
    message: str
