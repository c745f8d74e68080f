"""Marking a ticket's order shipped on its marketplace (channels.shipping)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from .common import InputSchema


class MarkShippedIn(InputSchema):
    carrier: str = Field(
        ..., max_length=80, description="The carrier as the marketplace names it (TikTok Shop: a shipping provider)"
    )
    tracking_number: str = Field(..., max_length=80, description="The parcel's tracking number (no spaces)")


class MarketplaceSyncOut(Schema):
    status: str = Field(..., description="pending, sending, succeeded, failed, unknown (the write-back ledger)")
    detail: str


class MarkedShipmentOut(Schema):
    id: int
    order_id: int
    carrier: str
    tracking_number: str
    status: str
    shipped_at: datetime | None
    marketplace: MarketplaceSyncOut | None = Field(
        None, description="Where telling the marketplace stands (null: not started yet)"
    )
