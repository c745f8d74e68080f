"""Schemas of the organization's marketplace apps (channels/marketplace_apps.py). Secrets are never
returned: a set secret shows `is_set` and a `fingerprint` (first 8 hex digits of its SHA-256)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from .common import InputSchema


class MarketplaceAppFieldOut(Schema):
    name: str
    label: str
    secret: bool
    required: bool
    is_set: bool
    value: Any = Field(None, description="A non-secret field's value; always null for a secret")
    fingerprint: str = Field("", description="A set secret's fingerprint: sha256(secret) hex, first 8 digits")


class MarketplaceAppOut(Schema):
    platform: str = Field(..., description="shopify, ebay, amazon, shopee, tiktok, aliexpress, wish or meta")
    label: str
    store_platforms: list[str] = Field(..., description="The store platforms that connect through this app")
    configured: bool
    environment: str = Field(..., description="production or sandbox")
    fields: list[MarketplaceAppFieldOut]
    previous_secret_kept: bool = Field(..., description="Shopify: the rotated-out client secret still verifies")
    redirect_uri: str = Field(..., description="Register it as the app's redirect URL (empty: no consent flow)")
    stores_using: int = Field(..., description="The organization's stores that read this app's keys")
    updated_at: datetime | None
    rotated_at: datetime | None


class MarketplaceAppsOut(Schema):
    apps: list[MarketplaceAppOut]


class MarketplaceAppIn(InputSchema):
    """The app's keys. A secret left out or empty keeps the stored one (a new value rotates it);
    any other key left out is removed."""

    environment: str = Field("production", description="production or sandbox")
    credentials: dict[str, Any] = Field(..., description='{key: value}, e.g. {"client_id": ..., "client_secret": ...}')
    drop_previous_secret: bool = Field(False, description="Shopify: stop accepting the rotated-out client secret")
