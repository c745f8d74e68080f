from __future__ import annotations

import contextlib
import contextvars
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import filetype
import nh3
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from aftersales.core.clock import now
from aftersales.core.errors import ValidationFailed

from ..models import Attachment, Message, Ticket, TicketEvent


def record_event(ticket: Ticket, type_: str, actor: Any = None, **payload: Any) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, type=type_, actor=actor, payload=payload, at=now())


def sanitise_html(html: str) -> str:
    """Keep formatting, drop scripts, event handlers, styles and remote tricks (nh3 = ammonia)."""
    return nh3.clean(html, link_rel="noopener noreferrer nofollow") if html else ""


@dataclass(frozen=True)
class AttachmentInput:
    filename: str
    content: bytes
    content_type: str = ""


# Types whose declared content type may differ from what magic sniffing reports.
_TEXT_TYPES = {"text/plain"}


def check_attachment(att: AttachmentInput, *, index: int) -> str:
    """Validate size and real type (by content, not by the declared name). Returns the type."""
    field = f"attachments[{index}]"
    name = att.filename.strip()
    if not name or len(name) > 255 or "/" in name or "\\" in name or "\x00" in name:
        raise ValidationFailed("invalid attachment file name", field=field)
    if len(att.content) == 0:
        raise ValidationFailed(f"attachment {name!r} is empty", field=field)
    if len(att.content) > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationFailed(
            f"attachment {name!r} is {len(att.content)} bytes; the limit is {settings.ATTACHMENT_MAX_BYTES}",
            field=field,
        )
    kind = filetype.guess(att.content)
    detected = kind.mime if kind else ("text/plain" if _looks_like_text(att.content) else "")
    if detected == "audio/m4a":
        detected = "audio/mp4"
    if detected not in settings.ATTACHMENT_ALLOWED_TYPES:
        raise ValidationFailed(
            f"attachment {name!r} has a type that is not accepted ({detected or 'unknown'})", field=field
        )
    return detected


def _looks_like_text(content: bytes) -> bool:
    try:
        content[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in content[:4096]


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
    for att, content_type in zip(attachments, types, strict=True):
        stored = Attachment(
            message=message,
            filename=att.filename.strip(),
            content_type=content_type,
            size=len(att.content),
            sha256=hashlib.sha256(att.content).hexdigest(),
        )
        stored.file.save(att.filename.strip(), ContentFile(att.content), save=False)
        saved = _saved_files.get()
        if saved is not None and stored.file.name:
            saved.append(stored.file.name)
        stored.save()
