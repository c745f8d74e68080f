"""Exchanges of RMAs: reserve stock and create the replacement order, ship it, or cancel
(returns/exchanges.py; process permission, RMAs the user can see). Out of stock is not an error: the
exchange is recorded as out_of_stock and the answer tells the agent to offer a refund instead."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.returns.exchanges import ExchangeResult, exchange_cancel, exchange_create, exchange_ship

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.inventory import ExchangeCancelIn, ExchangeCreateIn, ExchangeOut, ExchangeResultOut, ExchangeShipIn

router = Router(tags=["exchanges"])


def _result(result: ExchangeResult) -> dict[str, Any]:
    return {
        "exchange": result.exchange,
        "created": result.created,
        "out_of_stock": result.out_of_stock,
        "shortages": [s.__dict__ for s in result.shortages],
        "message": result.message,
    }


@router.post("/rmas/{rma_id}/exchange", response=with_errors({200: ExchangeResultOut, 201: ExchangeResultOut}))
def create_exchange(request: HttpRequest, rma_id: Id, payload: ExchangeCreateIn) -> Status[Any]:
    """Reserve the replacement stock and create the replacement order (201), or record the exchange as
    out of stock (201, `out_of_stock: true`: offer a refund). The RMA's open exchange again: 200,
    unchanged. 422 naming the field: unknown SKU, a line the RMA does not return, more than it returns,
    unknown warehouse; 409: the RMA is not approved for an exchange."""
    result = exchange_create(
        user=current_user(request),
        rma_id=rma_id,
        lines=[line.dict() for line in payload.lines],
        warehouse_id=payload.warehouse_id,
    )
    return Status(201 if result.created else 200, _result(result))


@router.post("/exchanges/{exchange_id}/ship", response=with_errors({200: ExchangeOut}))
def ship_exchange(request: HttpRequest, exchange_id: Id, payload: ExchangeShipIn) -> Any:
    """The replacement left the warehouse: the reservation becomes a shipment (409 unless reserved)."""
    return exchange_ship(
        user=current_user(request),
        exchange_id=exchange_id,
        tracking_number=payload.tracking_number,
        carrier=payload.carrier,
    )


@router.post("/exchanges/{exchange_id}/cancel", response=with_errors({200: ExchangeOut}))
def cancel_exchange(request: HttpRequest, exchange_id: Id, payload: ExchangeCancelIn) -> Any:
    """Cancel an exchange that has not shipped; its reservation is released (409 once shipped)."""
    return exchange_cancel(user=current_user(request), exchange_id=exchange_id, reason=payload.reason)
