from __future__ import annotations

from django.db.models import QuerySet

from aftersales.accounts.models import User

from .models import Notification


def notifications_for(user: User, *, unread_only: bool = False, limit: int = 50) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.select_related("ticket").order_by("-created_at", "-id")[:limit]


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
