"""Parcel tracking: the organization's tracking-provider account (17TRACK)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from ninja import Field, Schema

from .common import InputSchema


class TrackingProviderName(StrEnum):
    SEVENTEENTRACK = "17track"


class TrackingProblemOut(Schema):
    kind: str = Field(..., description="shipment: a number refused or unreadable; push: a push kept unprocessed")
    tracking_number: str
    order_number: str
    detail: str = Field(..., description="The provider's code and words, or why we could not read it")
    at: datetime | None


class TrackingAccountOut(Schema):
    provider: str
    provider_label: str
    configured: bool = Field(..., description="Whether the account was ever saved")
    is_active: bool
    api_key_set: bool = Field(..., description="Whether an API key is stored (it is never returned)")
    poll_interval_hours: int
    push_path: str = Field(
        ..., description="Path of the push (webhook) address to give the provider; empty until saved"
    )
    last_checked_at: datetime | None
    last_check_ok: bool | None
    last_check_detail: str
    last_error: str = Field(
        ..., description="The provider's last error (e.g. a revoked key), empty when the last call worked"
    )
    shipments_followed: int
    shipments_registered: int
    shipments_with_errors: int
    problems: list[TrackingProblemOut] = Field(
        ..., description="The latest refusals and unreadable pushes (at most 20)"
    )


class TrackingAccountIn(InputSchema):
    """Fields left out are kept."""

    api_key: str | None = Field(
        None,
        max_length=200,
        description="Write-only: stored encrypted, never returned. A value replaces the stored key.",
        json_schema_extra={"writeOnly": True},
    )
    clear_api_key: bool = Field(False, description="Remove the stored key")
    is_active: bool | None = None
    poll_interval_hours: int | None = Field(None, ge=1, le=168, description="How often each parcel is checked")


class ConnectionCheckOut(Schema):
    ok: bool
    detail: str = Field(..., description="What the provider answered (e.g. the quota left)")
