"""Language detection with lingua over the supported set, loaded once per process.

Order numbers, e-mails, URLs, SKUs... are removed before detection (they are language-neutral
and mislead it: "Por favor, escriba a support@example.com" reads as English). Short texts ("ok",
"Hallo", "merci") fall back to what we already know: the customer's preferred language, then the
store's default language. A longer text whose top language is not clearly ahead (confidence below
MIN_CONFIDENCE) keeps the known language when lingua finds it plausible, else lingua's top
language. bench/language.py measures both regimes."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .languages import SUPPORTED, normalise

MIN_CONFIDENCE = 0.50  # lingua's relative confidence of the top language
PLAUSIBLE = 0.10  # a known language with at least this confidence wins an ambiguous detection
MIN_WORDS = 3  # spaced scripts: fewer words than this is "short"
MIN_CJK_CHARS = 4  # scripts without spaces: fewer characters than this is "short"
REMEMBERED = 4096  # texts whose lingua answer `candidates` keeps (docs/adr/0046-worker-cpu-per-creation.md)
REMEMBERED_CHARS = 1000  # longer texts are asked every time

_lock = threading.Lock()
_detector: Any = None
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")
_WORD_RE = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Detection:
    language: str  # ISO 639-1 code, or "" when nothing is known at all
    confidence: float  # lingua's confidence; 0.0 when the language came from a fallback
    source: str  # "detected" | "customer" | "store" | "none"
    candidates: tuple[tuple[str, float], ...] = ()


def detector() -> Any:
    """The process-wide lingua detector, built on first use. Its language models load on demand,
    only those a text's script could be (lingua rules the others out first): a web process, which
    detects only to check an agent's reply (services.check_reply_language), holds the models of the
    languages its agents write, not all of them (all 17 preloaded: about 360 MiB per process). The
    worker, which detects every inbound message, preloads them at startup (preload_detector, from
    tasks.py); the results are the same either way."""
    return _build(preload=False)


def preload_detector() -> Any:
    """Build the detector with every language model loaded now (the worker, at startup)."""
    return _build(preload=True)


def _build(*, preload: bool) -> Any:
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

                languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in SUPPORTED]
                builder = LanguageDetectorBuilder.from_languages(*languages)
                if preload:
                    builder = builder.with_preloaded_language_models()
                _detector = builder.build()
    return _detector


def is_short(text: str) -> bool:
    cjk = len(_CJK_RE.findall(text))
    if cjk:
        return cjk < MIN_CJK_CHARS
    return len(_WORD_RE.findall(text)) < MIN_WORDS


def candidates(text: str, limit: int = 3) -> tuple[tuple[str, float], ...]:
    """lingua's top `limit` languages for `text` with their confidence. The answers for the last
    `REMEMBERED` texts of up to `REMEMBERED_CHARS` characters are kept (lingua's answer depends on the text
    alone: ~0.45 ms of CPU for a Latin-script text, which the worker pays for every inbound message, and
    short messages repeat: "Where is my order?"); longer texts are asked every time."""
    if len(text) <= REMEMBERED_CHARS:
        return _remembered_candidates(text, limit)
    return _candidates(text, limit)


def _candidates(text: str, limit: int) -> tuple[tuple[str, float], ...]:
    values = detector().compute_language_confidence_values(text)
    return tuple((v.language.iso_code_639_1.name.lower(), round(float(v.value), 4)) for v in values[:limit])


_remembered_candidates = lru_cache(maxsize=REMEMBERED)(_candidates)


def strip_entities(text: str) -> str:
    from .protection import TOKEN_RE, mask

    return " ".join(TOKEN_RE.sub(" ", mask(text).text).split())


def detect_language(text: str, *, customer_language: str = "", store_language: str = "") -> Detection:
    """Detect the language of `text`, falling back to the customer's, then the store's language."""
    clean = strip_entities(text or "")
    found: tuple[tuple[str, float], ...] = candidates(clean, limit=5) if clean else ()
    known = [(source, normalise(code)) for source, code in (("customer", customer_language), ("store", store_language))]
    known = [(source, code) for source, code in known if code in SUPPORTED]
    if found and not is_short(clean):
        top, confidence = found[0]
        if confidence >= MIN_CONFIDENCE:
            return Detection(top, confidence, "detected", found)
        scores = dict(found)
        for source, code in known:
            if scores.get(code, 0.0) >= PLAUSIBLE:
                return Detection(code, scores[code], source, found)
        return Detection(top, confidence, "detected", found)
    if known:
        return Detection(known[0][1], 0.0, known[0][0], found)
    if found and found[0][1] >= MIN_CONFIDENCE:  # short, but nothing else is known
        return Detection(found[0][0], found[0][1], "detected", found)
    return Detection("", 0.0, "none", found)
