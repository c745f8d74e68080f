"""Tickets: list rows, the detail with its timeline, order and customer panels."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from ninja import Field, Schema
from pydantic import create_model

from aftersales.core.actors import ActorKind
from aftersales.inbox.selectors import FILTERS
from aftersales.tracking.selectors import stalled_days

from .common import MoneyOut, StoreRef, UserRef, money
from .sla import ClockOut


class CustomerRef(Schema):
    id: int
    name: str
    email: str
    tier: str


class TicketRowClocksOut(Schema):
    """The clocks an inbox row shows, each only while it runs (running, warning, overdue or paused)."""

    ours: ClockOut | None = Field(
        ..., description="The seller's clock: first response while it runs, else resolution; null when neither runs"
    )
    marketplace: ClockOut | None = Field(
        ...,
        description="The marketplace's clock (Amazon 24 h, TikTok 48 h, eBay/Shopee due dates); null when none runs",
    )


class TicketOut(Schema):
    """A ticket as listed in the inbox."""

    id: int
    subject: str
    status: str
    status_category: str
    category: str
    urgency: str
    platform: str
    store: StoreRef
    customer: CustomerRef
    customer_tier: str
    order_id: int | None
    assignee: UserRef | None
    team_id: int | None
    language: str
    is_high_priority: bool
    is_unreplied: bool
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None
    last_customer_message_at: datetime | None
    delivery_failed: bool = Field(
        ..., description="A reply on this ticket could not be delivered (see its message's delivery_error)"
    )

    @staticmethod
    def resolve_delivery_failed(obj: Any) -> bool:
        annotated = getattr(obj, "delivery_failed", None)  # the inbox page annotates its rows
        if annotated is not None:
            return bool(annotated)
        return bool(obj.messages.filter(delivery_status="failed").exists())

    sla: TicketRowClocksOut | None = Field(
        None, description="The row's SLA clocks as the inbox shows them; null until the worker computed them"
    )

    @staticmethod
    def resolve_sla(obj: Any) -> Any:
        from aftersales.sla.selectors import inbox_row_clocks

        rows = getattr(obj, "row_clocks", None)  # the list attaches a page's clocks in one query
        if rows is None:
            rows = inbox_row_clocks([obj.pk])
        return rows.get(obj.pk)


class TicketPageOut(Schema):
    items: list[TicketOut]
    next_cursor: str | None = Field(..., description="Pass as `cursor` to get the next page; null on the last page")


class TicketFullOut(TicketOut):
    conversation_id: str
    sku_category: str
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    tags: list[str]

    @staticmethod
    def resolve_tags(obj: Any) -> list[str]:
        return sorted(tag.name for tag in obj.tags.all())


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    content_url: str = Field(..., description="Where to download the bytes (same visibility as the ticket)")

    @staticmethod
    def resolve_content_url(obj: Any) -> str:
        return reverse("api:download_attachment", args=[obj.pk])


class MessageOut(Schema):
    id: int
    ticket_id: int
    direction: str = Field(..., description="inbound (customer), outbound (reply) or note (internal)")
    channel: str
    author: UserRef | None
    author_name: str
    body: str = Field(..., description="The original text, as written (e-mail: with its quoted history)")
    body_html: str
    body_display: str = Field(
        ...,
        description="The text to show: an e-mail without its quoted history and signature; else the same as body",
    )
    language: str
    translations: dict[str, Any]
    delivery_status: str
    delivery_error: str
    delivery_attempts: int
    sent_at: datetime | None
    delivered_at: datetime | None = Field(None, description="A sent reply: when the platform reported it delivered")
    read_at: datetime | None = Field(None, description="A sent reply: when the platform reported the customer read it")
    created_at: datetime
    attachments: list[AttachmentOut]
    mentions: list[UserRef]

    @staticmethod
    def resolve_body_display(obj: Any) -> str:
        return str(obj.body_display or obj.body)

    @staticmethod
    def resolve_mentions(obj: Any) -> list[Any]:
        return [mention.user for mention in obj.mentions.all()]


class EventOut(Schema):
    id: int
    type: str
    actor: UserRef | None = Field(..., description="The user who acted; null when it was not a user")
    actor_kind: str = Field(..., description="Who acted: user, customer, connector, rule or system")
    actor_id: str = Field(
        ...,
        description="The actor's id within its kind: user, customer or rule id, the connector's store id, "
        "or the system component's name (may be empty)",
    )
    actor_label: str = Field(..., description="A readable name of the actor (the user's name, else the kind)")
    payload: dict[str, Any]
    at: datetime

    @staticmethod
    def resolve_actor_id(obj: Any) -> str:
        return str(obj.actor_ref)

    @staticmethod
    def resolve_actor_label(obj: Any) -> str:
        if obj.actor is not None:
            return str(obj.actor)
        try:
            return str(ActorKind(obj.actor_kind).label)
        except ValueError:
            return str(obj.actor_kind)


class TimelineEntryOut(Schema):
    kind: str = Field(..., description="message (customer message, reply or note) or event")
    at: datetime
    message: MessageOut | None
    event: EventOut | None


class TrackingEventOut(Schema):
    at: datetime
    status: str
    location: str
    description: str


class ShipmentOut(Schema):
    id: int
    carrier: str
    tracking_number: str
    status: str
    shipped_at: datetime | None
    delivered_at: datetime | None
    events: list[TrackingEventOut]
    last_event_at: datetime | None = Field(None, description="Time of the carrier's last event (null: none yet)")
    days_since_last_event: int | None = Field(
        None, description="Whole days since the carrier's last event (how long a parcel has been stalled)"
    )

    @staticmethod
    def resolve_last_event_at(obj: Any) -> datetime | None:
        return max((e.at for e in obj.events.all()), default=None)

    @staticmethod
    def resolve_days_since_last_event(obj: Any) -> int | None:
        return stalled_days(max((e.at for e in obj.events.all()), default=None))


class OrderLineOut(Schema):
    sku: str
    title: str
    quantity: int
    unit_price: MoneyOut
    line_total: MoneyOut

    @staticmethod
    def resolve_unit_price(obj: Any) -> dict[str, str]:
        return money(obj.unit_price_amount, obj.currency)

    @staticmethod
    def resolve_line_total(obj: Any) -> dict[str, str]:
        return money(obj.line_total, obj.currency)


class OrderSummaryOut(Schema):
    id: int
    external_id: str
    store: StoreRef
    placed_at: datetime
    status: str
    total: MoneyOut
    ship_country: str

    @staticmethod
    def resolve_total(obj: Any) -> dict[str, str]:
        return money(obj.total_amount, obj.currency)

    @staticmethod
    def resolve_ship_country(obj: Any) -> str:
        return obj.ship_country.code or ""


class OrderOut(OrderSummaryOut):
    lines: list[OrderLineOut]
    shipments: list[ShipmentOut]


class CustomerOut(Schema):
    id: int
    name: str
    email: str
    country: str
    preferred_language: str
    tier: str
    created_at: datetime

    @staticmethod
    def resolve_country(obj: Any) -> str:
        return obj.country.code or ""


class TicketBriefOut(Schema):
    """A ticket in the customer panel."""

    id: int
    subject: str
    status: str
    status_category: str
    category: str
    platform: str
    store: StoreRef
    created_at: datetime
    updated_at: datetime


class CustomerPanelOut(Schema):
    """The customer with their other tickets (those you may see) and orders across all stores."""

    customer: CustomerOut
    order_count: int = Field(..., description="All of the customer's orders, in every store (`orders`: the latest)")
    lifetime_value: list[MoneyOut] = Field(
        ..., description="Sum of the totals of those orders, one amount per currency (never converted)"
    )
    return_count: int = Field(..., description="Of those orders, the ones returned or refunded (in whole or in part)")
    tickets: list[TicketBriefOut]
    orders: list[OrderSummaryOut]

    @staticmethod
    def resolve_lifetime_value(obj: Any) -> list[dict[str, str]]:
        values = obj["lifetime_value"] if isinstance(obj, dict) else obj.lifetime_value
        return [money(t.amount, t.currency) for t in values]


class ReturnRequestLineOut(Schema):
    sku: str
    quantity: int
    reason: str


class ReturnRequestOut(Schema):
    """A return, refund request, inquiry, case or cancellation request as the marketplace holds it."""

    id: int
    kind: str = Field(..., description="return, refund_request, inquiry, case or cancellation")
    external_id: str = Field(..., description="Its id on the marketplace")
    store: StoreRef
    platform_status: str = Field(..., description="The marketplace's status word, as sent")
    platform_state: str = Field(
        ...,
        description="platform_status in one vocabulary for every marketplace: open, waiting_buyer, escalated, "
        "rejected, completed, cancelled (by the buyer), closed (by the marketplace) or unknown",
    )
    reason: str
    buyer_comment: str
    requested: MoneyOut | None
    respond_by: datetime | None = Field(..., description="The marketplace's deadline for the seller's answer")
    created_on_platform: datetime
    lines: list[ReturnRequestLineOut]

    @staticmethod
    def resolve_requested(obj: Any) -> dict[str, str] | None:
        if obj.requested_amount is None:
            return None
        return money(obj.requested_amount, obj.currency or obj.store.currency)


class TicketDetailOut(Schema):
    ticket: TicketFullOut
    timeline: list[TimelineEntryOut]
    order: OrderOut | None
    customer: CustomerPanelOut
    return_requests: list[ReturnRequestOut] = Field(
        ..., description="The marketplace's returns, refund requests, inquiries and cases this ticket was opened for"
    )


class TicketPageQuery(Schema):
    """Page parameters of the ticket list (the filters are added from the filter declaration)."""

    limit: int | None = Field(None, ge=1, le=100, description="Page size, 1 to 100 (default 25)")
    sort: str | None = Field(None, description="-updated_at (default), updated_at, -created_at, created_at, ...")
    cursor: str | None = Field(None, description="next_cursor of the previous page")
    view: int | None = Field(None, gt=0, le=2**62, description="Id of one of your saved views: its filters apply")


def _list_query_schema() -> type[TicketPageQuery]:
    """The ticket list's query schema, generated from the one filter declaration
    (aftersales.inbox.filters.FILTERS): every filter is text here, validated by the same
    parse_ticket_filters as the web UI's, so both give the same messages."""
    filter_fields: dict[str, Any] = {
        spec.name: (str | None, Field(None, description=spec.api_description())) for spec in FILTERS
    }
    return create_model(  # type: ignore[call-overload,no-any-return]
        "TicketListQuery",
        __base__=TicketPageQuery,
        __doc__="Inbox filters. Multi-valued filters take comma-separated values (platform=amazon,ebay).",
        **filter_fields,
    )


if TYPE_CHECKING:
    TicketListQuery = TicketPageQuery
else:
    TicketListQuery = _list_query_schema()
