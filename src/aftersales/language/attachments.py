"""Text read from a message's attachments (OCR of images and PDFs, transcripts of voice
messages), translated into the working languages like the message itself.

One AttachmentText row per attachment: running twice does not read the file twice. A bad file
(corrupt, too large, a decompression bomb) is recorded as an error on that row; the ticket is
never affected."""

from __future__ import annotations

import logging

from aftersales.core.clock import now
from aftersales.core.errors import DomainError
from aftersales.inbox.models import Attachment, Message

from . import ocr, speech
from .detect import detect_language
from .keyfields import find_key_fields
from .languages import normalise, working_code
from .models import AttachmentText
from .routing import translate_text

logger = logging.getLogger(__name__)


def _kind(content_type: str) -> str | None:
    if content_type in ocr.OCR_TYPES:
        return "ocr"
    if content_type in speech.AUDIO_TYPES:
        return "transcript"
    return None


def attachment_extract_text(*, attachment: Attachment, targets: list[str] | None = None) -> AttachmentText | None:
    """Read the text of one attachment (if it is an image, a PDF or audio) and translate it."""
    kind = _kind(attachment.content_type)
    if kind is None:
        return None
    existing = AttachmentText.objects.filter(attachment=attachment).first()
    if existing is not None:
        return existing
    message = attachment.message
    ticket = message.ticket
    # The customer's known language first. A message without text has only a guessed language
    # (the store's), which must not decide what a voice message is transcribed as.
    customer_language = normalise(ticket.customer.preferred_language)
    message_language = normalise(message.language) if (message.body or "").strip() else ""
    hint = message_language or customer_language
    if kind == "transcript":
        hint = customer_language or message_language
    row = AttachmentText(attachment=attachment, kind=kind)
    try:
        with attachment.file.open("rb") as handle:
            data = handle.read(max(ocr.MAX_BYTES, speech.MAX_BYTES) + 1)
        if kind == "ocr":
            result = ocr.read_document(data, language_hint=hint)
            row.text, row.engine = result.text, result.engine
            row.kind = "pdf_text" if result.engine == "pdf_text" else "ocr"
            row.blocks = [_with_key_fields(b.as_json()) for b in result.blocks]
        else:
            transcript = speech.transcribe(
                data, organization_id=ticket.organization_id, language_hint=hint, filename=attachment.filename
            )
            row.text, row.engine, row.language = transcript.text, transcript.engine, transcript.language
            row.blocks = transcript.as_blocks()
    except speech.NoTranscriptionEngine as exc:
        # Nothing is stored as text: the language and the reason are, for the UI and the API.
        row.engine, row.language, row.error = speech.UNSUPPORTED_ENGINE, exc.language, exc.message
    except DomainError as exc:
        row.error = exc.message
    except Exception as exc:  # an engine crash is recorded, never raised to the inbox
        logger.exception("attachment reading crashed", extra={"attachment_id": attachment.pk})
        row.error = f"internal error: {exc}"
    if row.text.strip() and not row.error:
        _translate(row, ticket.organization_id, targets)
    row.save()
    return row


def _with_key_fields(block: dict) -> dict:
    """An OCR block with the order / tracking numbers and IMEIs found in it, each checked (format,
    check digit, the line's confidence): a flagged one is shown as such, never used silently."""
    fields = find_key_fields(block["text"], confidence=block["confidence"])
    return {**block, "fields": [f.as_json() for f in fields]} if fields else block


def _translate(row: AttachmentText, organization_id: int, targets: list[str] | None) -> None:
    from .services import working_languages

    if not row.language:
        row.language = detect_language(row.text).language
    if not row.language:
        return
    for key in targets or working_languages(organization_id):
        if normalise(key) == row.language:
            continue
        try:
            result = translate_text(
                organization_id=organization_id, text=row.text, source=row.language, target=normalise(key)
            )
        except DomainError as exc:
            row.translations[working_code(key)] = {"error": exc.message}
            continue
        row.translations[working_code(key)] = result.as_json(now().isoformat())


def message_extract_attachments(*, message_id: int) -> list[AttachmentText]:
    message = Message.objects.get(pk=message_id)
    rows = []
    for attachment in message.attachments.select_related("message__ticket__customer").order_by("id"):
        row = attachment_extract_text(attachment=attachment)
        if row is not None:
            rows.append(row)
    return rows
