"""Voice messages: ogg/opus, m4a, mp3, wav (and the audio of an mp4) -> text.

ffmpeg (Debian) converts to 16 kHz mono PCM; pocketsphinx (the en-us model its wheel ships)
transcribes English offline. When the organization configured an OpenAI-compatible provider with
a `transcription_model` option (Whisper on OpenAI, a local faster-whisper/vLLM server...), the
audio goes to its POST /audio/transcriptions instead, in any language; pocketsphinx is the
fallback when that service fails."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

import filetype

from aftersales.core.errors import ValidationFailed

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

_lock = threading.Lock()
_decoder: Any = None


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str  # "" when the engine does not say
    engine: str
    seconds: float


def sniff(data: bytes, *, field_name: str = "file") -> str:
    if not data:
        raise ValidationFailed("the audio file is empty", field=field_name)
    if len(data) > MAX_BYTES:
        raise ValidationFailed(f"the audio file is {len(data)} bytes; the limit is {MAX_BYTES}", field=field_name)
    kind = filetype.guess(data)
    mime = kind.mime if kind else "unknown"
    if mime not in AUDIO_TYPES:
        raise ValidationFailed(
            f"not an accepted audio type ({mime}); accepted: ogg/opus, m4a, mp3, wav", field=field_name
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
            raise ValidationFailed("ffmpeg is not installed: audio cannot be read", field=field_name) from exc
        except subprocess.TimeoutExpired as exc:
            raise ValidationFailed("the audio took too long to decode", field=field_name) from exc
    if done.returncode != 0 or not done.stdout:
        detail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no audio stream"]
        raise ValidationFailed(f"the audio is corrupt or unreadable: {detail[0][:200]}", field=field_name)
    return done.stdout


def decoder() -> Any:
    global _decoder
    if _decoder is None:
        with _lock:
            if _decoder is None:
                from pocketsphinx import Decoder

                _decoder = Decoder(loglevel="ERROR")
    return _decoder


def transcribe_offline(pcm: bytes) -> Transcript:
    """English speech -> text with pocketsphinx (one utterance; the decoder is shared, so locked)."""
    engine = decoder()
    with _lock:
        engine.start_utt()
        engine.process_raw(pcm, full_utt=True)
        engine.end_utt()
        hyp = engine.hyp()
    return Transcript(hyp.hypstr.strip() if hyp else "", "en", "pocketsphinx", len(pcm) / 2 / SAMPLE_RATE)


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
    """Transcribe a voice message: the organization's transcription service when configured,
    else (or when it fails) pocketsphinx, English only."""
    pcm = to_pcm(data, field_name=field_name)  # validates the file and its length in every case
    if organization_id is not None:
        service = transcription_provider(organization_id)
        if service is not None:
            provider, model = service
            try:
                return transcribe_http(data, provider=provider, model=model, filename=filename, language=language_hint)
            except ProviderError:
                pass
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
