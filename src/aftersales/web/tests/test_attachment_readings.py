"""Issue 14 on the ticket page: key fields read from an image are shown checked (a misread
tracking number is flagged, a valid one is not), low-confidence lines are marked in the overlay,
a voice message no engine could transcribe says why (never shows English guesses), and an
English transcript shows its confidence."""

from __future__ import annotations

from django.core.files.base import ContentFile

from aftersales.inbox.models import Attachment
from aftersales.language.keyfields import find_key_fields
from aftersales.language.models import AttachmentText

from .test_translations import article, inbound, page

BOX = [[1, 2], [90, 2], [90, 20], [1, 20]]


def _with_key_fields(block: dict) -> dict:
    """A block as language.attachments stores it: with the key fields of its line."""
    fields = find_key_fields(block["text"], confidence=block["confidence"])
    return {**block, "fields": [f.as_json() for f in fields]}


def _attachment(message, name: str, content_type: str, n: int) -> Attachment:  # type: ignore[no-untyped-def]
    return Attachment.objects.create(
        message=message,
        file=ContentFile(b"x", name=name),
        filename=name,
        content_type=content_type,
        size=1,
        sha256=str(n) * 64,
    )


def test_ocr_key_fields_flagged_and_low_confidence_marked(world, login):
    ticket = world.ticket()
    message = inbound(ticket, "See the label.", "en")
    AttachmentText.objects.create(
        attachment=_attachment(message, "label.jpg", "image/jpeg", 1),
        kind="ocr",
        engine="rapidocr+tesseract",
        text="Tracking RR123456735CN\nIMEI 490154203237518",
        language="en",
        blocks=[
            _with_key_fields({"text": "Tracking RR123456735CN", "box": BOX, "confidence": 0.93, "page": 0}),
            _with_key_fields({"text": "IMEI 490154203237518", "box": BOX, "confidence": 0.62, "page": 0}),
            _with_key_fields({"text": "Order 113-1234567-1234567", "box": BOX, "confidence": 0.97, "page": 0}),
        ],
    )
    html = article(page(login(world.agent), ticket), message)
    assert 'data-key-field="tracking_s10" data-flagged' in html and "the check digit does not match" in html
    assert 'data-key-field="imei" data-flagged' in html and "read with low confidence" in html
    assert 'data-key-field="order_amazon">' in html and "format and check digit valid" in html
    assert html.count("data-low-confidence") == 1 and "confidence 62%" in html


def test_unsupported_voice_message_says_why_and_english_shows_confidence(world, login):
    ticket = world.ticket()
    message = inbound(ticket, "Audio attached.", "es")
    AttachmentText.objects.create(
        attachment=_attachment(message, "voz.ogg", "audio/ogg", 2),
        kind="transcript",
        engine="unsupported",
        language="es",
        error="no offline engine transcribes this language (es)",
    )
    AttachmentText.objects.create(
        attachment=_attachment(message, "voice.m4a", "audio/mp4", 3),
        kind="transcript",
        engine="pocketsphinx",
        text="please send a refund",
        language="en",
        blocks=[{"text": "please send a refund", "confidence": 0.42, "kind": "transcript"}],
    )
    html = article(page(login(world.agent), ticket), message)
    assert "data-transcript-unsupported" in html and "no offline engine understands Spanish" in html
    assert "transcription server" in html and "This file could not be read" not in html
    assert "please send a refund" in html and "Confidence 42%" in html
