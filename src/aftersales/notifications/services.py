"""Agent notifications: created idempotently (one per user and dedupe key), e-mailed by the worker."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.accounts.models import User
from aftersales.core import events
from aftersales.core.clock import now
from aftersales.core.validation import parse_ids

from .events import NotificationCreated
from .models import Notification, NotificationKind

logger = logging.getLogger(__name__)

REMIND_AFTER = timedelta(hours=int(getattr(settings, "REMIND_AFTER_HOURS", 4)))


def notification_create(
    *, user: User, kind: str, text: str, dedupe_key: str, ticket_id: int | None = None
) -> Notification | None:
    """Create a notification unless one with the same key exists. Returns it when new."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user, kind=kind, text=text[:500], dedupe_key=dedupe_key, ticket_id=ticket_id
            )
    except IntegrityError:
        return None
    if user.email:
        events.publish(NotificationCreated(notification_id=notification.pk, user_id=user.pk, kind=kind))
    return notification


def notify_mentions(*, note_id: int, ticket_id: int, author_id: int | None, user_ids: tuple[int, ...]) -> int:
    """A note written by a rule or the system has no author user: its author name is the actor's."""
    author: object = User.objects.filter(pk=author_id).first() if author_id else None
    if author is None:
        from aftersales.inbox.models import Message

        author = Message.objects.filter(pk=note_id).values_list("author_name", flat=True).first() or ""
    created = 0
    for user in User.objects.filter(pk__in=user_ids, is_active=True):
        with translation.override(user.language):  # written in the recipient's language
            text = _("%(author)s mentioned you on ticket #%(ticket)s") % {"author": author, "ticket": ticket_id}
        if notification_create(
            user=user, kind=NotificationKind.MENTION, text=text, dedupe_key=f"mention:{note_id}", ticket_id=ticket_id
        ):
            created += 1
    return created


def notify_assigned(*, ticket_id: int, assignee_id: int, actor_id: int | None, ticket_event_id: int) -> None:
    """One notification per assignment (keyed by its audit event): a retried task adds nothing."""
    if assignee_id == actor_id:
        return
    user = User.objects.filter(pk=assignee_id, is_active=True).first()
    if user is None:
        return
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    with translation.override(user.language):
        if actor:
            text = _("Ticket #%(ticket)s was assigned to you by %(actor)s") % {"ticket": ticket_id, "actor": actor}
        else:
            text = _("Ticket #%(ticket)s was assigned to you") % {"ticket": ticket_id}
    notification_create(
        user=user,
        kind=NotificationKind.ASSIGNED,
        text=text,
        dedupe_key=f"assigned:{ticket_event_id}",
        ticket_id=ticket_id,
    )


def send_pending_reminders() -> int:
    """For each agent with assigned tickets waiting on them longer than REMIND_AFTER, one reminder
    per agent per day (the dedupe key makes a rerun harmless)."""
    from aftersales.inbox.models import Ticket
    from aftersales.inbox.workflow import StatusCategory

    cutoff = now() - REMIND_AFTER
    rows = (
        Ticket.objects.filter(
            assignee__isnull=False,
            assignee__is_active=True,
            is_unreplied=True,
            status_category=StatusCategory.OPEN,
            merged_into__isnull=True,
            last_customer_message_at__lt=cutoff,
        )
        .values("assignee_id")
        .annotate(n=Count("id"))
    )
    created = 0
    day = now().strftime("%Y-%m-%d")
    users = {u.pk: u for u in User.objects.filter(pk__in=[r["assignee_id"] for r in rows])}
    for row in rows:
        user = users[row["assignee_id"]]
        hours = int(REMIND_AFTER.total_seconds() // 3600)
        with translation.override(user.language):
            text = ngettext(
                "%(count)d ticket assigned to you has waited more than %(hours)d h for a reply",
                "%(count)d tickets assigned to you have waited more than %(hours)d h for a reply",
                row["n"],
            ) % {"count": row["n"], "hours": hours}
        if notification_create(user=user, kind=NotificationKind.REMINDER, text=text, dedupe_key=f"reminder:{day}"):
            created += 1
    return created


def notification_email(notification_id: int) -> bool:
    """Send the e-mail copy of a notification once. Claim first, release on failure."""
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(emailed_at=now())
    if not claimed:
        return False
    n = Notification.objects.select_related("user").get(pk=notification_id)
    link = f"{settings.SITE_URL}/tickets/{n.ticket_id}/" if n.ticket_id else f"{settings.SITE_URL}/notifications/"
    try:
        send_mail(
            subject=f"[aftersales] {n.text}",
            message=f"{n.text}\n\n{link}\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[n.user.email],
            fail_silently=False,
        )
    except Exception:
        Notification.objects.filter(pk=notification_id).update(emailed_at=None)
        raise
    return True


def notification_mark_read(*, user: User, ids: Iterable[int | str] | None = None) -> int:
    """Mark the user's notifications `ids` read (all of them when None). Ids may come as form strings:
    each must be a positive 64-bit whole number (ValidationFailed naming `ids`), at most 1000."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=parse_ids(ids, field="ids"))
    return qs.update(read_at=now())
