"""Messenger Platform webhook events -> channels.base records (pure).

The connector stores one raw item per messaging event (connector.verify_webhook splits a push):
  {"kind": "message", "page_id", "event": {sender, recipient, timestamp, message}, "profile": {...},
   "media": [{"type", "mime_type", "data_b64"} | {"error"}]}
  {"kind": "delivery" | "read", "page_id", "event": {sender, recipient, delivery | read}}  (receipts)
  {"kind": "ignored", "reason"}  (reactions, postbacks...)
A message the Page itself sent (`message.is_echo`: an answer from Meta Business Suite) joins the thread
as the seller's."""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections.abc import Mapping
from typing import Any

from aftersales.channels.base import (
    AttachmentRecord,
    Buyer,
    DeliveryReceiptRecord,
    IgnoredRecord,
    MappingError,
    MessageRecord,
    Record,
)
from aftersales.channels.fields import epoch

MEDIA_TYPES = frozenset({"image", "video", "audio", "file"})


def conversation_of(page_id: str, psid: str) -> str:
    """One thread (one ticket) per person and Page."""
    return f"fb:{page_id}:{psid}"


def _attachments(message: Mapping[str, Any], media: Any) -> list[AttachmentRecord]:
    found: list[AttachmentRecord] = []
    parts = [a for a in message.get("attachments") or [] if isinstance(a, Mapping) and a.get("type") in MEDIA_TYPES]
    downloaded = media if isinstance(media, list) else []
    for index, part in enumerate(parts):
        got = downloaded[index] if index < len(downloaded) and isinstance(downloaded[index], Mapping) else {}
        field = f"message.attachments[{index}].payload.url"
        if not got or got.get("error"):
            raise MappingError(
                f"the attachment could not be downloaded: {got.get('error', 'missing')}"[:300], field=field
            )
        try:
            content = base64.b64decode(str(got.get("data_b64") or ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MappingError("the stored attachment is not base64", field=field) from exc
        mime = str(got.get("mime_type") or "").split(";")[0].strip()
        extension = mimetypes.guess_extension(mime) or ".bin"
        name = "voice-note" if part.get("type") == "audio" else str(part.get("type"))
        found.append(AttachmentRecord(filename=f"{name}-{index + 1}{extension}", content=content, content_type=mime))
    return found


def map_message(payload: Mapping[str, Any]) -> list[Record]:
    event = payload.get("event")
    if not isinstance(event, Mapping):
        raise MappingError("the item has no messaging event", field="messaging")
    message = event.get("message")
    if not isinstance(message, Mapping) or not message.get("mid"):
        raise MappingError("a message without its mid", field="message.mid")
    page_id = str(payload.get("page_id") or "")
    sender = str((event.get("sender") or {}).get("id") or "")
    recipient = str((event.get("recipient") or {}).get("id") or "")
    echo = bool(message.get("is_echo"))
    psid = recipient if echo else sender
    if not psid.isdigit():
        raise MappingError(f"the person's id is not a page-scoped id: {psid!r}"[:200], field="sender.id")
    sent_at = epoch(event.get("timestamp"), "timestamp")
    text = message.get("text")
    body = text if isinstance(text, str) else ""
    attachments = _attachments(message, payload.get("media"))
    if not body.strip() and not attachments:
        kinds = sorted({str(a.get("type")) for a in message.get("attachments") or [] if isinstance(a, Mapping)})
        if kinds:
            return [IgnoredRecord(reason=f"Messenger {', '.join(kinds)} attachments are not turned into tickets")]
        raise MappingError("a message without text or attachments", field="message.text")
    profile = payload.get("profile") if isinstance(payload.get("profile"), Mapping) else {}
    name = " ".join(str(profile.get(k) or "") for k in ("first_name", "last_name")).strip()  # type: ignore[union-attr]
    return [
        MessageRecord(
            external_id=str(message["mid"]),
            buyer=Buyer(external_id=psid, name=name or f"Messenger {psid[-4:]}"),
            body=body,
            sent_at=sent_at,
            conversation_id=conversation_of(page_id, psid),
            attachments=attachments,
            from_seller=echo,
        )
    ]


def map_receipt(payload: Mapping[str, Any], kind: str) -> list[Record]:
    """A delivery names the delivered mids (when it does not, like a read, every reply of the thread
    sent before its watermark counts); a read covers every reply of the thread up to its watermark."""
    raw_event = payload.get("event")
    event: Mapping[str, Any] = raw_event if isinstance(raw_event, Mapping) else {}
    raw_part, raw_sender = event.get(kind), event.get("sender")
    part: Mapping[str, Any] = raw_part if isinstance(raw_part, Mapping) else {}
    psid = str(raw_sender.get("id") or "") if isinstance(raw_sender, Mapping) else ""
    if not psid:
        raise MappingError(f"a {kind} event without its sender", field="sender.id")
    at = epoch(part.get("watermark"), f"{kind}.watermark")  # milliseconds
    receipt = "delivered" if kind == "delivery" else "read"
    mids = [str(m) for m in part.get("mids") or [] if m] if kind == "delivery" else []
    if mids:
        return [DeliveryReceiptRecord(external_id=mid, receipt=receipt, at=at) for mid in mids]
    conversation = conversation_of(str(payload.get("page_id") or ""), psid)
    return [DeliveryReceiptRecord(external_id="", receipt=receipt, at=at, conversation_id=conversation)]


def map_payload(payload: Mapping[str, Any]) -> list[Record]:
    kind = payload.get("kind")
    if kind in ("delivery", "read"):
        return map_receipt(payload, str(kind))
    if kind == "message":
        return map_message(payload)
    if kind == "ignored":
        return [IgnoredRecord(reason=str(payload.get("reason") or "not a message"))]
    raise MappingError(f"unknown Messenger item {kind!r}"[:200], field="kind")
