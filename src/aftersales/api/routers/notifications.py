"""The signed-in user's notifications (mentions, assignments, reminders)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from aftersales.notifications.selectors import notifications_for, unread_count
from aftersales.notifications.services import notification_mark_read

from ..auth import current_user
from ..schemas.accounts import MarkReadIn, MarkReadOut, NotificationListOut
from ..schemas.common import with_errors

router = Router(tags=["notifications"])


@router.get("/notifications", response=with_errors({200: NotificationListOut}))
def list_notifications(
    request: HttpRequest, unread_only: bool = False, limit: int = Query(50, ge=1, le=100)
) -> dict[str, Any]:
    """Your notifications, newest first, with the number still unread."""
    user = current_user(request)
    return {"items": notifications_for(user, unread_only=unread_only, limit=limit), "unread_count": unread_count(user)}


@router.post("/notifications/read", response=with_errors({200: MarkReadOut}))
def mark_notifications_read(request: HttpRequest, payload: MarkReadIn | None = None) -> dict[str, int]:
    """Mark notifications read: those in `ids`, or all of them when `ids` is omitted."""
    ids = payload.ids if payload is not None else None
    return {"marked": notification_mark_read(user=current_user(request), ids=ids)}
