"""Stores (marketplace accounts and mailboxes) and the organization's category labels."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from aftersales.catalog.models import Platform
from aftersales.inbox.workflow import TicketCategory

from .common import InputSchema


class StoreOut(Schema):
    id: int
    name: str
    platform: str
    platform_label: str
    site: str
    external_id: str = Field(..., description="The seller's id on the platform (Amazon merchant token, eBay user id)")
    default_language: str
    timezone: str
    currency: str
    country: str = Field(..., description="ISO 3166 code of the market, or empty")
    is_active: bool
    credentials_set: bool = Field(..., description="Whether credentials are stored (they are never returned)")
    has_connector: bool = Field(
        ..., description="Whether a connector for the platform is installed (false: no messages are exchanged yet)"
    )


CREDENTIALS_DOC = (
    "Write-only: stored encrypted and never returned. An object replaces the stored credentials; "
    "null clears them; leave the field out to keep them."
)


class StoreCreateIn(InputSchema):
    name: str = Field(..., max_length=200)
    platform: Platform
    site: str = Field("", max_length=100, description="Marketplace/site code, e.g. amazon.de")
    external_id: str = Field(
        "", max_length=200, description="The seller's id on the platform (Amazon merchant token, eBay user id)"
    )
    default_language: str = Field("en", min_length=1, max_length=20, description="The customers' usual language")
    timezone: str = Field("UTC", min_length=1, max_length=64, description="IANA name, e.g. Europe/Berlin")
    currency: str = Field("USD", min_length=3, max_length=3, description="ISO 4217")
    country: str = Field("", max_length=2, description="ISO 3166 code of the market, or empty")
    is_active: bool = True
    credentials: dict[str, Any] | None = Field(None, description=CREDENTIALS_DOC)


class StorePatchIn(InputSchema):
    """The fields sent are changed; `is_active: false` deactivates the store (it keeps its tickets)."""

    name: str | None = Field(None, max_length=200)
    platform: Platform | None = None
    site: str | None = Field(None, max_length=100)
    external_id: str | None = Field(None, max_length=200)
    default_language: str | None = Field(None, min_length=1, max_length=20)
    timezone: str | None = Field(None, min_length=1, max_length=64)
    currency: str | None = Field(None, min_length=3, max_length=3)
    country: str | None = Field(None, max_length=2)
    is_active: bool | None = None
    credentials: dict[str, Any] | None = Field(None, description=CREDENTIALS_DOC)


class CategoryLabelOut(Schema):
    category: str
    default_en: str = Field(..., description="The built-in English label")
    default_zh_hans: str = Field(..., description="The built-in simplified Chinese label")
    label_en: str = Field(..., description="The organization's own English label, or empty for the built-in one")
    label_zh_hans: str = Field(..., description="The organization's own Chinese label, or empty for the built-in one")


class CategoryLabelIn(InputSchema):
    label_en: str = Field("", max_length=200)
    label_zh_hans: str = Field("", max_length=200)


class CategoryLabelsIn(InputSchema):
    """The organization's labels: the categories left out (or with both labels empty) go back to
    the built-in wording."""

    labels: dict[TicketCategory, CategoryLabelIn] = Field(
        ..., description='{category: {"label_en": ..., "label_zh_hans": ...}}'
    )


class StoreAuthorizationIn(InputSchema):
    """Start connecting a store through its platform's consent page."""

    shop: str = Field(
        "", max_length=300, description="Shopify only: the shop's <name>.myshopify.com domain (else the store's)"
    )


class StoreAuthorizationStartOut(Schema):
    url: str = Field(..., description="The platform's consent page: open it in the seller's browser")
    state: str = Field(..., description="Signed, single use, bound to this API token; expires at expires_at")
    redirect_uri: str = Field(..., description="Where the platform sends the seller back (register it in the app)")
    expires_at: str


class StoreAuthorizationCallbackIn(InputSchema):
    """The query the platform sent to the redirect URI, as it came (state, code, shop_id, hmac...)."""

    params: dict[str, str] = Field(..., description="Every query parameter of the platform's redirect")


class StoreAuthorizationDoneOut(Schema):
    store_id: int
    account_id: str = Field(..., description="The shop / seller / merchant id on the platform")
    account_name: str
    queued_streams: list[str] = Field(..., description="The streams whose first sync was queued")
