"""In-app notifications for agents, mirrored by e-mail through the worker."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.crypto import EncryptedJSONField


class NotificationKind(models.TextChoices):
    MENTION = "mention", _("Mentioned in a note")
    ASSIGNED = "assigned", _("Ticket assigned to you")
    REMINDER = "reminder", _("Tickets waiting for you")


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    ticket = models.ForeignKey(
        "inbox.Ticket", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    text = models.CharField(max_length=500)
    # Unique per (user, key): makes creating a notification idempotent (a retried task adds nothing).
    dedupe_key = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_unique_key"),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], condition=Q(read_at__isnull=True), name="notif_unread"),
        ]


class OutboxKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """One outbound message (an e-mail to one recipient, one webhook call) waiting to go, sent, or
    given up on. UNIQUE dedupe_key: whoever asks for it twice (a retried task) gets the same row, and a
    row marked sent is never sent again. Claimed by a conditional update of `locked_until`
    (notifications.outbox)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=OutboxKind.choices)
    dedupe_key = models.CharField(max_length=200, unique=True)
    # Who asked for it, for their log: e.g. "rule_execution:42" (the rules engine's execution row).
    source = models.CharField(max_length=80, db_index=True)
    recipient = models.CharField(max_length=2000, help_text="E-mail address or webhook URL")
    payload = models.JSONField(
        default=dict, encoder=DjangoJSONEncoder, help_text="e-mail: subject, body; webhook: the JSON body"
    )
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_pending_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.dedupe_key}"


class WebhookSigningKey(models.Model):
    """An organization's secret for signing its webhooks (HMAC-SHA256), encrypted at rest."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    secret = EncryptedJSONField()
    rotated_at = models.DateTimeField(auto_now=True)
