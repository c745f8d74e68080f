"""Domain events of parcel tracking (published after commit; see docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.core.actors import Actor


@dataclass(frozen=True)
class ShipmentStatusChanged:
    """A tracking provider reported a new status for a shipment (catalog.ShipmentStatus values).
    `at` is the time of the carrier's event that carried it (None when the provider gave none);
    the actor is the connector (kind "connector", id = the shipment's store, label = the provider)."""

    shipment_id: int
    order_id: int
    organization_id: int
    tracking_number: str
    old_status: str
    new_status: str
    at: datetime | None
    actor: Actor


@dataclass(frozen=True)
class TrackingRegistrationRejected:
    """The provider refused to follow a shipment's number (invalid number, carrier not detected...):
    `code` and `reason` are the provider's. The actor is the connector, as above."""

    shipment_id: int
    organization_id: int
    tracking_number: str
    code: str
    reason: str
    actor: Actor
