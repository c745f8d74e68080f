"""Two agents on one ticket: who else has it open (presence), and a reply that would follow a
colleague's reply the sender has not seen (a collision).

Presence lives in the shared cache (Redis or the file cache, both shared by every process): one
entry per ticket holding {user id: (name, last seen)}, refreshed by the ticket page's heartbeat
every ~20 s; an agent not seen for PRESENCE_SECONDS is gone. A lost update between two heartbeats
at the same instant only hides someone until their next heartbeat.

The collision check compares the id of the last message the agent had on screen (`seen_message_id`,
carried by the reply form) with the replies written since by someone else."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.utils.translation import gettext

from aftersales.accounts.models import User
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.inbox.models import Message, MessageDirection, Ticket

PRESENCE_SECONDS = 60  # three missed heartbeats (every 20 s) and the agent is gone
_KEY = "presence:ticket:{}"


@dataclass(frozen=True)
class Viewer:
    user_id: int
    name: str
    last_seen: float  # unix time


def presence_touch(*, ticket: Ticket, user: User) -> list[Viewer]:
    """Record that `user` has the ticket open now; returns the others who have it open."""
    key = _KEY.format(ticket.pk)
    current = time.time()
    entries: dict[int, tuple[str, float]] = cache.get(key) or {}
    entries = {uid: (name, seen) for uid, (name, seen) in entries.items() if current - seen < PRESENCE_SECONDS}
    entries[user.pk] = (str(user), current)
    cache.set(key, entries, PRESENCE_SECONDS)
    others = sorted((name, uid, seen) for uid, (name, seen) in entries.items() if uid != user.pk)
    return [Viewer(uid, name, seen) for name, uid, seen in others]


def presence_leave(*, ticket: Ticket, user: User) -> None:
    """The agent left the ticket (best effort: a closed tab simply stops its heartbeat)."""
    key = _KEY.format(ticket.pk)
    entries: dict[int, tuple[str, float]] = cache.get(key) or {}
    if entries.pop(user.pk, None) is not None:
        cache.set(key, entries, PRESENCE_SECONDS)


def parse_seen_message_id(raw: str | int | None) -> int | None:
    """The reply form's `seen_message_id` ("" or absent: no check)."""
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed(gettext("seen_message_id must be a message id"), field="seen_message_id") from None
    if value < 0:
        raise ValidationFailed(gettext("seen_message_id must be a message id"), field="seen_message_id")
    return value


def newer_reply(*, ticket: Ticket, author: User, seen_message_id: int) -> Message | None:
    """The latest reply to the customer written by someone else after message `seen_message_id`."""
    return (
        Message.objects.filter(ticket=ticket, direction=MessageDirection.OUTBOUND, pk__gt=seen_message_id)
        .exclude(author=author)
        .order_by("-pk")
        .first()
    )


def check_no_newer_reply(*, ticket: Ticket, author: User, seen_message_id: int | None, confirmed: bool) -> None:
    """Refuse (409, field `confirm_newer`) a reply that would follow a colleague's reply the author
    has not seen, unless they confirmed it. No `seen_message_id`: nothing to compare, no check.
    Call it with the ticket row locked so that two replies cannot both pass."""
    if seen_message_id is None or confirmed:
        return
    other = newer_reply(ticket=ticket, author=author, seen_message_id=seen_message_id)
    if other is None:
        return
    name = other.author_name or (str(other.author) if other.author_id else gettext("someone"))
    raise Conflict(
        gettext(
            "%(name)s replied to the customer (message #%(id)s) after you opened the ticket. "
            "Read it, then confirm to send yours as well."
        )
        % {"name": name, "id": other.pk},
        field="confirm_newer",
        code="newer_reply",
    )


def latest_message_id(ticket: Ticket) -> int:
    """The id of the ticket's latest message (0 without any): what the reply form says was seen."""
    return Message.objects.filter(ticket=ticket).order_by("-pk").values_list("pk", flat=True).first() or 0


def seen_message_id_of(posted: str | None, ticket: Ticket) -> int:
    """The form's `seen_message_id` when it carries one (a refused send keeps what was seen
    when the page was opened), else the latest message now."""
    if posted and posted.isdigit():
        return int(posted)
    return latest_message_id(ticket)
