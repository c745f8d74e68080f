"""WhatsApp Cloud API webhook payloads -> channels.base records (pure).

The connector stores one raw record per webhook item (webhooks.py splits a push):
  {"kind": "message", "phone_number_id", "contact": {...}, "message": {...}, "media": {...} | absent}
  {"kind": "status", "phone_number_id", "status": {...}}
`media` is what the connector downloaded for an image / document / audio / video / sticker message:
{"mime_type", "filename", "data_b64"} or {"error": "..."} when it could not be fetched for good.
A voice note (audio with voice=true) is an audio attachment: the language engine transcribes audio
attachments like any other channel's."""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections.abc import Mapping
from typing import Any

from aftersales.channels.base import (
    AttachmentRecord,
    Buyer,
    DeliveryFailureRecord,
    DeliveryReceiptRecord,
    IgnoredRecord,
    MappingError,
    MessageRecord,
    Record,
)
from aftersales.channels.fields import epoch

MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "sticker"})
# Known message types this connector does not turn into tickets (kept raw, ignored with a reason).
IGNORED_TYPES = frozenset(
    {"reaction", "location", "contacts", "interactive", "button", "order", "system", "unsupported", "request_welcome"}
)
STATUSES = frozenset({"sent", "delivered", "read", "failed"})


def conversation_of(phone_number_id: str, wa_id: str) -> str:
    """One thread (one ticket) per buyer and business phone number."""
    return f"wa:{phone_number_id}:{wa_id}"


def _text(message: Mapping[str, Any], kind: str) -> str:
    part = message.get(kind)
    if not isinstance(part, Mapping):
        raise MappingError(f"a {kind} message without its {kind} object", field=kind)
    if kind == "text":
        body = part.get("body")
        if not isinstance(body, str) or not body.strip():
            raise MappingError("a text message without text.body", field="text.body")
        return body
    caption = part.get("caption")
    return caption if isinstance(caption, str) else ""


def _attachment(message: Mapping[str, Any], kind: str, media: Any) -> AttachmentRecord:
    if not isinstance(media, Mapping):
        raise MappingError(f"the {kind} was not downloaded", field=f"{kind}.id")
    if media.get("error"):
        raise MappingError(f"the {kind} could not be downloaded: {media['error']}"[:300], field=f"{kind}.id")
    try:
        content = base64.b64decode(str(media.get("data_b64") or ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MappingError(f"the stored {kind} is not base64", field=f"{kind}.id") from exc
    if not content:
        raise MappingError(f"the {kind} is empty", field=f"{kind}.id")
    mime = str(media.get("mime_type") or message.get(kind, {}).get("mime_type") or "").split(";")[0].strip()
    filename = str(media.get("filename") or message.get(kind, {}).get("filename") or "").strip()
    if not filename:
        voice = bool(message.get(kind, {}).get("voice"))
        extension = mimetypes.guess_extension(mime) or (".ogg" if kind == "audio" else ".bin")
        filename = f"{'voice-note' if voice else kind}-{message.get('id', '')}"[:80] + extension
    return AttachmentRecord(filename=filename, content=content, content_type=mime)


def _item(payload: Mapping[str, Any], key: str, field: str) -> tuple[Mapping[str, Any], str]:
    """The item's message or status object and the WhatsApp message id it is about."""
    item = payload.get(key)
    if not isinstance(item, Mapping):
        raise MappingError(f"the item has no {key} object", field=field)
    message_id = item.get("id")
    if not isinstance(message_id, str) or not message_id:
        raise MappingError(f"a {key} without its message id", field=f"{field}.id")
    return item, message_id


def map_message(payload: Mapping[str, Any]) -> list[Record]:
    message, message_id = _item(payload, "message", "messages")
    wa_id = str(message.get("from") or "").strip()
    if not wa_id.isdigit():
        raise MappingError(f"from is not a WhatsApp id: {wa_id!r}"[:200], field="messages.from")
    sent_at = epoch(message.get("timestamp"), "messages.timestamp")
    kind = message.get("type")
    if not isinstance(kind, str) or not kind:
        raise MappingError("a message without its type", field="messages.type")
    if kind in IGNORED_TYPES:
        return [IgnoredRecord(reason=f"WhatsApp {kind} messages are not turned into tickets", detail=message_id)]
    if kind != "text" and kind not in MEDIA_TYPES:
        raise MappingError(f"unknown WhatsApp message type {kind!r}"[:200], field="messages.type")
    body = _text(message, kind)
    attachments = [] if kind == "text" else [_attachment(message, kind, payload.get("media"))]
    contact = payload.get("contact") if isinstance(payload.get("contact"), Mapping) else {}
    name = str((contact.get("profile") or {}).get("name") or "") if isinstance(contact, Mapping) else ""
    phone_number_id = str(payload.get("phone_number_id") or "")
    return [
        MessageRecord(
            external_id=message_id,
            buyer=Buyer(external_id=wa_id, name=name or f"+{wa_id}"),
            body=body,
            sent_at=sent_at,
            conversation_id=conversation_of(phone_number_id, wa_id),
            attachments=attachments,
        )
    ]


def map_status(payload: Mapping[str, Any]) -> list[Record]:
    status, message_id = _item(payload, "status", "statuses")
    word = status.get("status")
    if word not in STATUSES:
        raise MappingError(f"unknown WhatsApp status {word!r}"[:200], field="statuses.status")
    at = epoch(status.get("timestamp"), "statuses.timestamp")
    if word in ("delivered", "read"):
        return [DeliveryReceiptRecord(external_id=message_id, receipt=str(word), at=at)]
    if word == "failed":
        errors = status.get("errors")
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], Mapping) else {}
        detail = (first.get("error_data") or {}).get("details") if isinstance(first.get("error_data"), Mapping) else ""
        reason = " ".join(
            str(p) for p in (first.get("title") or first.get("message") or "failed", detail or "") if p
        ).strip()
        code = first.get("code")
        return [
            DeliveryFailureRecord(
                original_message_ids=[message_id],
                reason=f"WhatsApp: {reason}" + (f" (code {code})" if code is not None else ""),
                recipients=[str(status.get("recipient_id") or "")],
            )
        ]
    # sent: the reply was already marked sent when the API accepted it.
    return [IgnoredRecord(reason=f"WhatsApp status {word}", detail=message_id)]


def map_payload(payload: Mapping[str, Any]) -> list[Record]:
    kind = payload.get("kind")
    if kind == "message":
        return map_message(payload)
    if kind == "status":
        return map_status(payload)
    if kind == "ignored":
        return [IgnoredRecord(reason=str(payload.get("reason") or "not a message or status"))]
    raise MappingError(f"unknown WhatsApp item {kind!r}"[:200], field="field")
