"""Saved inbox views: a user's named filter sets."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from aftersales.accounts.models import User
from aftersales.core.errors import Conflict, NotFound, ValidationFailed

from ..models import SavedView
from ..selectors import SORTS, parse_ticket_filters


def saved_view_create(*, user: User, name: str, filters: dict[str, Any], sort: str = "-updated_at") -> SavedView:
    clean_name = " ".join(name.split())
    if not clean_name or len(clean_name) > 80:
        raise ValidationFailed("name must have 1 to 80 characters", field="name")
    if sort not in SORTS:
        raise ValidationFailed(f"invalid sort {sort!r}; expected one of {', '.join(SORTS)}", field="sort")
    parsed = parse_ticket_filters(filters, allow=frozenset())
    try:
        with transaction.atomic():
            return SavedView.objects.create(user=user, name=clean_name, filters=parsed.as_query(), sort=sort)
    except IntegrityError:
        raise Conflict(f"you already have a view named {clean_name!r}", field="name") from None


def saved_view_delete(*, user: User, view_id: int) -> None:
    deleted, _ = SavedView.objects.filter(pk=view_id, user=user).delete()
    if not deleted:
        raise NotFound("saved view not found", field="view_id")
