"""The connector contract: what a marketplace, mailbox or tracking integration implements.

A connector is a vertical slice under `channels/connectors/<platform>/` (client.py: HTTP, auth,
signing; mapping.py: pure, platform payload -> the records below; connector.py: the class the
registry loads; webhooks.py; fake.py: a local server speaking the platform's protocol; tests/).

The sync engine (channels/sync.py) owns everything generic: cursors per store and stream, the raw
record store (unique per store + platform event id), quarantine, SyncRun bookkeeping, the rate
limiter, retries and pausing a store on a permanent error. A connector only fetches a page, maps a
record and performs write-backs; it never writes to the database itself.

Everything here is a plain frozen dataclass so that mapping stays pure and testable."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from aftersales.catalog.addresses import ship_address_key


class ConnectorError(Exception):
    """A platform call failed. `permanent=True` means retrying cannot help (bad credentials, a
    revoked token, a message rejected): the engine pauses the store's sync (or fails the write-back)
    and shows `message`, the platform's own words where it gave any. Otherwise the call is retried
    with backoff. `retry_after` (seconds) is honoured when the platform said how long to wait."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
        code: str = "",
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.status = status  # the HTTP status, if any
        self.code = code  # the platform's error code, if any


class AuthError(ConnectorError):
    """Credentials rejected or a token could not be refreshed: permanent until a human fixes them."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("permanent", True)
        super().__init__(message, **kwargs)


class RateLimited(ConnectorError):
    """The platform said 429 (or Shopify's THROTTLED): transient, retry after `retry_after`."""


class MappingError(ValueError):
    """A record cannot be mapped (missing field, unknown enum value, bad number...). The engine
    quarantines that one record with this reason and goes on with the page. `field` names the
    offending field as the platform spells it."""

    def __init__(self, reason: str, *, field: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class SignatureInvalid(Exception):
    """A webhook's signature (or its timestamp) does not verify: answered 401, nothing stored."""


class Stream(StrEnum):
    """What a connector can pull, each with its own cursor per store."""

    ORDERS = "orders"
    MESSAGES = "messages"
    RETURNS = "returns"  # returns, refund requests, inquiries, cases, cancellation requests
    TRACKING = "tracking"


class Capability(StrEnum):
    """What a connector declares; the UI and API offer only what the store's connector supports."""

    PULL_ORDERS = "pull_orders"
    PULL_MESSAGES = "pull_messages"
    PULL_RETURNS = "pull_returns"
    PULL_TRACKING = "pull_tracking"
    WEBHOOKS = "webhooks"
    SUBSCRIBE_WEBHOOKS = "subscribe_webhooks"  # the connector registers our webhook URL on the platform
    SEND_MESSAGE = "send_message"
    DECIDE_RETURN = "decide_return"
    ISSUE_REFUND = "issue_refund"
    MARK_SHIPPED = "mark_shipped"
    TEST_CONNECTION = "test_connection"
    FETCH_RETURN_LABEL = "fetch_return_label"  # the platform's own return label (a PDF) for a return
    CLOSE_TICKET = "close_ticket"  # `close_ticket(ctx, conversation_id)`: close the platform's ticket / escalation


PULL_CAPABILITY: Mapping[Stream, Capability] = {
    Stream.ORDERS: Capability.PULL_ORDERS,
    Stream.MESSAGES: Capability.PULL_MESSAGES,
    Stream.RETURNS: Capability.PULL_RETURNS,
    Stream.TRACKING: Capability.PULL_TRACKING,
}


# --- What the engine hands a connector -------------------------------------------------------------


@dataclass(frozen=True)
class StoreContext:
    """One store as a connector sees it. `credentials` are decrypted (never log them);
    `base_url` is the platform endpoint (the store's override, allowed only for loopback fakes
    when settings.CHANNELS_ALLOW_ENDPOINT_OVERRIDE is on, else the platform's default);
    `save_credentials` persists refreshed OAuth tokens (encrypted) and must be called by a
    connector that refreshed one; `throttle(cost)` blocks until the store's rate limiter admits a
    call of that cost (the engine's limiter: Redis when REDIS_URL is set, else the database)."""

    store_id: int
    organization_id: int
    platform: str
    site: str
    seller_id: str
    currency: str
    credentials: Mapping[str, Any]
    base_url: str = ""
    save_credentials: Callable[[dict[str, Any]], None] = field(default=lambda _creds: None, repr=False)
    throttle: Callable[[str, float], None] = field(default=lambda _bucket, _cost: None, repr=False)
    # For rotating refresh tokens (Shopee): `refresh_credentials(fn)` calls fn(the credentials as
    # stored now) under the store's row lock and saves what it returns, so that two workers never
    # spend the same refresh token; returns the merged credentials. None outside the engine.
    refresh_credentials: Callable[[Callable[[Mapping[str, Any]], dict[str, Any]]], Mapping[str, Any]] | None = field(
        default=None, repr=False
    )
    # The access scopes the platform granted the app as last read (channels/scopes.py; Shopify):
    # asked lazily, only by a feature's scope check. None: never read, or outside the engine.
    granted_scopes: Callable[[], list[str] | None] = field(default=lambda: None, repr=False)


# --- Pulled records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawRecord:
    """One record as received (a page item or a webhook), stored raw before it is processed.
    `event_id` is unique per store for this version of the record (e.g. the platform's event id,
    or f"{order_id}:{last_updated}"): receiving it again is a no-op."""

    stream: Stream
    event_id: str
    payload: Mapping[str, Any]
    raw: bytes = b""  # a source that is not JSON (an e-mail's RFC 822 bytes), stored beside the payload


@dataclass(frozen=True)
class Page:
    """A page of a stream. `next_cursor` is persisted only after every record of the page is stored
    (raw); `done` says the stream is caught up (the engine stops paging). For watermark streams the
    connector returns an opaque cursor that already includes its overlap."""

    records: list[RawRecord]
    next_cursor: str | None
    done: bool


@dataclass(frozen=True)
class Buyer:
    external_id: str  # the buyer's id on this store (Amazon buyer id, eBay username, e-mail...)
    name: str = ""
    email: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    language: str = ""  # BCP 47 / ISO 639-1 if the platform says it


@dataclass(frozen=True)
class ShipAddress:
    """Where an order was delivered, as the platform gives it. Only a keyed fingerprint of it is
    stored (`Order.ship_address_key`, catalog.addresses), never the address itself."""

    country: str = ""  # ISO 3166-1 alpha-2
    postal_code: str = ""
    lines: tuple[str, ...] = ()  # street lines, in the platform's order
    city: str = ""

    @classmethod
    def of(cls, *, country: Any, postal_code: Any, lines: Iterable[Any], city: Any = "") -> ShipAddress | None:
        """From a platform's fields (None or non-strings read as empty; empty lines dropped); None
        when there is no street line (the platform withheld the address)."""
        street = tuple(text for text in (_clean(line) for line in lines) if text)
        if not street:
            return None
        return cls(country=_clean(country).upper(), postal_code=_clean(postal_code), lines=street, city=_clean(city))


def _clean(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class OrderLineRecord:
    external_line_id: str  # the platform's line-item id (write-backs need it)
    sku: str
    quantity: int
    unit_price: Decimal
    currency: str
    title: str = ""
    # The units shipped on this line, when the platform reports them (paired by position: unit i has
    # imeis[i] and/or serial_numbers[i]); they are registered in the warranty registry once shipped.
    imeis: tuple[str, ...] = ()
    serial_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShipmentRecord:
    carrier: str
    tracking_number: str
    status: str = ""  # catalog.models.ShipmentStatus value when known
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class OrderRecord:
    external_id: str
    placed_at: datetime
    status: str  # catalog.models.OrderStatus value when known, else the platform's word
    total: Decimal
    currency: str
    updated_at: datetime | None = None
    buyer: Buyer | None = None
    ship_country: str = ""
    lines: list[OrderLineRecord] = field(default_factory=list)
    shipments: list[ShipmentRecord] = field(default_factory=list)
    # None: the platform did not give the address (e.g. Amazon without a Restricted Data Token).
    ship_address: ShipAddress | None = None

    @property
    def ship_address_key(self) -> str | None:
        """`Order.ship_address_key`: the address's keyed fingerprint (None: no address given)."""
        address = self.ship_address
        if address is None:
            return None
        return ship_address_key(
            country=address.country or self.ship_country, postal_code=address.postal_code, lines=address.lines
        )


@dataclass(frozen=True)
class AttachmentRecord:
    filename: str
    content: bytes
    content_type: str = ""  # a hint only: the inbox sniffs the bytes


@dataclass(frozen=True)
class MessageRecord:
    """A buyer's message. Messages the seller sent from the platform's own back office are
    `from_seller=True` (kept on the thread, open nothing)."""

    external_id: str
    buyer: Buyer
    body: str
    sent_at: datetime
    conversation_id: str = ""
    order_external_id: str | None = None
    subject: str = ""
    body_html: str = ""
    from_seller: bool = False
    attachments: list[AttachmentRecord] = field(default_factory=list)
    # E-mail threading: the message's own Message-ID and its In-Reply-To + References (nearest
    # first); the inbox threads on our own ids / reply token among them before anything else.
    message_id_header: str = ""
    references: list[str] = field(default_factory=list)
    # E-mail: the body without quoted history and signature, for display (`body` keeps the original).
    body_display: str = ""
    language: str = ""  # if the platform says it (else detected)
    # Set when the message belongs to another store of the same organization than the one it was
    # received on (Amazon's buyer messages reach the seller's mailbox through Amazon's relay: they
    # are linked to the Amazon store). The engine refuses a store of another organization.
    target_store_id: int | None = None


class ReturnKind(StrEnum):
    RETURN = "return"
    REFUND_REQUEST = "refund_request"  # refund without a return (item not received, returnless)
    INQUIRY = "inquiry"  # eBay INR inquiry, Amazon A-to-z before it is a claim
    CASE = "case"  # escalated dispute (eBay case, Amazon A-to-z claim, chargeback)
    CANCELLATION = "cancellation"  # a buyer's cancellation request


class ReturnState(StrEnum):
    """Where a return / refund request / inquiry / case stands on the marketplace, in one vocabulary
    for every platform (each connector's mapping says which of its status words means which:
    `RETURN_STATES` in connectors/<platform>/mapping.py). Rules, the RMA's follow-up of a platform
    cancellation (returns.rma_platform) and the UI read this, never the platform's own words."""

    OPEN = "open"  # waiting for the seller
    WAITING_BUYER = "waiting_buyer"  # the seller answered; the buyer acts (ships, replies)
    ESCALATED = "escalated"  # the marketplace arbitrates
    REJECTED = "rejected"  # the seller declined it
    COMPLETED = "completed"  # done: refunded, replaced or returned as agreed
    CANCELLED = "cancelled"  # withdrawn by the buyer (or cancelled on the marketplace)
    CLOSED = "closed"  # closed by the marketplace without saying it was completed
    UNKNOWN = "unknown"  # a status word the connector does not map (or a connector without a map)


@dataclass(frozen=True)
class ReturnLineRecord:
    sku: str
    quantity: int
    external_line_id: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ReturnRecord:
    """A return, refund request, inquiry or case as the marketplace holds it. `status` is the
    platform's status word (kept as sent); `respond_by` is the marketplace's deadline."""

    external_id: str
    kind: ReturnKind
    status: str
    created_at: datetime
    order_external_id: str | None = None
    buyer: Buyer | None = None
    reason: str = ""  # the platform's reason code
    buyer_comment: str = ""
    requested_amount: Decimal | None = None
    currency: str = ""
    respond_by: datetime | None = None
    updated_at: datetime | None = None
    lines: list[ReturnLineRecord] = field(default_factory=list)
    # The platform has issued a return label for it (Capability.FETCH_RETURN_LABEL fetches it; the
    # sync then fetches it for an approved RMA without one). False when the payload does not say.
    label_available: bool = False
    # `status` in the one vocabulary (the connector's RETURN_STATES).
    state: ReturnState = ReturnState.UNKNOWN


@dataclass(frozen=True)
class TrackingEventRecord:
    at: datetime
    status: str  # catalog.models.ShipmentStatus value
    location: str = ""
    description: str = ""


@dataclass(frozen=True)
class TrackingRecord:
    tracking_number: str
    carrier: str
    status: str  # catalog.models.ShipmentStatus value
    events: list[TrackingEventRecord] = field(default_factory=list)


@dataclass(frozen=True)
class IgnoredRecord:
    """A received item that must open nothing and change nothing (an auto-reply, an out-of-office,
    a newsletter): kept raw with `reason` (e.g. "autoreply") for the log."""

    reason: str
    detail: str = ""


@dataclass(frozen=True)
class AccountDeletionRecord:
    """The platform says a user closed their account and their data must be erased (eBay's
    MARKETPLACE_ACCOUNT_DELETION): `external_ids` are every id the notice names (username, user id);
    channels.erasure.buyer_erase applies it."""

    external_ids: tuple[str, ...]


@dataclass(frozen=True)
class DeliveryFailureRecord:
    """A bounce (RFC 3464 report, mailer-daemon) of one of our replies: the reply whose Message-ID is
    among `original_message_ids` is marked failed with `reason`; no ticket is opened."""

    original_message_ids: list[str]
    reason: str
    recipients: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeliveryReceiptRecord:
    """The platform says one of our replies (its `external_id`, the id the send returned) was
    "delivered" to or "read" by the customer at `at`; no ticket is opened, nothing moves backwards.
    Without an external id, `conversation_id` names the thread: every reply of ours in it sent at or
    before `at` (Messenger's watermark) gets the receipt."""

    external_id: str
    receipt: str  # "delivered" or "read"
    at: datetime
    conversation_id: str = ""


Record = (
    OrderRecord
    | MessageRecord
    | ReturnRecord
    | TrackingRecord
    | IgnoredRecord
    | DeliveryFailureRecord
    | DeliveryReceiptRecord
    | AccountDeletionRecord
)


# --- Write-backs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboundReply:
    """A reply to deliver to the customer, as the connector needs it."""

    message_id: int
    store_id: int
    credentials: dict
    conversation_id: str
    order_external_id: str | None
    customer_address: str  # e-mail address or platform buyer id
    customer_name: str
    subject: str
    body: str
    in_reply_to: str | None = None  # external id of the last inbound message
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)  # (name, content, type)
    references: list[str] = field(default_factory=list)  # e-mail: earlier Message-IDs of the thread
    # An approved template instead of free text (WhatsApp outside the 24-hour window):
    # {"name", "language", "variables": [...]}; `body` is then its rendered text, for the record.
    template: dict[str, Any] | None = None


@dataclass(frozen=True)
class SentReceipt:
    external_id: str
    sent_at: datetime


class ReturnDecisionKind(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    OFFER_PARTIAL_REFUND = "offer_partial_refund"
    PROVIDE_RMA = "provide_rma"
    PROVIDE_LABEL = "provide_label"
    MARK_RECEIVED = "mark_received"


@dataclass(frozen=True)
class ReturnDecision:
    return_external_id: str
    kind: ReturnKind
    decision: ReturnDecisionKind
    comment: str = ""
    amount: Decimal | None = None  # OFFER_PARTIAL_REFUND
    currency: str = ""
    rma_number: str = ""  # PROVIDE_RMA
    label: AttachmentRecord | None = None  # PROVIDE_LABEL (a PDF)
    carrier: str = ""
    tracking_number: str = ""
    notify_customer: bool = True
    # DECLINE: why, as the return policy's rejection code (window_expired, quantity,
    # reason_not_accepted; "" = the agent's own reason, in `comment`), for platforms with reason codes.
    reason_code: str = ""
    # The buyer's id on the store (CustomerIdentity.external_id), for platforms whose decision calls
    # name the buyer (AliExpress: buyer_login_id); "" when unknown.
    buyer_id: str = ""


@dataclass(frozen=True)
class ReturnLabel:
    """A return label the platform issued (Capability.FETCH_RETURN_LABEL: the connector's
    `fetch_return_label(ctx, return_external_id) -> ReturnLabel | None`, None while it has none).
    The bytes go through the upload checks before they are stored on the RMA."""

    content: bytes
    filename: str
    carrier: str = ""
    tracking_number: str = ""


@dataclass(frozen=True)
class RefundLine:
    external_line_id: str
    quantity: int
    amount: Decimal


@dataclass(frozen=True)
class RefundRequest:
    """Money moves once: `idempotency_key` is stored (channels WriteBack row) before the call and sent
    to platforms that take one; for those that do not, the connector reconciles by it."""

    idempotency_key: str
    order_external_id: str
    amount: Decimal
    currency: str
    return_external_id: str = ""
    reason: str = ""
    note: str = ""
    lines: list[RefundLine] = field(default_factory=list)
    notify_customer: bool = True
    buyer_id: str = ""  # the buyer's id on the store, as ReturnDecision.buyer_id


class RefundState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class RefundReceipt:
    external_id: str  # the platform's refund / feed / adjustment id
    state: RefundState
    detail: str = ""


@dataclass(frozen=True)
class ShipmentConfirmation:
    order_external_id: str
    carrier: str
    tracking_number: str
    shipped_at: datetime
    line_ids: list[str] = field(default_factory=list)  # external line ids; empty = the whole order


@dataclass(frozen=True)
class WriteReceipt:
    """What a platform answered to a write-back (kept on the WriteBack row)."""

    external_id: str = ""
    detail: str = ""


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    detail: str  # what the platform said, shown to the admin


@dataclass(frozen=True)
class WebhookSubscriptions:
    """What `subscribe_webhooks` found and did on the platform for one callback URL (topics in the
    platform's words)."""

    callback_url: str
    created: tuple[str, ...] = ()
    existing: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


# --- The protocol --------------------------------------------------------------------------------


@runtime_checkable
class Connector(Protocol):
    """What every connector class provides. Methods for capabilities it does not declare may raise
    ConnectorError(permanent=True); the engine never calls them."""

    platform: str
    capabilities: frozenset[Capability]

    def send_reply(self, reply: OutboundReply) -> SentReceipt: ...


class PullingConnector(Connector, Protocol):
    def pull(self, ctx: StoreContext, stream: Stream, cursor: str | None, since: datetime | None) -> Page:
        """One page of `stream` after `cursor` (None: start from `since`, else the platform's
        default look-back). Raises ConnectorError for the page; never MappingError."""
        ...

    def map_record(self, ctx: StoreContext, raw: RawRecord) -> list[Record]:
        """Pure: the records a raw payload stands for (an order with its lines and shipments, a
        message, a return...). Raises MappingError to quarantine this one record."""
        ...

    def test_connection(self, ctx: StoreContext) -> ConnectionCheck: ...


class WebhookConnector(Protocol):
    def verify_webhook(
        self, ctx: StoreContext, headers: Mapping[str, str], body: bytes
    ) -> list[RawRecord]:  # raises SignatureInvalid
        """Verify and parse a push. Webhooks are triggers, not the truth: the records are stored raw
        and processed like pulled ones, and polling with an overlapping watermark reconciles."""
        ...


class SubscribingConnector(Protocol):
    def subscribe_webhooks(self, ctx: StoreContext, callback_url: str) -> WebhookSubscriptions:
        """Make the platform push the topics the connector maps to `callback_url`: create the
        missing subscriptions, keep the existing ones, remove ours for topics no longer wanted.
        Idempotent: a second call creates nothing."""
        ...


class WritingConnector(Protocol):
    def send_message(self, ctx: StoreContext, reply: OutboundReply) -> SentReceipt: ...

    def decide_return(self, ctx: StoreContext, decision: ReturnDecision) -> WriteReceipt: ...

    def issue_refund(self, ctx: StoreContext, refund: RefundRequest) -> RefundReceipt: ...

    def refund_status(self, ctx: StoreContext, refund: RefundRequest, receipt: RefundReceipt) -> RefundReceipt: ...

    def mark_shipped(self, ctx: StoreContext, shipment: ShipmentConfirmation) -> WriteReceipt: ...
