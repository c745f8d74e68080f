from __future__ import annotations

import contextlib
import contextvars
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext

from aftersales.accounts.permissions import check_ticket
from aftersales.catalog.models import Store
from aftersales.core.actors import Actor, ActorKind
from aftersales.core.clock import now
from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.reads import select_rows

from .. import message_html
from ..attachment_types import ACCEPTED, NotAccepted, sniff
from ..models import Attachment, Message, Ticket, TicketEvent


def check_store_active(store_id: int, *, field: str) -> None:
    """A deactivated store takes no new customer messages and sends no replies (its tickets stay
    visible and editable). Conflict naming `field` otherwise."""
    rows = select_rows("common.store_active", _store_state, store_id)
    if rows and not rows[0][1]:
        raise store_deactivated(rows[0][0], field=field)


def _store_state(store_id: int) -> QuerySet[Any]:
    """The store's name and whether it is active (`.first()` of its row)."""
    return Store.objects.filter(pk=store_id).order_by("pk").values_list("name", "is_active")[:1]


def store_deactivated(name: str, *, field: str) -> Conflict:
    """The Conflict check_store_active raises for the deactivated store `name`."""
    return Conflict(
        gettext("the store “%(name)s” is deactivated: it takes no new messages and sends no replies") % {"name": name},
        field=field,
    )


# Kinds of actor that are trusted code acting on a ticket (not a person): the rules engine, the
# worker's components (triage, routing, follow-ups, returns notifications) and connectors.
TRUSTED_KINDS = frozenset({ActorKind.RULE, ActorKind.SYSTEM, ActorKind.CONNECTOR})


def check_ticket_actor(actor: Any, ticket: Ticket, perm: str) -> Actor:
    """Who acts on `ticket`, as recorded on audit rows and events. A User is permission-checked
    (NotFound outside their sight, PermissionDenied without `perm`) and recorded as Actor.user; an
    Actor of kind rule, system or connector is trusted code: no user permission applies, the caller
    (the rules engine, triage, routing...) decided, and it is recorded as itself. A customer actor
    never uses the agent services (PermissionDenied). Organization checks of what the actor names
    (assignee, team) stay in each service, whoever acts."""
    if isinstance(actor, Actor):
        if actor.kind not in TRUSTED_KINDS:
            raise PermissionDenied(gettext("this actor cannot act on tickets"), field="actor")
        return actor
    check_ticket(actor, ticket, perm)
    return Actor.user(actor)


def actor_display_name(actor: Actor) -> str:
    """The name shown for what a non-user actor wrote (a rule's or the system's reply or note)."""
    return actor.label or str(ActorKind(actor.kind).label)


def record_event(ticket: Ticket, type_: str, actor: Actor, **payload: Any) -> TicketEvent:
    """Append one audit row: who (the actor's kind and id; the user foreign key when a user acted),
    what (type and payload), when."""
    row = audit_row(ticket, type_, actor, **payload)
    row.save(force_insert=True)
    return row


def audit_row(ticket: Ticket, type_: str, actor: Actor, **payload: Any) -> TicketEvent:
    """The unsaved audit row record_event writes (for a service writing several in one bulk_create)."""
    return TicketEvent(
        ticket=ticket,
        type=type_,
        actor_id=actor.user_id,
        actor_kind=actor.kind,
        actor_ref=actor.id,
        payload=payload,
        at=now(),
    )


def sanitise_html(html: str) -> str:
    """Keep formatting, drop scripts, event handlers, styles and remote tricks (nh3 = ammonia);
    remote images are parked, not loaded (see inbox/message_html.py)."""
    return message_html.sanitise_html(html)


@dataclass(frozen=True)
class AttachmentInput:
    filename: str
    content: bytes
    content_type: str = ""


MAX_ATTACHMENTS = 20  # per message


def check_attachments(attachments: list[AttachmentInput]) -> list[str]:
    """Validate the attachments of one message: how many, their total size (settings.
    ATTACHMENT_MAX_TOTAL_BYTES, which the request-body cap is derived from), then each file.
    Returns the sniffed types, in order."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationFailed(
            gettext("at most %(count)d attachments per message") % {"count": MAX_ATTACHMENTS}, field="attachments"
        )
    total = sum(len(att.content) for att in attachments)
    if total > settings.ATTACHMENT_MAX_TOTAL_BYTES:
        raise ValidationFailed(
            gettext("the attachments add up to %(size)s; the limit per message is %(limit)s")
            % {"size": filesizeformat(total), "limit": filesizeformat(settings.ATTACHMENT_MAX_TOTAL_BYTES)},
            field="attachments",
        )
    return [check_attachment(att, index=i) for i, att in enumerate(attachments)]


def check_attachment(att: AttachmentInput, *, index: int) -> str:
    """Validate the file name, the size and the real type (by content, verified: see
    inbox/attachment_types.py; never by the declared name or type). Returns the type."""
    field = f"attachments[{index}]"
    name = attachment_display_name(att.filename)
    if name is None:
        raise ValidationFailed(
            gettext("invalid file name: it may not be empty, '.' or '..', nor contain slashes or control characters"),
            field=f"{field}.filename",
        )
    if len(att.content) == 0:
        raise ValidationFailed(gettext("attachment %(name)s is empty") % {"name": name}, field=field)
    if len(att.content) > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationFailed(
            gettext("attachment %(name)s is %(size)s; the limit is %(limit)s")
            % {
                "name": name,
                "size": filesizeformat(len(att.content)),
                "limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES),
            },
            field=field,
        )
    try:
        sniffed = sniff(att.content, allowed=settings.ATTACHMENT_ALLOWED_TYPES)
    except NotAccepted as exc:
        raise ValidationFailed(
            gettext("attachment %(name)s: %(reason)s") % {"name": name, "reason": exc}, field=field
        ) from None
    return sniffed.content_type


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def attachment_display_name(filename: str) -> str | None:
    """The name an attachment is shown and downloaded under, or None when it is not acceptable
    (empty, '.', '..', longer than 255 characters, path separators, control or bidi characters).
    The name is never used on disk: files are stored under random names."""
    name = unicodedata.normalize("NFC", filename).strip()
    if not name or name in {".", ".."} or len(name) > 255 or "/" in name or "\\" in name:
        return None
    if _CONTROL_CHARS.search(name):
        return None
    return name


_saved_files: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("saved_files", default=None)


@contextlib.contextmanager
def stored_files_removed_on_error() -> Iterator[None]:
    """Wrap a transaction that stores attachment files: if it fails, the files it wrote are
    deleted, so a rolled-back write leaves nothing behind on disk (or in the bucket)."""
    saved: list[str] = []
    token = _saved_files.set(saved)
    try:
        yield
    except BaseException:
        for name in saved:
            with contextlib.suppress(Exception):
                default_storage.delete(name)
        raise
    finally:
        _saved_files.reset(token)


def save_attachments(message: Message, attachments: list[AttachmentInput], types: list[str]) -> None:
    """Store each file under a random name with the extension of its sniffed type (never the
    buyer's name: no '.htaccess', no 'evil.html', nothing guessable); the buyer's name is kept
    in `filename` for display and downloads only."""
    for att, content_type in zip(attachments, types, strict=True):
        stored = Attachment(
            message=message,
            filename=attachment_display_name(att.filename) or "attachment",
            content_type=content_type,
            size=len(att.content),
            sha256=hashlib.sha256(att.content).hexdigest(),
        )
        random_name = secrets.token_hex(16) + ACCEPTED.get(content_type, ".bin")
        stored.file.save(random_name, ContentFile(att.content), save=False)
        saved = _saved_files.get()
        if saved is not None and stored.file.name:
            saved.append(stored.file.name)
        stored.save()
