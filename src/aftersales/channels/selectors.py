"""Reads of a store's connection for its admins (agent UI and API alike): what its connector can
do, its sync state per stream, its quarantined records, and the organization's "needs a human"
list (paused stores, quarantined records, write-backs that failed or whose outcome is unknown).
Every read checks the administer permission; another organization's store is NotFound."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache
from django.db.models import Count, Max, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, has_perm, organization_of
from aftersales.catalog.models import Store
from aftersales.core.clock import now
from aftersales.core.errors import NotFound

from .base import Capability, ConnectorError
from .credentials import CredentialState, credential_fields, credentials_state
from .marketplace_apps import app_supplied_fields, uses_own_app
from .models import MessageTemplate, RawEvent, RawEventStatus, StoreSync, WriteBack, WriteBackStatus
from .registry import get_connector
from .status import StreamStatus, store_streams_status

CAPABILITY_LABELS: dict[str, str | Promise] = {
    Capability.PULL_ORDERS: _("Import orders"),
    Capability.PULL_MESSAGES: _("Import buyer messages"),
    Capability.PULL_RETURNS: _("Import returns, refund requests and cases"),
    Capability.PULL_TRACKING: _("Import tracking"),
    Capability.WEBHOOKS: _("Receive pushes (webhooks)"),
    Capability.SUBSCRIBE_WEBHOOKS: _("Register its webhooks on the platform"),
    Capability.SEND_MESSAGE: _("Send replies"),
    Capability.DECIDE_RETURN: _("Decide returns"),
    Capability.ISSUE_REFUND: _("Issue refunds"),
    Capability.MARK_SHIPPED: _("Mark orders shipped"),
    Capability.TEST_CONNECTION: _("Test the connection"),
    Capability.FETCH_RETURN_LABEL: _("Fetch the platform's return label"),
    Capability.CLOSE_TICKET: _("Close the platform's tickets"),
}
ATTENTION_WRITEBACKS = (WriteBackStatus.FAILED, WriteBackStatus.UNKNOWN)
# How far back a backfill may start: two years, or less where the platform keeps less.
MAX_BACKFILL_DAYS = 730
# Shopify returns only the last 60 days of orders without the read_all_orders scope.
PLATFORM_BACKFILL_DAYS = {"shopify": 60}


def backfill_limit_days(platform: str) -> int:
    """How many days back a backfill of this platform may start (a connector may declare
    `backfill_days`; never more than two years)."""
    try:
        declared = getattr(get_connector(platform), "backfill_days", None)
    except ConnectorError:
        declared = None
    if isinstance(declared, int) and declared > 0:
        return min(declared, MAX_BACKFILL_DAYS)
    return min(PLATFORM_BACKFILL_DAYS.get(platform, MAX_BACKFILL_DAYS), MAX_BACKFILL_DAYS)


def earliest_backfill_day(platform: str, *, today: date | None = None) -> date:
    return (today or now().astimezone(UTC).date()) - timedelta(days=backfill_limit_days(platform))


def connection_check_key(store: Store) -> str:
    """Where the last "test connection" result of a store is noted (the cache: nothing else is
    stored). The store's creation time is part of the key: a reused id never shows another note."""
    created = int(store.created_at.timestamp() * 1_000_000) if store.created_at else 0
    return f"channels:connection-check:{store.pk}:{created}"


def webhook_subscriptions_key(store: Store) -> str:
    """Where the last "register webhooks" result of a store is noted (like connection_check_key)."""
    created = int(store.created_at.timestamp() * 1_000_000) if store.created_at else 0
    return f"channels:webhook-subscriptions:{store.pk}:{created}"


@dataclass(frozen=True)
class WebhookSubscriptionResult:
    ok: bool
    detail: str
    callback_url: str
    created: tuple[str, ...]
    existing: tuple[str, ...]
    removed: tuple[str, ...]
    checked_at: datetime


@dataclass(frozen=True)
class ConnectionTestResult:
    ok: bool
    detail: str
    checked_at: datetime


MAX_PER_PAGE = 100


@dataclass(frozen=True)
class CapabilityRow:
    capability: str
    label: str | Promise
    supported: bool
    note: str  # why a platform does not offer it, when the connector says


@dataclass(frozen=True)
class StoreConnection:
    """A store's page: its connector, credentials (secrets only as set / not set), sync state."""

    store: Store
    has_connector: bool
    has_schema: bool
    capabilities: list[CapabilityRow]
    credentials: list[CredentialState]
    credentials_set: bool
    paused: bool
    paused_reason: str
    paused_at: datetime | None
    paused_by: str
    last_error: str
    last_error_at: datetime | None
    last_success_at: datetime | None
    webhook_path: str  # "" when the connector takes no pushes (or the hooks are not installed)
    streams: list[StreamStatus]
    quarantined: int
    connection_check: ConnectionTestResult | None
    webhook_subscriptions: WebhookSubscriptionResult | None
    earliest_backfill: date
    backfill_days: int
    has_templates: bool = False  # the connector lists message templates (WhatsApp)
    message_templates: list[Any] = field(default_factory=list)  # channels.models.MessageTemplate rows

    def supports(self, capability: str) -> bool:
        return any(row.capability == capability and row.supported for row in self.capabilities)


def _store(user: Any, store_id: int) -> Store:
    check_perm(user, Permission.ADMINISTER)
    store = Store.objects.filter(pk=store_id, organization_id=organization_of(user)).first()
    if store is None:
        raise NotFound(str(_("store not found")), field="store_id")
    return store


def webhook_path(platform: str, token: str) -> str:
    try:
        return reverse("hooks:webhook", kwargs={"platform": platform, "token": token})
    except NoReverseMatch:
        return ""


def store_connection(user: Any, store_id: int) -> StoreConnection:
    """Everything the store page (and GET /stores/{id}/sync) shows about a store's connection."""
    store = _store(user, store_id)
    try:
        connector = get_connector(store.platform)
    except ConnectorError:
        connector = None
    declared = frozenset(connector.capabilities) if connector else frozenset()
    not_offered = getattr(connector, "not_offered", None) or {}
    capabilities = [
        CapabilityRow(str(cap), CAPABILITY_LABELS.get(cap, str(cap)), cap in declared, str(not_offered.get(cap, "")))
        for cap in Capability
    ]
    # The store's sync row is created on first sight (like the engine does): it holds the store's
    # webhook token, which the page shows.
    sync, _created = StoreSync.objects.get_or_create(store=store)
    streams = store_streams_status(store) if connector else []
    stored = store.credentials or {}
    takes_pushes = Capability.WEBHOOKS in declared or callable(getattr(connector, "verify_webhook", None))
    return StoreConnection(
        store=store,
        has_connector=connector is not None,
        has_schema=credential_fields(store.platform) is not None,
        capabilities=capabilities,
        credentials=credentials_state(
            store.platform,
            stored,
            app_supplied=()
            if uses_own_app(store.platform, stored)
            else app_supplied_fields(store.organization_id, store.platform),
        ),
        credentials_set=bool(stored),
        paused=sync.paused,
        paused_reason=sync.paused_reason,
        paused_at=sync.paused_at,
        paused_by=sync.paused_by,
        last_error=sync.last_error,
        last_error_at=sync.last_error_at,
        last_success_at=sync.last_success_at,
        webhook_path=webhook_path(store.platform, sync.webhook_token) if takes_pushes else "",
        streams=streams,
        quarantined=RawEvent.objects.filter(store=store, status=RawEventStatus.QUARANTINED).count(),
        connection_check=cache.get(connection_check_key(store)),
        webhook_subscriptions=cache.get(webhook_subscriptions_key(store)),
        earliest_backfill=earliest_backfill_day(store.platform),
        backfill_days=backfill_limit_days(store.platform),
        has_templates=connector is not None and hasattr(connector, "list_templates"),
        message_templates=list(MessageTemplate.objects.filter(store=store)),
    )


@dataclass(frozen=True)
class MailboxOAuth:
    """An OAuth mailbox's sign-in, for its store page (no secret shown)."""

    provider: str
    connected: bool
    expires_at: str
    authorize_origin: str  # where "Connect" sends the browser (the page's CSP form-action allows it)


def mailbox_oauth_status(store: Store) -> MailboxOAuth | None:
    """None unless the store is a mailbox that signs in with OAuth."""
    if store.platform != "email":
        return None
    creds = store.credentials or {}
    if creds.get("auth") != "oauth2":
        return None
    provider = str(creds.get("oauth_provider") or "")
    authorize = {
        "google": "https://accounts.google.com",
        "microsoft": "https://login.microsoftonline.com",
    }.get(provider, str(creds.get("oauth_authorize_url") or ""))
    parts = urlsplit(authorize)
    return MailboxOAuth(
        provider=provider,
        connected=bool(creds.get("oauth_refresh_token")),
        expires_at=str(creds.get("oauth_access_token_expires_at") or ""),
        authorize_origin=f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "",
    )


def quarantined_records(user: Any, store_id: int) -> QuerySet[RawEvent]:
    """The store's quarantined records, newest first (the payload is deferred: list pages show the
    reason and field; one record's payload is read with quarantined_record)."""
    store = _store(user, store_id)
    return (
        RawEvent.objects.filter(store=store, status=RawEventStatus.QUARANTINED)
        .defer("raw")
        .order_by("-received_at", "-pk")
    )


def quarantined_record(user: Any, raw_event_id: int) -> RawEvent:
    check_perm(user, Permission.ADMINISTER)
    row = (
        RawEvent.objects.select_related("store")
        .defer("store__credentials", "raw")
        .filter(pk=raw_event_id, store__organization_id=organization_of(user), status=RawEventStatus.QUARANTINED)
        .first()
    )
    if row is None:
        raise NotFound(str(_("no such quarantined record")), field="raw_event_id")
    return row


@dataclass(frozen=True)
class QuarantineCount:
    store_id: int
    store_name: str
    platform: str
    count: int
    latest: datetime | None


@dataclass(frozen=True)
class WriteBackRow:
    """A write-back that failed or whose outcome is unknown."""

    id: int
    store_id: int
    store_name: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    detail: str
    attempts: int
    updated_at: datetime
    ticket_id: int | None


@dataclass(frozen=True)
class Attention:
    """What needs a human in the organization: paused stores (with the platform's words),
    quarantined records per store, write-backs that failed or whose outcome is unknown."""

    paused: list[StoreSync]
    quarantined: list[QuarantineCount]
    writebacks: list[WriteBackRow]

    @property
    def total(self) -> int:
        return len(self.paused) + sum(q.count for q in self.quarantined) + len(self.writebacks)


def attention_list(user: Any, *, limit: int = 200) -> Attention:
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    paused = list(
        StoreSync.objects.filter(store__organization_id=organization_id, paused=True)
        .select_related("store")
        .defer("store__credentials")
        .order_by("-paused_at", "pk")[:limit]
    )
    counts = (
        RawEvent.objects.filter(store__organization_id=organization_id, status=RawEventStatus.QUARANTINED)
        .values("store_id", "store__name", "store__platform")
        .annotate(count=Count("pk"), latest=Max("received_at"))
        .order_by("store__name", "store_id")
    )
    quarantined = [
        QuarantineCount(c["store_id"], c["store__name"], c["store__platform"], c["count"], c["latest"]) for c in counts
    ]
    writebacks = list(
        WriteBack.objects.filter(organization_id=organization_id, status__in=ATTENTION_WRITEBACKS)
        .select_related("store")
        .defer("store__credentials")
        .order_by("-updated_at", "-pk")[:limit]
    )
    return Attention(paused=paused, quarantined=quarantined, writebacks=[_writeback_row(w) for w in writebacks])


def _writeback_row(w: WriteBack) -> WriteBackRow:
    ticket_id = w.request.get("ticket_id") if isinstance(w.request, dict) else None
    return WriteBackRow(
        id=w.pk,
        store_id=w.store_id,
        store_name=w.store.name,
        kind=w.kind,
        kind_label=w.get_kind_display(),
        status=w.status,
        status_label=w.get_status_display(),
        detail=w.detail,
        attempts=w.attempts,
        updated_at=w.updated_at,
        # the ticket it was for, when its request names one (the list links to it)
        ticket_id=ticket_id if isinstance(ticket_id, int) and 0 < ticket_id < 2**63 else None,
    )


def attention_count(user: Any) -> int:
    """The settings nav's badge: 0 for anyone who may not administer."""
    if not has_perm(user, Permission.ADMINISTER) or not getattr(user, "organization_id", None):
        return 0
    organization_id = user.organization_id
    return (
        StoreSync.objects.filter(store__organization_id=organization_id, paused=True).count()
        + RawEvent.objects.filter(store__organization_id=organization_id, status=RawEventStatus.QUARANTINED).count()
        + WriteBack.objects.filter(organization_id=organization_id, status__in=ATTENTION_WRITEBACKS).count()
    )


__all__ = [
    "Attention",
    "CapabilityRow",
    "QuarantineCount",
    "StoreConnection",
    "WriteBackRow",
    "attention_count",
    "attention_list",
    "quarantined_record",
    "quarantined_records",
    "store_connection",
]


def message_templates_of_store(store_id: int) -> list[MessageTemplate]:
    """The store's approved message templates as last synced (for the reply box's picker)."""
    return list(MessageTemplate.objects.filter(store_id=store_id))
