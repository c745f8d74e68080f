"""Domain events of the returns app, published after commit (core.events); listed in docs/events.md."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.core.actors import Actor


@dataclass(frozen=True)
class ReturnRequestReceived:
    """A marketplace return, refund request, inquiry, case or cancellation request seen for the first
    time; `ticket_id` is the ticket it opened or joined."""

    return_request_id: int
    organization_id: int
    store_id: int
    kind: str
    ticket_id: int | None
    actor: Actor  # the connector that brought it


@dataclass(frozen=True)
class ReturnRequestStatusChanged:
    """The marketplace changed a request's status (the platform's words, as sent)."""

    return_request_id: int
    organization_id: int
    store_id: int
    old_status: str
    new_status: str
    ticket_id: int | None
    actor: Actor  # the connector that brought the change


# --- Refunds (returns.refunds) ----------------------------------------------------------------------


@dataclass(frozen=True)
class RefundRequested:
    """A refund was requested; `status` is where the limits and the abnormality checks put it
    (approved, pending_approval or in_review); `review_reasons` are the codes when in review."""

    refund_id: int
    organization_id: int
    order_id: int
    rma_id: int | None
    kind: str
    amount: str  # decimal string
    currency: str
    status: str
    review_reasons: tuple[str, ...]
    actor: Actor


@dataclass(frozen=True)
class RefundStatusChanged:
    """A refund moved through the transition table (returns.workflow.REFUND_TRANSITIONS): written by
    returns.refunds.refund_transition only, with its RefundEvent row. `new_status` approved enqueues
    the execution (returns.refund_tasks)."""

    refund_id: int
    organization_id: int
    rma_id: int | None
    old_status: str
    new_status: str
    reason: str
    refund_event_id: int
    actor: Actor


# --- RMAs (returns.rma) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RmaRequested:
    """An RMA was opened (by an agent, from a marketplace return request, or by the customer);
    `status` is where the automatic checks put it (requested, under_review, needs_evidence or approved)."""

    rma_id: int
    organization_id: int
    store_id: int
    number: str
    status: str
    ticket_id: int | None
    return_request_id: int | None
    actor: Actor


@dataclass(frozen=True)
class RmaStatusChanged:
    """An RMA moved through the transition table (returns.workflow.RMA_TRANSITIONS): written by
    returns.rma.rma_transition only, with its RmaEvent row."""

    rma_id: int
    organization_id: int
    old_status: str
    new_status: str
    reason: str
    rma_event_id: int
    ticket_id: int | None
    actor: Actor


@dataclass(frozen=True)
class RmaPlatformClosed:
    """The marketplace cancelled or closed the return request an RMA follows (returns.rma_platform).
    `reason`: buyer_cancelled | platform_closed. `followed`: the RMA was cancelled (its
    RmaStatusChanged comes first); False: its status (`rma_status`) or a refund kept it open, and an
    `platform_closed` row on its timeline tells the agent."""

    rma_id: int
    organization_id: int
    return_request_id: int
    reason: str
    followed: bool
    platform_status: str  # the platform's word, as sent
    rma_status: str  # the RMA's status after it
    rma_event_id: int
    ticket_id: int | None
    actor: Actor  # the connector that brought the change


@dataclass(frozen=True)
class RmaEvidenceRequested:
    """The buyer was asked for evidence (`kinds`: photo, video, imei, serial_number)."""

    rma_id: int
    organization_id: int
    kinds: tuple[str, ...]
    message: str
    ticket_id: int | None
    actor: Actor


@dataclass(frozen=True)
class RmaEvidenceAdded:
    """A photo, video, IMEI or serial number was added to an RMA."""

    rma_id: int
    organization_id: int
    evidence_id: int
    kind: str
    actor: Actor


@dataclass(frozen=True)
class RmaParcelArrived:
    """The return parcel reached the warehouse: tracking said delivered (`source` "tracking") or the
    warehouse marked it received (`source` "received"). The warehouse team is reminded."""

    rma_id: int
    organization_id: int
    warehouse_id: int | None
    source: str
    actor: Actor


@dataclass(frozen=True)
class RmaBulkJobCreated:
    """A bulk approve / reject / request-evidence over `total` RMAs was queued (returns.bulk)."""

    job_id: int
    organization_id: int
    action: str
    total: int
    actor: Actor


# --- Exchanges (returns.exchanges) ------------------------------------------------------------------


@dataclass(frozen=True)
class ExchangeCreated:
    """An exchange was set up for an RMA: `status` "reserved" (stock reserved in `warehouse_id`, the
    replacement order created) or "out_of_stock" (nothing reserved: the agent offers a refund)."""

    exchange_id: int
    organization_id: int
    rma_id: int
    status: str
    warehouse_id: int | None
    replacement_order_id: int | None
    actor: Actor


@dataclass(frozen=True)
class ExchangeShipped:
    """The replacement left the warehouse (the reservation became a ship movement)."""

    exchange_id: int
    organization_id: int
    rma_id: int
    warehouse_id: int
    replacement_order_id: int
    tracking_number: str
    actor: Actor


@dataclass(frozen=True)
class ExchangeCancelled:
    """An exchange was cancelled; a reservation it held was released."""

    exchange_id: int
    organization_id: int
    rma_id: int
    old_status: str
    reason: str
    actor: Actor
