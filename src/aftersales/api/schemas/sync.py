"""A store's connection (capabilities, credentials as set / not set, sync state per stream), its
quarantined records and the organization's "needs a human" list."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema

from aftersales.channels.base import Stream

from .common import Day, InputSchema


class CapabilityOut(Schema):
    capability: str
    label: str
    supported: bool
    note: str = Field(..., description="Why the platform does not offer it, when the connector says")


class CredentialFieldOut(Schema):
    name: str
    label: str
    kind: str = Field(..., description="text, url, int, bool, email, host, choice, list or signing_key")
    secret: bool = Field(..., description="Write-only: never returned, only whether it is set")
    required: bool
    help: str
    choices: list[str]
    is_set: bool
    value: Any = Field(None, description="The stored value of a field that is not secret; null for a secret")


class SyncRunOut(Schema):
    id: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int
    pages: int
    records: int
    created: int
    updated: int
    unchanged: int
    duplicates: int
    ignored: int
    quarantined: int
    errors: int
    error: str


class StreamOut(Schema):
    stream: str
    key: str = Field(..., description="A sub-stream, e.g. an IMAP folder; empty for the whole stream")
    cursor: str = Field(..., description="Where the next run goes on, as the connector keeps it")
    running: bool
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    backfill_since: datetime | None = Field(..., description="Set by a backfill: the next run starts here")
    last_run: SyncRunOut | None


class ConnectionCheckOut(Schema):
    ok: bool
    detail: str = Field(..., description="What the platform answered")
    checked_at: datetime


class WebhookSubscriptionsOut(Schema):
    ok: bool
    detail: str = Field(..., description="The platform's words when it refused")
    callback_url: str = Field(..., description="The address registered (SITE_URL + the store's webhook path)")
    created: list[str] = Field(..., description="Topics subscribed by this call (the platform's names)")
    existing: list[str] = Field(..., description="Topics that were already subscribed")
    removed: list[str] = Field(..., description="Our subscriptions for topics no longer wanted, deleted")
    checked_at: datetime


class StoreSyncOut(Schema):
    store_id: int
    platform: str
    has_connector: bool = Field(..., description="false: no connector for this platform is installed yet")
    capabilities: list[CapabilityOut]
    credentials_set: bool
    credential_fields: list[CredentialFieldOut] = Field(
        ..., description="The platform's credentials schema with what is stored (empty: no schema yet)"
    )
    paused: bool
    paused_reason: str = Field(..., description="The platform's message (or the admin's reason)")
    paused_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    last_success_at: datetime | None
    webhook_url: str = Field(..., description="Paste it into the platform's webhook settings; empty: no pushes")
    streams: list[StreamOut]
    quarantined: int
    last_connection_check: ConnectionCheckOut | None
    earliest_backfill: date


class PauseIn(InputSchema):
    reason: str = Field("", max_length=1000, description="Shown on the store page and in the attention list")


class BackfillIn(InputSchema):
    since: Day = Field(..., description="Read again from this day (UTC); not in the future, at most two years back")
    stream: Stream | None = Field(None, description="One stream; all the connector pulls by default")


class RunIn(InputSchema):
    stream: Stream | None = Field(None, description="One stream; all the connector pulls by default")


class BackfillOut(Schema):
    streams: int = Field(..., description="How many streams will start again from `since` on their next run")


class RunOut(Schema):
    queued: list[str] = Field(..., description="The streams queued for a sync now")


class QuarantinedOut(Schema):
    id: int
    store_id: int
    stream: str
    source: str
    event_id: str
    reason: str
    field: str = Field(..., description="The offending field as the platform spells it, when known")
    attempts: int
    received_at: datetime
    payload: Any = Field(..., description="The record as received")


class QuarantinePageOut(Schema):
    items: list[QuarantinedOut]
    total: int


class QuarantinePageQuery(Schema):
    limit: int = Field(50, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


class RetryOut(Schema):
    event_id: str
    action: str = Field(..., description="quarantined again, or what processing did (created, thread, ...)")
    reason: str
    ticket_id: int | None


class PausedStoreOut(Schema):
    store_id: int
    store_name: str
    platform: str
    reason: str
    paused_at: datetime | None


class QuarantineCountOut(Schema):
    store_id: int
    store_name: str
    platform: str
    count: int
    latest: datetime | None


class WriteBackOut(Schema):
    id: int
    store_id: int
    store_name: str
    kind: str
    ticket_id: int | None = Field(..., description="The ticket it was for, when known")
    status: str = Field(..., description="failed, or unknown (a worker died mid-call: check on the platform)")
    detail: str
    attempts: int
    updated_at: datetime


class AttentionOut(Schema):
    total: int
    paused_stores: list[PausedStoreOut]
    quarantined: list[QuarantineCountOut]
    writebacks: list[WriteBackOut]


class MessageTemplateOut(Schema):
    id: int
    name: str
    language: str
    category: str
    body: str = Field(..., description="The BODY text with its {{1}}, {{2}}... placeholders")
    variables: int = Field(..., description="How many placeholders a send must fill, in order")
    status: str
    synced_at: datetime
