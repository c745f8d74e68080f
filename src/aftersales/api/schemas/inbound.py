"""Generic inbound messages, for integrations and e-mail gateways."""

from __future__ import annotations

from ninja import Field, Schema
from pydantic import field_validator

from aftersales.inbox.workflow import TicketCategory

from .actions import AttachmentIn
from .common import Id, InputSchema, Instant


class InboundMessageIn(InputSchema):
    store_id: Id
    external_id: str = Field(..., min_length=1, max_length=200, description="The message's id on the platform")
    body: str = Field("", max_length=100_000)
    body_html: str = Field("", max_length=500_000, description="Sanitised before it is stored")
    subject: str = Field("", max_length=1000)
    customer_external_id: str = Field(..., min_length=1, max_length=200)
    customer_name: str = Field("", max_length=200)
    customer_email: str = Field("", max_length=254)
    customer_country: str = Field("", max_length=2, description="ISO 3166-1 alpha-2 code")
    customer_language: str = Field("", max_length=10)
    order_external_id: str | None = Field(None, max_length=120)
    conversation_id: str = Field("", max_length=200)
    sent_at: Instant | None = None
    category: TicketCategory | None = None
    attachments: list[AttachmentIn] = Field([], max_length=20)

    @field_validator("customer_country")
    @classmethod
    def _country(cls, value: str) -> str:
        from django_countries import countries

        code = value.strip().upper()
        if code and code not in countries:
            raise ValueError("not an ISO 3166-1 alpha-2 country code")
        return code

    @field_validator("customer_email")
    @classmethod
    def _email(cls, value: str) -> str:
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        value = value.strip()
        if value:
            try:
                validate_email(value)
            except ValidationError:
                raise ValueError("not a valid e-mail address") from None
        return value


class InboundResultOut(Schema):
    ticket_id: int
    message_id: int
    created: bool = Field(..., description="false: this (store, external_id) was already ingested")
    ticket_created: bool
