"""Tickets, messages, attachments, notes, mentions and the ticket audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.catalog.models import CustomerTier, Platform
from aftersales.core.actors import Actor, ActorKind
from aftersales.core.models import TimeStampedModel

from .search import SearchDocumentField
from .workflow import StatusCategory, TicketCategory, TicketStatus, Urgency


class Tag(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=60)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="tag_unique_name")]

    def __str__(self) -> str:
        return self.name


class CategoryLabel(models.Model):
    """An organization's own wording for a fixed ticket category."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="category_labels")
    category = models.CharField(max_length=30, choices=TicketCategory.choices)
    label_en = models.CharField(max_length=80)
    label_zh_hans = models.CharField(max_length=80, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "category"], name="category_label_unique"),
        ]


class Ticket(TimeStampedModel):
    # The foreign keys marked db_index=False are the first column of a composite index below, which
    # serves their lookups; a second index would only cost writes and planning time (ADR 0003).
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="tickets", db_index=False
    )
    subject = models.CharField(max_length=300)
    store = models.ForeignKey("catalog.Store", on_delete=models.PROTECT, related_name="tickets", db_index=False)
    # Denormalised from store / customer / order so that inbox filters hit one table and its indexes.
    platform = models.CharField(max_length=20, choices=Platform.choices)
    customer = models.ForeignKey("catalog.Customer", on_delete=models.PROTECT, related_name="tickets", db_index=False)
    customer_tier = models.CharField(max_length=10, choices=CustomerTier.choices, default=CustomerTier.NEW)
    order = models.ForeignKey("catalog.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets")
    sku_category = models.CharField(max_length=30, blank=True)
    conversation_id = models.CharField(
        max_length=200, blank=True, help_text="The platform's thread / conversation id, for threading"
    )
    category = models.CharField(max_length=30, choices=TicketCategory.choices, default=TicketCategory.OTHER)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.MEDIUM)
    status = models.CharField(max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW)
    status_category = models.CharField(max_length=10, choices=StatusCategory.choices, default=StatusCategory.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        db_index=False,
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets", db_index=False
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    language = models.CharField(max_length=10, blank=True, help_text="The customer's language on this ticket")
    is_high_priority = models.BooleanField(default=False)
    is_unreplied = models.BooleanField(default=True, help_text="The last customer message has no agent reply after it")
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_tickets"
    )
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The inbox's default listing and its most used filters; see docs/adr/0003-inbox-indexes.md.
            models.Index(fields=["organization", "-updated_at", "-id"], name="ticket_org_updated"),
            models.Index(fields=["organization", "status", "-updated_at"], name="ticket_org_status"),
            models.Index(fields=["organization", "status_category", "-updated_at"], name="ticket_org_statcat"),
            models.Index(fields=["organization", "platform", "-updated_at"], name="ticket_org_platform"),
            models.Index(fields=["organization", "store", "-updated_at"], name="ticket_org_store"),
            models.Index(fields=["organization", "language", "-updated_at"], name="ticket_org_language"),
            models.Index(fields=["organization", "category", "-updated_at"], name="ticket_org_category"),
            models.Index(fields=["organization", "urgency", "-updated_at"], name="ticket_org_urgency"),
            models.Index(fields=["organization", "customer_tier", "-updated_at"], name="ticket_org_tier"),
            models.Index(fields=["assignee", "-updated_at"], name="ticket_assignee"),
            models.Index(fields=["team", "-updated_at"], name="ticket_team"),
            models.Index(fields=["organization", "-created_at"], name="ticket_org_created"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer"),
            models.Index(fields=["store", "conversation_id"], name="ticket_conversation"),
            models.Index(
                fields=["organization", "-updated_at"],
                condition=Q(is_unreplied=True),
                name="ticket_org_unreplied",
            ),
            models.Index(
                fields=["organization", "-updated_at"],
                condition=Q(is_high_priority=True),
                name="ticket_org_priority",
            ),
            # PostgreSQL-only, created by migration 0002 (SQLite cannot build them): ticket_org_last_customer
            # (organization, last_customer_message_at DESC NULLS LAST, id DESC) for that sort, and
            # ticket_subject_trgm (trigram GIN on UPPER(subject)) for search.
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class TicketSearch(models.Model):
    """The ticket's free-text search document (subject, customer, messages, translations), kept
    up to date by `services.search.ticket_search_refresh` in the same transaction as the change.
    See search.py for the tokens and docs/adr/0012-ticket-search.md for the design."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="search")
    document = SearchDocumentField()
    # PostgreSQL-only GIN index on `document`, created by migration 0006 (SQLite has no GIN).


class MessageDirection(models.TextChoices):
    INBOUND = "inbound", _("From customer")
    OUTBOUND = "outbound", _("To customer")
    NOTE = "note", _("Internal note")


class DeliveryStatus(models.TextChoices):
    NOT_APPLICABLE = "n/a", _("Not applicable")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    store = models.ForeignKey("catalog.Store", on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=10, choices=MessageDirection.choices)
    channel = models.CharField(max_length=20, choices=Platform.choices)
    external_id = models.CharField(max_length=200, null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    author_name = models.CharField(max_length=200, blank=True)
    body = models.TextField(help_text="The original text, as written")
    body_html = models.TextField(blank=True, help_text="Sanitised HTML of the original, when it had any")
    body_display = models.TextField(
        blank=True,
        default="",
        help_text="E-mail: the body without quoted history and signature (empty: the same as body)",
    )
    language = models.CharField(max_length=10, blank=True, help_text="Detected language of the body")
    # Filled by the language engine: {"zh-hans": {"text": ..., "provider": ..., ...}, ...}
    translations = models.JSONField(default=dict, blank=True)
    delivery_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.NOT_APPLICABLE
    )
    delivery_error = models.TextField(blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    idempotency_key = models.CharField(max_length=120, null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the platform says it was written")
    # Receipts of a sent reply (WhatsApp/Messenger delivered/read statuses): set once, never cleared, so a
    # late or replayed status cannot move a reply backwards (services/delivery.py message_record_receipt).
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="When the platform says it was delivered")
    read_at = models.DateTimeField(null=True, blank=True, help_text="When the platform says the customer read it")
    # A reply sent as an approved platform template: {"name", "language", "variables": [...]} (body = rendered)
    template = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["ticket", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="message_unique_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_created"),
            # The inbox's "delivery failed" filter and badge: few rows, so a small partial index.
            models.Index(
                fields=["ticket"], condition=Q(delivery_status=DeliveryStatus.FAILED), name="message_delivery_failed"
            ),
        ]

    @property
    def receipt(self) -> str:
        """The furthest receipt the platform has reported: "read", "delivered" or "" (none yet)."""
        if self.read_at is not None:
            return "read"
        return "delivered" if self.delivered_at is not None else ""


class Mention(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="mention_unique")]


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)


class TicketEventType(models.TextChoices):
    CREATED = "created", _("Created")
    MESSAGE_RECEIVED = "message_received", _("Message received")
    REPLIED = "replied", _("Replied")
    REPLY_SENT = "reply_sent", _("Reply delivered")
    REPLY_FAILED = "reply_failed", _("Reply failed")
    NOTE_ADDED = "note_added", _("Note added")
    STATUS_CHANGED = "status_changed", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    TEAM_CHANGED = "team_changed", _("Team changed")
    CATEGORY_CHANGED = "category_changed", _("Category changed")
    URGENCY_CHANGED = "urgency_changed", _("Urgency changed")
    SUBJECT_CHANGED = "subject_changed", _("Subject changed")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    TAGS_CHANGED = "tags_changed", _("Tags changed")
    MERGED = "merged", _("Merged")
    MERGED_FROM = "merged_from", _("Merged from another ticket")
    LANGUAGE_DETECTED = "language_detected", _("Language detected")
    REPLY_RETRIED = "reply_retried", _("Reply sent again")
    # A marketplace return / refund request / case linked to the ticket (returns.services): received,
    # and each change of its status on the platform, in the platform's words.
    RETURN_REQUEST_RECEIVED = "return_request_received", _("Marketplace return received")
    RETURN_REQUEST_STATUS_CHANGED = "return_request_status_changed", _("Marketplace return status changed")
    ORDER_LINKED = "order_linked", _("Order linked")
    # Routing by skill ran and changed nothing (no team admits the ticket, or the team and agent it
    # chose are the ones the ticket already has): the decision and why, so the timeline tells it.
    ROUTED_UNCHANGED = "routed_unchanged", _("Routing changed nothing")


class TicketEvent(models.Model):
    """Audit trail of every change to a ticket: who (actor kind and id), what, old/new, when.

    `actor` is the user when a user acted (kept as a foreign key for joins and for the timeline);
    `actor_kind` / `actor_ref` say who acted in every case: a user, the customer, a connector, a
    rule or the system (core.actors)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=30, choices=TicketEventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()
    actor_kind = models.CharField(
        max_length=10, choices=ActorKind.choices, default=ActorKind.SYSTEM, db_default=ActorKind.SYSTEM
    )
    actor_ref = models.CharField(
        max_length=64, blank=True, default="", db_default="", help_text="The actor's id within its kind"
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="ticketevent_ticket_at")]

    @property
    def actor_value(self) -> Actor:
        return Actor(self.actor_kind, self.actor_ref)


class SavedView(TimeStampedModel):
    """A user's named inbox filter set."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    filters = models.JSONField(default=dict)
    sort = models.CharField(max_length=30, default="-updated_at")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="savedview_unique_name")]
