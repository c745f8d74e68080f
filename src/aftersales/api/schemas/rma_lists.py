"""The RMA list, the exceptions list and bulk RMA jobs (api/routers/rma_lists.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from ninja import Field, Schema
from pydantic import create_model

from aftersales.returns.filters import RMA_FILTERS

from .common import Id, InputSchema, StoreRef, money


class RmaListItemOut(Schema):
    """An RMA as listed."""

    id: int
    number: str
    status: str
    resolution: str
    outcome: str
    reason: str
    store: StoreRef
    order_id: int
    order_number: str
    customer_id: int | None
    customer_name: str
    ticket_id: int | None
    ticket_assignee_id: int | None
    label_tracking_number: str
    platform_sync: str
    has_discrepancies: bool
    requested_at: datetime
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_order_number(obj: Any) -> str:
        return str(obj.order.external_id)

    @staticmethod
    def resolve_customer_name(obj: Any) -> str:
        return obj.customer.name if obj.customer_id else ""

    @staticmethod
    def resolve_ticket_assignee_id(obj: Any) -> int | None:
        return obj.ticket.assignee_id if obj.ticket_id else None

    @staticmethod
    def resolve_has_discrepancies(obj: Any) -> bool:
        return bool(obj.discrepancies)


class RmaPageOut(Schema):
    items: list[RmaListItemOut]
    next_cursor: str | None = Field(..., description="Pass as `cursor` to get the next page; null on the last page")


class RmaPageQuery(Schema):
    """Page parameters of the RMA list (the filters are added from the filter declaration)."""

    limit: int | None = Field(None, ge=1, le=100, description="Page size, 1 to 100 (default 25)")
    sort: str | None = Field(None, description="-created_at (default) or created_at")
    cursor: str | None = Field(None, description="next_cursor of the previous page")


def _list_query_schema() -> type[RmaPageQuery]:
    """The RMA list's query schema, generated from the one filter declaration
    (aftersales.returns.filters.RMA_FILTERS): every filter is text here, validated by the same
    parse_rma_filters as the web UI's, so both give the same messages."""
    filter_fields: dict[str, Any] = {
        spec.name: (str | None, Field(None, description=spec.api_description())) for spec in RMA_FILTERS
    }
    return create_model(  # type: ignore[call-overload,no-any-return]
        "RmaListQuery",
        __base__=RmaPageQuery,
        __doc__="RMA filters. Multi-valued filters take comma-separated values (status=requested,under_review).",
        **filter_fields,
    )


if TYPE_CHECKING:
    RmaListQuery = RmaPageQuery
else:
    RmaListQuery = _list_query_schema()


class ExceptionsQuery(Schema):
    stale_days: int | None = Field(
        None, ge=1, le=365, description="Days after the label without a parcel scan (default 7)"
    )


class RmaExceptionOut(Schema):
    id: int
    number: str
    status: str
    store: StoreRef
    order_number: str
    label_tracking_number: str
    label_issued_at: datetime | None
    discrepancies: list[dict[str, Any]]
    created_at: datetime

    @staticmethod
    def resolve_order_number(obj: Any) -> str:
        return str(obj.order.external_id)


class RefundExceptionOut(Schema):
    id: int
    rma_id: int | None
    order_id: int
    status: str
    kind: str
    amount: dict[str, str]
    platform_detail: str
    writeback_status: str | None
    updated_at: datetime

    @staticmethod
    def resolve_amount(obj: Any) -> dict[str, str]:
        return money(obj.amount, obj.currency)

    @staticmethod
    def resolve_writeback_status(obj: Any) -> str | None:
        return obj.writeback.status if obj.writeback_id else None


class RmaExceptionsOut(Schema):
    stale_days: int
    stale_labels: list[RmaExceptionOut] = Field(
        ..., description="Label issued at least stale_days ago and no tracking scan of the return parcel"
    )
    discrepancies: list[RmaExceptionOut] = Field(..., description="Open RMAs whose facts do not match the order")
    refunds_failed: list[RefundExceptionOut] = Field(
        ..., description="Refunds that failed on the marketplace or wait for a manual sync"
    )
    writebacks_unknown: list[RefundExceptionOut] = Field(
        ..., description="Refunds whose marketplace call ended in an unknown state (check before retrying)"
    )
    platform_closed: list[RmaExceptionOut] = Field(
        ..., description="Open RMAs whose marketplace request was cancelled by the buyer or closed by the marketplace"
    )


class RmaBulkParams(InputSchema):
    resolution: str | None = Field(None, description="approve: the resolution (default: the one proposed)")
    reason: str | None = Field(None, max_length=500, description="reject: the reason told to the buyer")
    kinds: list[str] | None = Field(
        None, max_length=4, description="request_evidence: photo, video, imei, serial_number"
    )
    message: str | None = Field(None, max_length=2000, description="request_evidence: a message to the buyer")


class RmaBulkIn(InputSchema):
    action: Literal["approve", "reject", "request_evidence"]
    rma_ids: list[Id] = Field(..., min_length=1, max_length=10_000)
    params: RmaBulkParams | None = None


class BulkItemOut(Schema):
    rma_id: int
    rma_number: str
    status: str = Field(..., description="pending, ok or error")
    message: str


class RmaBulkJobOut(Schema):
    job_id: int
    action: str
    status: str = Field(..., description="queued, running or done")
    total: int
    ok: int
    failed: int
    percent: int
    items: list[BulkItemOut]
