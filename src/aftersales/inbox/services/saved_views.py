"""Saved inbox views: a user's named filter sets."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from aftersales.accounts.models import User
from aftersales.core.errors import Conflict, NotFound, ValidationFailed

from ..models import SavedView
from ..selectors import SORTS, filter_ids_check, parse_ticket_filters


def saved_view_create(*, user: User, name: str, filters: dict[str, Any], sort: str = "-updated_at") -> SavedView:
    """Save the filters under a name. They are validated like a ticket list's (parse_ticket_filters:
    a 422 naming the filter), and their ids (store, team, customer, assignee) must be of the
    user's organization: an id that does not exist or is another organization's is a 422 naming
    the filter too, not a view that finds nothing."""
    clean_name = " ".join(name.split())
    if not clean_name or len(clean_name) > 80:
        raise ValidationFailed(gettext("name must have 1 to 80 characters"), field="name")
    if sort not in SORTS:
        raise ValidationFailed(
            gettext("invalid sort %(sort)r; expected one of %(sorts)s") % {"sort": sort, "sorts": ", ".join(SORTS)},
            field="sort",
        )
    parsed = parse_ticket_filters(filters, allow=frozenset())
    try:
        filter_ids_check(user, parsed)
    except NotFound as exc:
        raise ValidationFailed(exc.message, field=exc.field) from None
    try:
        with transaction.atomic():
            return SavedView.objects.create(user=user, name=clean_name, filters=parsed.as_query(), sort=sort)
    except IntegrityError:
        raise Conflict(gettext("you already have a view named %(name)r") % {"name": clean_name}, field="name") from None


def saved_view_delete(*, user: User, view_id: int) -> None:
    deleted, _ = SavedView.objects.filter(pk=view_id, user=user).delete()
    if not deleted:
        raise NotFound(gettext("saved view not found"), field="view_id")
