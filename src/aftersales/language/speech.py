"""Voice messages: ogg/opus, m4a, mp3, wav (and the audio of an mp4) -> text.

ffmpeg (Debian) converts to 16 kHz mono PCM (the rate of pocketsphinx's en-us model);
pocketsphinx transcribes **English only**, offline, with a few after-sales words added to its
dictionary. When the organization configured an OpenAI-compatible provider with a
`transcription_model` option (Whisper on OpenAI, a local faster-whisper/vLLM server...), the
audio goes to its POST /audio/transcriptions instead, in any language, with the customer's
language as the hint.

A transcript is never made by an engine that does not speak the language: when the customer's
language is not English (or is unknown) and no transcription server answered, `transcribe` raises
`NoTranscriptionEngine` (its message says which language and how to configure a server) instead
of storing the English model's guesses."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

import filetype
from django.utils.translation import gettext

from aftersales.core.errors import DomainError, ValidationFailed

from .languages import normalise
from .providers.base import ProviderError

MAX_BYTES = 10 * 1024 * 1024
MAX_SECONDS = 180
SAMPLE_RATE = 16_000
AUDIO_TYPES = frozenset(
    {
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/x-m4a",
        "audio/m4a",
        "audio/wav",
        "audio/x-wav",
        "audio/webm",
        "video/mp4",
        "video/webm",
    }
)
_EXT = {
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/m4a": "m4a",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/webm": "webm",
    "video/mp4": "mp4",
    "video/webm": "webm",
}

OFFLINE_LANGUAGES = frozenset({"en"})  # what pocketsphinx's bundled model speaks
# Words customers say about orders that the en-us dictionary lacks (CMU phone set).
AFTER_SALES_WORDS = {
    "aliexpress": "AE L IY EH K S P R EH S",
    "shopee": "SH AA P IY",
    "tiktok": "T IH K T AA K",
    "shopify": "SH AA P IH F AY",
    "lazada": "L AH Z AA D AH",
    "temu": "T EH M UW",
    "imei": "AY EH M IY AY",
    "earbuds": "IH R B AH D Z",
    "smartwatch": "S M AA R T W AA CH",
}
UNSUPPORTED_ENGINE = "unsupported"  # AttachmentText.engine when no engine speaks the language

_lock = threading.Lock()
_decoder: Any = None


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds
    end: float


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str  # "" when the engine does not say
    engine: str
    seconds: float
    confidence: float | None = None  # 0..1 when the engine gives one (pocketsphinx: rough)
    words: tuple[Word, ...] = ()

    def as_blocks(self) -> list[dict]:
        """What AttachmentText.blocks keeps of a transcript: one entry with its confidence."""
        if self.confidence is None:
            return []
        return [{"text": self.text, "confidence": round(self.confidence, 3), "kind": "transcript"}]


class NoTranscriptionEngine(DomainError):
    """No configured engine speaks the voice message's language: nothing is transcribed."""

    code = "no_transcription_engine"

    def __init__(self, language: str, *, server_error: str = "") -> None:
        self.language = language
        if language:
            what = gettext(
                "no offline engine transcribes this language (%(language)s): the offline engine only speaks English"
            ) % {"language": language}
        else:
            what = gettext(
                "the customer's language is unknown and the offline engine only speaks English, "
                "so its transcript could be invented words"
            )
        if server_error:
            how = gettext("the transcription server failed: %(error)s") % {"error": server_error}
        else:
            how = gettext(
                "configure a transcription server: an OpenAI-compatible provider with the option "
                "transcription_model (Whisper or a local faster-whisper server)"
            )
        super().__init__(f"{what}; {how}", field="file")


def sniff(data: bytes, *, field_name: str = "file") -> str:
    if not data:
        raise ValidationFailed(gettext("the audio file is empty"), field=field_name)
    if len(data) > MAX_BYTES:
        raise ValidationFailed(
            gettext("the audio file is %(count)s bytes; the limit is %(max_bytes)s")
            % {"count": len(data), "max_bytes": MAX_BYTES},
            field=field_name,
        )
    kind = filetype.guess(data)
    mime = kind.mime if kind else "unknown"
    if mime not in AUDIO_TYPES:
        raise ValidationFailed(
            gettext("not an accepted audio type (%(mime)s); accepted: ogg/opus, m4a, mp3, wav") % {"mime": mime},
            field=field_name,
        )
    return mime


def to_pcm(data: bytes, *, field_name: str = "file", timeout: float = 60.0) -> bytes:
    """Decode any accepted audio to 16 kHz mono signed 16-bit PCM (at most MAX_SECONDS)."""
    mime = sniff(data, field_name=field_name)
    # A file, not a pipe: m4a/mp4 keep their index at the end and need a seekable input.
    with tempfile.NamedTemporaryFile(suffix="." + _EXT.get(mime, "bin")) as source:
        source.write(data)
        source.flush()
        try:
            done = subprocess.run(  # noqa: S603 - fixed argv found on PATH, no shell
                [
                    shutil.which("ffmpeg") or "ffmpeg",
                    "-nostdin",
                    "-hide_banner",
                    "-loglevel",
                    "error",
                    "-i",
                    source.name,
                    "-vn",
                    "-t",
                    str(MAX_SECONDS),
                    "-ac",
                    "1",
                    "-ar",
                    str(SAMPLE_RATE),
                    "-f",
                    "s16le",
                    "pipe:1",
                ],
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise ValidationFailed(gettext("ffmpeg is not installed: audio cannot be read"), field=field_name) from exc
        except subprocess.TimeoutExpired as exc:
            raise ValidationFailed(gettext("the audio took too long to decode"), field=field_name) from exc
    if done.returncode != 0 or not done.stdout:
        detail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no audio stream"]
        raise ValidationFailed(
            gettext("the audio is corrupt or unreadable: %(value)s") % {"value": detail[0][:200]}, field=field_name
        )
    return done.stdout


def decoder() -> Any:
    global _decoder
    if _decoder is None:
        with _lock:
            if _decoder is None:
                from pocketsphinx import Decoder

                engine = Decoder(loglevel="ERROR", samprate=SAMPLE_RATE)
                for word, phones in AFTER_SALES_WORDS.items():
                    if engine.lookup_word(word) is None:
                        engine.add_word(word, phones, True)
                _decoder = engine
    return _decoder


_ALTERNATE = re.compile(r"\(\d+\)$")  # "refund(2)": the second pronunciation of "refund"
FRAME_SECONDS = 0.01


def transcribe_offline(pcm: bytes) -> Transcript:
    """English speech -> text with pocketsphinx (one utterance; the decoder is shared, so locked).

    Confidence: the lattice posterior of the best hypothesis, per word (geometric mean), a rough
    indicator only: pocketsphinx is just as sure of its guesses on speech in other languages."""
    engine = decoder()
    with _lock:
        engine.start_utt()
        engine.process_raw(pcm, full_utt=True)
        engine.end_utt()
        hyp = engine.hyp()
        segments = list(engine.seg()) if hyp else []
    words = tuple(
        Word(_ALTERNATE.sub("", s.word), s.start_frame * FRAME_SECONDS, (s.end_frame + 1) * FRAME_SECONDS)
        for s in segments
        if not s.word.startswith(("<", "["))
    )
    text = hyp.hypstr.strip() if hyp else ""
    confidence = 0.0
    if words and hyp is not None and hyp.prob > 0:
        confidence = min(1.0, math.exp(math.log(hyp.prob) / len(words)))
    return Transcript(text, "en", "pocketsphinx", len(pcm) / 2 / SAMPLE_RATE, confidence, words)


def transcribe_http(
    data: bytes, *, provider: Any, model: str, filename: str = "audio", language: str = ""
) -> Transcript:
    """OpenAI-compatible POST {base_url}/audio/transcriptions (multipart: file, model[, language])
    -> {"text": ...}. `provider` is an OpenAICompatibleProvider (its key, URL and timeout)."""
    headers = (
        {"Authorization": f"Bearer {provider.credentials['api_key']}"} if provider.credentials.get("api_key") else {}
    )
    form = {"model": model, "response_format": "json"}
    if language:
        form["language"] = normalise(language)
    payload = provider._post("/audio/transcriptions", data=form, files={"file": (filename, data)}, headers=headers)
    if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
        raise ProviderError(f"{provider.name}: no text in the transcription response", kind="bad_response")
    return Transcript(payload["text"].strip(), normalise(payload.get("language", "")), f"{provider.name}:{model}", 0.0)


def transcribe(
    data: bytes,
    *,
    organization_id: int | None = None,
    language_hint: str = "",
    filename: str = "audio",
    field_name: str = "file",
) -> Transcript:
    """Transcribe a voice message in the customer's language (`language_hint`, "" when unknown):
    the organization's transcription service when configured; pocketsphinx when the language is
    English (also when the service fails). Any other language, or an unknown one, without a
    working service raises NoTranscriptionEngine: the English model's guesses are never kept."""
    pcm = to_pcm(data, field_name=field_name)  # validates the file and its length in every case
    hint = normalise(language_hint)
    server_error = ""
    if organization_id is not None:
        service = transcription_provider(organization_id)
        if service is not None:
            provider, model = service
            try:
                return transcribe_http(data, provider=provider, model=model, filename=filename, language=hint)
            except ProviderError as exc:
                server_error = str(exc)[:200]
    if hint not in OFFLINE_LANGUAGES:
        raise NoTranscriptionEngine(hint, server_error=server_error)
    return transcribe_offline(pcm)


def transcription_provider(organization_id: int) -> tuple[Any, str] | None:
    from .models import ProviderConfig, ProviderKind
    from .providers.registry import build

    config = (
        ProviderConfig.objects.filter(
            organization_id=organization_id,
            kind=ProviderKind.OPENAI,
            is_enabled=True,
            options__has_key="transcription_model",
        )
        .order_by("priority", "id")
        .first()
    )
    if config is None:
        return None
    return build(config), str(config.options["transcription_model"])
