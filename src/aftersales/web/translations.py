"""Messages in two languages, as the agent sees them: the translation of each message into the
viewing agent's language (provider, quality, glossary / memory markers, warnings), "translation
pending" while a provider is down, the agent's original of a translated reply, and the text read
from attachments (OCR, voice transcripts) with its translation.

The language engine stores translations in Message.translations keyed by working language
("zh-hans", "en"); this module only reads them (through language.selectors) and labels them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.accounts.models import User
from aftersales.inbox.models import Message, MessageDirection
from aftersales.language.keyfields import LOW_CONFIDENCE
from aftersales.language.models import TranslationStatus
from aftersales.language.selectors import attachment_texts, translation_states

from .templatetags.web_ui import language_name

# Translations of a message the agent wrote are marked with this provider by the engine.
AUTHOR = "author"
# AttachmentText.engine of a voice message no engine could transcribe (language.speech).
UNSUPPORTED_ENGINE = "unsupported"


def engine_code(code: str | None) -> str:
    """ "zh-hans" -> "zh", "pt-BR" -> "pt": the language part of a code, to compare two codes."""
    return (code or "").strip().lower().replace("_", "-").split("-", 1)[0]


def quality_label(quality: str) -> str:
    labels = {
        "draft": _("Draft quality (rule-based)"),
        "machine": _("Machine translation"),
        "memory": _("Translation memory"),
        "template": _("Template"),
        "original": _("Original"),
    }
    return labels.get(quality, quality)


def flag_label(flag: str) -> str:
    if flag.startswith("pivot:"):
        return _("Translated through %(language)s") % {"language": language_name(flag.split(":", 1)[1])}
    labels = {
        "placeholders_lost": _("Order numbers or other protected values may have changed: check them"),
        "corrected": _("Corrected by an agent"),
        "needs_review": _("Machine-translated variant, to review"),
    }
    return labels.get(flag, flag)


@dataclass(frozen=True)
class Flag:
    code: str
    label: str
    warning: bool


@dataclass(frozen=True)
class ShownTranslation:
    """One entry of Message.translations (or AttachmentText.translations), labelled."""

    language: str  # working-language key: "zh-hans", "en"
    text: str
    provider: str
    quality: str
    glossary_applied: tuple[str, ...] = ()
    tm_applied: bool = False
    flags: tuple[Flag, ...] = ()
    source_language: str = ""

    @property
    def quality_label(self) -> str:
        return quality_label(self.quality)

    @property
    def corrected(self) -> bool:
        return self.provider == "agent"

    @classmethod
    def of(cls, key: str, entry: Any) -> ShownTranslation | None:
        if not isinstance(entry, dict) or not str(entry.get("text") or "").strip():
            return None
        flags = tuple(Flag(str(f), flag_label(str(f)), str(f) in WARNING_FLAGS) for f in entry.get("flags") or () if f)
        return cls(
            language=key,
            text=str(entry["text"]),
            provider=str(entry.get("provider") or ""),
            quality=str(entry.get("quality") or ""),
            glossary_applied=tuple(str(t) for t in entry.get("glossary_applied") or ()),
            tm_applied=bool(entry.get("tm_applied")),
            flags=flags,
            source_language=str(entry.get("source_language") or ""),
        )


WARNING_FLAGS = frozenset({"placeholders_lost", "needs_review"})


@dataclass(frozen=True)
class Block:
    """An OCR line with its box as SVG polygon points ("x,y x,y x,y x,y")."""

    text: str
    points: str
    confidence: float

    @property
    def low(self) -> bool:
        """Read with low confidence: its characters may be wrong (marked in the overlay)."""
        return self.confidence < LOW_CONFIDENCE

    @property
    def percent(self) -> int:
        return round(self.confidence * 100)


KEY_FIELD_LABELS = {
    "order_amazon": gettext_lazy("Amazon order number"),
    "order_ebay": gettext_lazy("eBay order number"),
    "order_aliexpress": gettext_lazy("AliExpress order number"),
    "order_tiktok": gettext_lazy("TikTok Shop order number"),
    "order_shopee": gettext_lazy("Shopee order number"),
    "order_shopify": gettext_lazy("Shopify order number"),
    "tracking_s10": gettext_lazy("Tracking number (UPU)"),
    "imei": gettext_lazy("IMEI"),
}
KEY_FIELD_REASONS = {
    "letters": gettext_lazy("letters where digits belong (misread?)"),
    "length": gettext_lazy("wrong number of digits for this platform"),
    "check_digit": gettext_lazy("the check digit does not match"),
    "date": gettext_lazy("the date part is not a real date"),
    "low_confidence": gettext_lazy("read with low confidence"),
}


@dataclass(frozen=True)
class KeyFieldShown:
    """An order / tracking number or IMEI read from an attachment, checked by the language engine."""

    kind: str
    value: str
    valid: bool
    reason: str

    @property
    def label(self) -> str:
        return str(KEY_FIELD_LABELS.get(self.kind, self.kind))

    @property
    def reason_label(self) -> str:
        return str(KEY_FIELD_REASONS.get(self.reason, self.reason))


@dataclass(frozen=True)
class AttachmentReading:
    kind: str  # ocr | pdf_text | transcript
    engine: str
    text: str
    language: str
    error: str
    blocks: tuple[Block, ...]
    translation: ShownTranslation | None
    translation_error: str
    key_fields: tuple[KeyFieldShown, ...] = ()
    confidence: float | None = None  # a transcript's, when its engine gives one

    @property
    def unsupported(self) -> bool:
        """No engine speaks the voice message's language: nothing was transcribed."""
        return self.engine == UNSUPPORTED_ENGINE

    @property
    def confidence_percent(self) -> int | None:
        return None if self.confidence is None else round(self.confidence * 100)

    @property
    def flagged_fields(self) -> bool:
        return any(not f.valid for f in self.key_fields)

    @property
    def kind_label(self) -> str:
        return {
            "ocr": _("Text in the image"),
            "pdf_text": _("Text of the document"),
            "transcript": _("Voice message transcript"),
        }.get(self.kind, self.kind)


@dataclass(frozen=True)
class MessageLanguage:
    """What the ticket page shows of a message's languages, for one viewer."""

    viewer_language: str  # the viewer's working language ("en", "zh-hans")
    language: str  # language of the body ("de"), "" when unknown
    in_viewer_language: bool  # the body is already in the viewer's language
    translation: ShownTranslation | None  # into the viewer's language
    others: tuple[ShownTranslation, ...] = ()  # into other working languages
    original: ShownTranslation | None = None  # a translated reply: what the agent wrote
    status: str = ""  # MessageTranslationState.status, "" when never processed
    pending: bool = False
    error: str = ""
    readings: Mapping[int, AttachmentReading] = field(default_factory=dict)


def _points(box: Any) -> str:
    try:
        return " ".join(f"{float(x):g},{float(y):g}" for x, y in box)
    except (TypeError, ValueError):
        return ""


def _reading(row: Any, viewer: str) -> AttachmentReading:
    translations = row.translations if isinstance(row.translations, dict) else {}
    entry = translations.get(viewer)
    error = str(entry.get("error", "")) if isinstance(entry, dict) and "error" in entry else ""
    raw_blocks = [b for b in row.blocks or () if isinstance(b, dict)]
    blocks = tuple(
        Block(str(b.get("text", "")), _points(b.get("box")), float(b.get("confidence") or 0))
        for b in raw_blocks
        if not b.get("page") and b.get("box")
    )
    key_fields = tuple(
        KeyFieldShown(str(f.get("kind", "")), str(f.get("value", "")), bool(f.get("valid")), str(f.get("reason", "")))
        for b in raw_blocks
        for f in b.get("fields") or ()
        if isinstance(f, dict)
    )
    confidence = next(
        (float(b["confidence"]) for b in raw_blocks if b.get("kind") == "transcript" and "confidence" in b), None
    )
    return AttachmentReading(
        kind=row.kind,
        engine=row.engine,
        text=row.text,
        language=row.language,
        error=row.error,
        blocks=blocks,
        translation=None if error else ShownTranslation.of(viewer, entry),
        translation_error=error,
        key_fields=key_fields,
        confidence=confidence,
    )


def message_language(message: Message, viewer: str, state: Any = None, readings: Any = None) -> MessageLanguage:
    translations = message.translations if isinstance(message.translations, dict) else {}
    shown = {key: t for key, entry in translations.items() if (t := ShownTranslation.of(key, entry))}
    original = None
    if message.direction == MessageDirection.OUTBOUND:
        original = next((t for t in shown.values() if t.provider == AUTHOR), None)
        shown = {k: t for k, t in shown.items() if t.provider != AUTHOR}
    same = bool(message.language) and engine_code(message.language) == engine_code(viewer)
    mine = None if same else shown.pop(viewer, None)
    return MessageLanguage(
        viewer_language=viewer,
        language=message.language,
        in_viewer_language=same,
        translation=mine,
        others=tuple(shown.values()),
        original=original,
        status=state.status if state is not None else "",
        pending=bool(state is not None and state.status == TranslationStatus.PENDING),
        error=state.last_error if state is not None else "",
        readings=readings or {},
    )


def message_languages(user: User, messages: Iterable[Message]) -> dict[int, MessageLanguage]:
    """The languages of a ticket's customer messages and replies for `user` (notes are skipped).
    One query for the translation states; one per message that has attachments."""
    chosen = [m for m in messages if m.direction in (MessageDirection.INBOUND, MessageDirection.OUTBOUND)]
    states = {s.message_id: s for s in translation_states([m.pk for m in chosen])}
    viewer = user.language
    result = {}
    for message in chosen:
        readings = {}
        if message.direction == MessageDirection.INBOUND and message.attachments.all():
            rows = attachment_texts(user=user, message=message)
            readings = {row.attachment_id: _reading(row, viewer) for row in rows}
        result[message.pk] = message_language(message, viewer, states.get(message.pk), readings)
    return result
