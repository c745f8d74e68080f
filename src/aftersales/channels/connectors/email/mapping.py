"""RFC 822 bytes -> our records. Pure (no database, no network): the connector passes in what it
knows about the mailbox (`Mailbox`).

One e-mail becomes exactly one record:
- a bounce of one of our replies -> DeliveryFailureRecord (bounce.py);
- an automatic reply, a read receipt, mailing-list mail -> IgnoredRecord("autoreply") (autoreply.py);
- anything else -> MessageRecord, with its Message-ID (the dedupe id, also the message's external
  id), In-Reply-To + References (nearest first) for threading, the text body (from the HTML when
  the mail has none), the sanitised-later HTML, the display text without quoted history
  (quoting.py), attachments and inline images; an Amazon relay message (amazon_relay.py) is
  linked to the Amazon store and its order number.

`dedupe_id`: the Message-ID as written (`<...>`), or for mail without one a content hash
`<sha256.<hex>@content-hash.invalid>` of the headers that do not change between mailboxes (From,
To, Cc, Date, Subject) and the body, so the same mail fetched twice, or from two mailboxes, is one."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime

from aftersales.channels.base import (
    AttachmentRecord,
    Buyer,
    DeliveryFailureRecord,
    IgnoredRecord,
    MappingError,
    MessageRecord,
    Record,
)

from . import amazon_relay
from .autoreply import autoreply_reason
from .bounce import looks_like_bounce, parse_bounce
from .decoding import decode_bytes, decode_header_value, html_to_text
from .quoting import display_text

_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
MAX_EXTERNAL_ID = 200  # Message.external_id
MAX_BODY_CHARS = 100_000  # the inbox's limit: longer text is cut with a note (the raw mail is kept)


@dataclass(frozen=True)
class Mailbox:
    """What mapping knows about the mailbox a mail was fetched from."""

    store_id: int
    addresses: frozenset[str] = frozenset()  # the mailbox's own addresses, lower-case
    amazon_stores: Mapping[int, str] = field(default_factory=dict)  # the organization's: id -> site


def parse(raw: bytes) -> Message:
    # compat32 keeps raw 8-bit headers recoverable (decode_header_value re-decodes them) and never
    # raises on malformed structure; header values are decoded by us.
    return message_from_bytes(raw, policy=policy.compat32)


def dedupe_id(raw: bytes, msg: Message | None = None) -> str:
    msg = msg if msg is not None else parse(raw)
    found = _MESSAGE_ID.search(str(msg.get("Message-ID", "") or ""))
    if found and len(found.group(0)) <= MAX_EXTERNAL_ID:
        return found.group(0)
    digest = hashlib.sha256()
    for name in ("From", "To", "Cc", "Date", "Subject", "Message-ID"):
        digest.update(f"{name}:{' '.join(str(msg.get(name, '')).split())}\n".encode("utf-8", "surrogateescape"))
    _headers, _sep, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    digest.update(body)
    return f"<sha256.{digest.hexdigest()[:40]}@content-hash.invalid>"


def message_ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def map_email(raw: bytes, mailbox: Mailbox) -> list[Record]:
    if not raw.strip():
        raise MappingError("empty message", field="raw")
    msg = parse(raw)
    headers = {k.lower(): decode_header_value(v) for k, v in msg.items()}
    subject = headers.get("subject", "")
    from_name, from_address = parseaddr(headers.get("from", ""))
    from_address = from_address.strip().lower()

    if looks_like_bounce(msg, from_address, subject):
        bounce = parse_bounce(msg)
        if not bounce.permanent:
            return [IgnoredRecord(reason="bounce", detail=f"temporary: {bounce.reason}")]
        return [
            DeliveryFailureRecord(
                original_message_ids=bounce.original_message_ids, reason=bounce.reason, recipients=bounce.recipients
            )
        ]
    if msg.get_content_type() == "multipart/report":  # read receipts (disposition-notification)
        return [IgnoredRecord(reason="autoreply", detail="read receipt or other automatic report")]
    reason = autoreply_reason(headers, subject)
    if reason is not None:
        return [IgnoredRecord(reason="autoreply", detail=reason)]

    if not from_address or "@" not in from_address:
        raise MappingError("the message has no sender address", field="From")
    sent_at = _sent_at(msg)
    text, html, attachments = _body_parts(msg)
    if not text and html:
        text = html_to_text(html)
    display = display_text(html_to_text(html, drop_quotes=True)) if (html and not _has_plain(msg)) else ""
    display = display or display_text(text)
    if len(text) > MAX_BODY_CHARS:
        text = text[: MAX_BODY_CHARS - 100] + "\n[... cut: the message is longer than the inbox shows]"
    display = display[:MAX_BODY_CHARS]
    if not text.strip() and not attachments:
        text = subject or "(empty message)"
        display = text
    in_reply_to = message_ids(headers.get("in-reply-to", ""))
    references = list(reversed(message_ids(headers.get("references", ""))))
    threading = list(dict.fromkeys([*in_reply_to, *references]))

    buyer_name = from_name
    order: str | None = None
    target_store: int | None = None
    conversation = ""
    site = amazon_relay.relay_site(from_address)
    if site is not None:
        buyer_name = amazon_relay.buyer_name(from_name)
        display = display_text(amazon_relay.relay_message_text(text))
        order = amazon_relay.order_number(subject, text)
        target_store = amazon_relay.pick_amazon_store(site, mailbox.amazon_stores)
        conversation = amazon_relay.relay_conversation_id(
            mailbox_store_id=mailbox.store_id, address=from_address, order=order
        )
    language = headers.get("content-language", "").split(",")[0].strip()[:10]
    return [
        MessageRecord(
            external_id=dedupe_id(raw, msg),
            buyer=Buyer(external_id=from_address, name=buyer_name[:200], email=from_address, language=language),
            body=text,
            sent_at=sent_at,
            conversation_id=conversation,
            order_external_id=order,
            subject=subject[:300],
            body_html=html,
            from_seller=from_address in mailbox.addresses,
            attachments=attachments,
            message_id_header=dedupe_id(raw, msg),
            references=threading,
            body_display=display if display != text.strip() else "",
            language=language,
            target_store_id=target_store if target_store != mailbox.store_id else None,
        )
    ]


def _has_plain(msg: Message) -> bool:
    return any(
        part.get_content_type() == "text/plain" and not _is_attachment(part)
        for part in msg.walk()
        if not part.is_multipart()
    )


def _sent_at(msg: Message) -> datetime:
    """The Date header, else the newest Received header's date."""
    candidates = [str(msg.get("Date") or "")]
    candidates += [str(value).rpartition(";")[2] for value in (msg.get_all("Received") or [])]
    for value in candidates:
        try:
            parsed = parsedate_to_datetime(value.strip()) if value.strip() else None
        except (TypeError, ValueError, IndexError):
            continue
        if parsed is None:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        if datetime(1990, 1, 1, tzinfo=UTC) <= parsed <= datetime(2200, 1, 1, tzinfo=UTC):
            return parsed
    raise MappingError("the message has no readable Date", field="Date")


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment" or (disposition == "inline" and bool(part.get_filename()))


def _body_parts(msg: Message) -> tuple[str, str, list[AttachmentRecord]]:
    """The first text/plain and text/html bodies (not attachments) and every other leaf part as an
    attachment (inline images included). Parts of a multipart/alternative count once."""
    text = ""
    html = ""
    attachments: list[AttachmentRecord] = []
    for index, part in enumerate(msg.walk()):
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        if ctype in {"text/plain", "text/html"} and not _is_attachment(part):
            decoded = decode_bytes(payload, part.get_content_charset())
            if ctype == "text/plain" and not text:
                text = decoded.replace("\r\n", "\n").strip()
                continue
            if ctype == "text/html" and not html:
                html = decoded
                continue
        if not payload:
            continue
        name = decode_header_value(part.get_filename() or "") or _default_name(part, index)
        attachments.append(AttachmentRecord(filename=name[:255], content=payload, content_type=ctype))
    return text, html, attachments


def _default_name(part: Message, index: int) -> str:
    extension = {
        "image/jpeg": ".jpg",
        "image/png": ".png",
        "image/gif": ".gif",
        "application/pdf": ".pdf",
        "text/plain": ".txt",
        "message/rfc822": ".eml",
    }.get(part.get_content_type(), ".bin")
    cid = str(part.get("Content-ID", "")).strip("<> ").split("@")[0]
    stem = re.sub(r"[^\w.-]", "_", cid)[:60] if cid else f"part-{index}"
    return f"{stem}{extension}"
