"""What the sync engine keeps per store: cursors, runs, the raw record store, the write-back ledger
and the database rate-limiter buckets.

- `StoreSync`: one per store: paused (with the platform's message), last error / success, the
  webhook token.
- `StreamCursor`: the resumable checkpoint of one (store, stream, key): the cursor a connector
  returned with the last page whose records were all stored; `claimed_by` / `locked_until` make one
  worker at a time run a stream.
- `SyncRun`: the bookkeeping of one run (pages, created / updated / unchanged / quarantined...).
- `RawEvent`: every received record, stored before it is processed, unique per (store, event id).
- `WriteBack`: the ledger of calls that change a platform (send, decide, refund, mark shipped),
  written before the call so that nothing is ever sent twice.
- `RateBucket`: a token bucket per (store, bucket) when Redis is not configured."""

from __future__ import annotations

import secrets

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.crypto import EncryptedJSONField
from aftersales.core.models import TimeStampedModel

from .base import Stream


def new_webhook_token() -> str:
    return secrets.token_urlsafe(24)


class StoreSync(TimeStampedModel):
    """The sync state of one store. A permanent platform error (revoked token, bad credentials)
    pauses it with the platform's words in `paused_reason` until a human resumes it."""

    store = models.OneToOneField("catalog.Store", on_delete=models.CASCADE, related_name="sync")
    paused = models.BooleanField(default=False)
    paused_reason = models.TextField(blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.CharField(max_length=80, blank=True, help_text="Actor kind:id who paused it")
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token)
    # A push-only store (WhatsApp, Messenger): when Meta last verified its webhook address (the
    # subscription handshake answered); kept here so every process and a restart see it.
    push_verified_at = models.DateTimeField(null=True, blank=True)
    # The access scopes the platform granted our app (Shopify: channels/scopes.py), as last read
    # after an install and on each orders sync; None = never read.
    granted_scopes = models.JSONField(null=True, blank=True)
    scopes_checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"sync of store {self.store_id}"


class StreamCursor(TimeStampedModel):
    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="stream_cursors")
    stream = models.CharField(max_length=20, choices=[(s.value, s.value) for s in Stream])
    key = models.CharField(max_length=200, blank=True, default="", help_text="A sub-stream, e.g. an IMAP folder")
    cursor = models.TextField(blank=True, default="", help_text="Opaque: as the connector returned it")
    high_watermark = models.DateTimeField(null=True, blank=True)
    backfill_since = models.DateTimeField(
        null=True, blank=True, help_text="Set by a backfill: the next run starts from this date"
    )
    claimed_by = models.CharField(max_length=120, blank=True, default="")
    locked_until = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "stream", "key"], name="streamcursor_unique")]


class SyncRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    PARTIAL = "partial", _("Stopped early")  # max_pages reached, or the stream is not caught up
    FAILED = "failed", _("Failed")
    PAUSED = "paused", _("Store paused")
    SKIPPED = "skipped", _("Skipped")  # another worker holds the stream, or the store is paused


class SyncRun(models.Model):
    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="sync_runs")
    stream = models.CharField(max_length=20)
    key = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=10, choices=SyncRunStatus.choices, default=SyncRunStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    records = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    ignored = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0, help_text="Failed platform calls (retried or not)")
    error = models.TextField(blank=True)
    cursor_before = models.TextField(blank=True, default="")
    cursor_after = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["store", "stream", "-started_at"], name="syncrun_store_stream")]


class RawEventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    QUARANTINED = "quarantined", _("Quarantined")
    IGNORED = "ignored", _("Ignored")


class RawEvent(models.Model):
    """A record as received, stored before it is processed (raw first: nothing is lost if the
    worker dies; the same event id twice is a no-op). A record that cannot be mapped stays here,
    quarantined with its reason and field, until retried after a fix."""

    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="raw_events", db_index=False)
    stream = models.CharField(max_length=20)
    source = models.CharField(max_length=20, blank=True, help_text="pull, webhook, imap, import...")
    event_id = models.CharField(max_length=300)
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    raw = models.BinaryField(blank=True, default=b"")
    status = models.CharField(max_length=12, choices=RawEventStatus.choices, default=RawEventStatus.RECEIVED)
    action = models.CharField(max_length=20, blank=True, help_text="The outcome of processing")
    reason = models.TextField(blank=True)
    field = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    ticket_id = models.BigIntegerField(null=True, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "event_id"], name="rawevent_unique_event")]
        indexes = [
            models.Index(
                fields=["store", "-received_at"],
                condition=Q(status="quarantined"),
                name="rawevent_quarantined",
            ),
            models.Index(fields=["store", "status"], name="rawevent_store_status"),
            # retention (channels/retention.py): the oldest processed or ignored records first
            models.Index(
                fields=["processed_at"],
                condition=Q(status__in=["processed", "ignored"]),
                name="rawevent_prunable",
            ),
        ]


class WriteBackKind(models.TextChoices):
    SEND_MESSAGE = "send_message", _("Send a message")
    DECIDE_RETURN = "decide_return", _("Decide a return")
    ISSUE_REFUND = "issue_refund", _("Issue a refund")
    MARK_SHIPPED = "mark_shipped", _("Mark shipped")
    CLOSE_TICKET = "close_ticket", _("Close the platform's ticket")
    ESCALATE = "escalate", _("Escalate to the platform's support")
    UPLOAD_EVIDENCE = "upload_evidence", _("Send evidence to the platform")


class WriteBackStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Outcome unknown")  # a worker died mid-call: a human checks, never resent


class WriteBack(TimeStampedModel):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="writebacks", db_index=False)
    kind = models.CharField(max_length=20, choices=WriteBackKind.choices)
    idempotency_key = models.CharField(max_length=200)
    request = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=WriteBackStatus.choices, default=WriteBackStatus.PENDING)
    external_id = models.CharField(max_length=200, blank=True)
    response = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    detail = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    actor_kind = models.CharField(max_length=10, blank=True)
    actor_ref = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "idempotency_key"], name="writeback_unique_key"),
        ]
        indexes = [models.Index(fields=["status", "started_at"], name="writeback_status")]


class RateBucket(models.Model):
    """A token bucket of the database limiter (used when REDIS_URL is not set)."""

    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="+", db_index=False)
    bucket = models.CharField(max_length=60)
    tokens = models.FloatField()
    updated = models.FloatField(help_text="time.time() of the last refill")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "bucket"], name="ratebucket_unique")]


class MessageTemplate(models.Model):
    """A platform's approved message template of a store (WhatsApp: sendable outside the 24-hour
    window), as last synced from the platform (store_sync.store_templates_sync). `body` is the BODY
    component's text with its {{1}}... placeholders; `variables` how many of them must be filled."""

    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="message_templates")
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=20)
    category = models.CharField(max_length=40, blank=True)
    body = models.TextField(blank=True)
    variables = models.PositiveSmallIntegerField(default=0)
    # HEADER component: "" (none), TEXT (header_text, with header_variables {{1}}), IMAGE, VIDEO or
    # DOCUMENT (a media link given when sending). BUTTONS: [{"type": "URL" | "QUICK_REPLY" | ...,
    # "text", "url", "variables": 0 or 1}] in the template's order (a URL's {{1}} is its dynamic suffix).
    header_format = models.CharField(max_length=12, blank=True, default="")
    header_text = models.CharField(max_length=200, blank=True, default="")
    header_variables = models.PositiveSmallIntegerField(default=0)
    buttons = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, default="APPROVED")
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["store", "name", "language"], name="messagetemplate_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def variable_positions(self) -> range:
        """1..n, the {{i}} placeholders to fill (the reply box's inputs)."""
        return range(1, self.variables + 1)


class StoreAuthorization(models.Model):
    """One "Connect" an admin started for a store: the platform's consent page gets a signed `state`
    naming this row (channels/authorization.py). Single use (`used_at` is set by a conditional
    UPDATE: a replayed callback finds it spent), expiring, bound to who started it and where: the
    admin's session (`binding` = a hash of its key) or the API token that asked. `outcome` and
    `detail` say how it ended; the last "connected" one is the store's connection on its page."""

    nonce = models.CharField(max_length=64, unique=True)
    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="authorizations")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=20)
    binding = models.CharField(max_length=80)
    redirect_uri = models.CharField(max_length=500)
    shop = models.CharField(max_length=255, blank=True, default="")  # Shopify: the shop the admin named
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True, default="")  # connected | refused
    detail = models.CharField(max_length=500, blank=True, default="")  # the shop's name, or why not

    class Meta:
        indexes = [models.Index(fields=["store", "-created_at"], name="storeauth_store_created")]

    def __str__(self) -> str:
        return f"authorization of store {self.store_id} ({self.outcome or 'pending'})"


class WorkerLease(models.Model):
    """A named lease that one process holds at a time, e.g. `mail-watch:<store id>`: the IMAP
    watcher of a mailbox (channels/mailwatch.py). Taken when free, expired or already ours with a
    conditional UPDATE, renewed by its holder well before `expires_at`, released on a clean exit; a
    holder that died loses it when it expires."""

    name = models.CharField(max_length=200, unique=True)
    holder = models.CharField(max_length=120, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    acquired_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"lease {self.name} ({self.holder or 'free'})"


class MarketplaceApp(TimeStampedModel):
    """The organization's developer app on one platform (channels/marketplace_apps.py): the keys a
    seller registers once in the platform's developer console (Shopify client id/secret, eBay App
    ID/Cert ID/RuName, Amazon LWA client + app id, Shopee partner id/key, TikTok/AliExpress app
    key/secret, Wish client id/secret, Meta's app secret for WhatsApp and Messenger), which every
    store of that platform connects through. `credentials` is encrypted like a store's and its
    secrets are never shown again (set / fingerprint). `platform` is the app's platform: "meta"
    serves the whatsapp and facebook stores."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=20)
    environment = models.CharField(max_length=10, default="production")  # production | sandbox
    credentials = EncryptedJSONField(blank=True, default=dict)
    rotated_at = models.DateTimeField(null=True, blank=True)  # when a secret last changed
    updated_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "platform"], name="marketplaceapp_unique_platform")
        ]

    def __str__(self) -> str:
        return f"{self.platform} app of organization {self.organization_id}"
