"""Mark the ticket's order shipped on its marketplace with a carrier and a tracking number (PROCESS,
the ticket's scope; stores whose connector has `mark_shipped`). The same service as the agent UI."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.channels.shipping import shipment_syncs, ticket_order_mark_shipped

from ..auth import current_user
from ..schemas.common import with_errors
from ..schemas.shipments import MarkedShipmentOut, MarkShippedIn

router = Router(tags=["shipments"])


@router.post("/tickets/{ticket_id}/shipments", response=with_errors({201: MarkedShipmentOut}))
def mark_shipped(request: HttpRequest, ticket_id: int, payload: MarkShippedIn) -> Status[Any]:
    """Record the shipment on the ticket's order and tell the marketplace (after the commit, at most
    once: the same tracking number again answers the same shipment). 422 names the field: `carrier`,
    `tracking_number`, or `order` (no order, or a store whose connector cannot mark shipped). 404
    for a ticket outside your sight."""
    shipment = ticket_order_mark_shipped(
        user=current_user(request),
        ticket_id=ticket_id,
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
    )
    sync = shipment_syncs([shipment]).get(shipment.pk)
    return Status(
        201,
        {
            "id": shipment.pk,
            "order_id": shipment.order_id,
            "carrier": shipment.carrier,
            "tracking_number": shipment.tracking_number,
            "status": shipment.status,
            "shipped_at": shipment.shipped_at,
            "marketplace": None if sync is None else {"status": sync.status, "detail": sync.detail},
        },
    )
