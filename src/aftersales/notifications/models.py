"""In-app notifications for agents, mirrored by e-mail through the worker."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


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
