from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

from aftersales.accounts.models import User

from .models import Notification, OutboxMessage


def notifications_for(user: User, *, unread_only: bool = False, limit: int = 50) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.select_related("ticket").order_by("-created_at", "-id")[:limit]


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def outbox_for_sources(sources: Sequence[str]) -> dict[str, list[OutboxMessage]]:
    """The outbox rows asked for by each source (e.g. the rules' execution log), oldest first."""
    out: dict[str, list[OutboxMessage]] = {}
    for message in OutboxMessage.objects.filter(source__in=list(sources)).order_by("pk"):
        out.setdefault(message.source, []).append(message)
    return out
