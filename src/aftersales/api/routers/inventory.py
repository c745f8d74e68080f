"""Warehouses, stock and the stock ledger (docs/inventory.md).

Warehouses are read by everyone of the organization and changed by its admins. Stock levels and
movements are read with the view permission. Recording goods received or a count adjustment needs
the process permission (warehouse staff are agents; admins too): every movement is a ledger row with
the person as its actor, and an adjustment can never make available stock negative."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from aftersales.inventory.selectors import movements_view, stock_view, warehouse_view, warehouses_view
from aftersales.inventory.services import stock_record, warehouse_create, warehouse_update

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.inventory import (
    MovementIn,
    MovementOut,
    MovementPageOut,
    StockRowOut,
    WarehouseCreateIn,
    WarehouseOut,
    WarehousePatchIn,
)

router = Router(tags=["inventory"])


@router.get("/warehouses", response=with_errors({200: list[WarehouseOut]}))
def list_warehouses(request: HttpRequest) -> Any:
    """The organization's warehouses and return hubs, by code."""
    return warehouses_view(current_user(request))


@router.post("/warehouses", response=with_errors({201: WarehouseOut}))
def create_warehouse(request: HttpRequest, payload: WarehouseCreateIn) -> Status[Any]:
    """Add a warehouse or return hub. Admins only."""
    return Status(201, warehouse_create(user=current_user(request), values=payload.dict()))


@router.get("/warehouses/{warehouse_id}", response=with_errors({200: WarehouseOut}))
def get_warehouse(request: HttpRequest, warehouse_id: Id) -> Any:
    return warehouse_view(current_user(request), warehouse_id)


@router.patch("/warehouses/{warehouse_id}", response=with_errors({200: WarehouseOut}))
def update_warehouse(request: HttpRequest, warehouse_id: Id, payload: WarehousePatchIn) -> Any:
    """Change the fields sent; `is_active: false` retires it (its ledger stays). Admins only."""
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return warehouse_update(user=current_user(request), warehouse_id=warehouse_id, changes=changes)


class StockQuery(Schema):
    sku: str = Field(..., min_length=1, max_length=80)
    warehouse_id: Id | None = None


@router.get("/inventory/stock", response=with_errors({200: list[StockRowOut]}))
def get_stock(request: HttpRequest, query: Query[StockQuery]) -> Any:
    """A SKU's stock per warehouse: on hand, reserved, available (active warehouses without stock
    show zeros)."""
    rows = stock_view(current_user(request), query.sku, query.warehouse_id)
    return [{**row.__dict__, "available": row.available} for row in rows]


class MovementQuery(Schema):
    sku: str = Field(..., min_length=1, max_length=80)
    warehouse_id: Id | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/inventory/movements", response=with_errors({200: MovementPageOut}))
def list_movements(request: HttpRequest, query: Query[MovementQuery]) -> Any:
    """A SKU's ledger, newest first."""
    return movements_view(
        current_user(request), query.sku, warehouse_id=query.warehouse_id, limit=query.limit, offset=query.offset
    )


@router.post("/inventory/movements", response=with_errors({201: MovementOut}))
def record_movement(request: HttpRequest, payload: MovementIn) -> Status[Any]:
    """Record goods received or a count adjustment (process permission). 422 naming the field for
    an unknown SKU or warehouse or a bad quantity; 409 when an adjustment would make available stock
    negative; the same idempotency key again returns the stored movement."""
    movement = stock_record(
        user=current_user(request),
        warehouse_id=payload.warehouse_id,
        sku=payload.sku,
        kind=payload.kind.value,
        quantity=payload.quantity,
        idempotency_key=payload.idempotency_key,
        note=payload.note,
    )
    return Status(201, movement)
