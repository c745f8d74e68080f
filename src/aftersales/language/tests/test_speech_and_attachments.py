"""Voice messages (espeak-ng speech -> ffmpeg -> pocketsphinx / a local transcription server) and
attachments read in the background after an inbound message."""

from __future__ import annotations

import pytest

from aftersales.core.errors import ValidationFailed
from aftersales.inbox.models import Message, Ticket
from aftersales.inbox.services import AttachmentInput, InboundMessage, message_ingest
from aftersales.language import speech
from aftersales.language.models import AttachmentText
from aftersales.language.services import provider_config_save

from .conftest import Request
from .rendering import screenshot
from .rendering import speech as synthesise

SENTENCE = "my package has not arrived please send a refund"


@pytest.fixture(scope="module")
def ogg() -> bytes:
    return synthesise(SENTENCE, fmt="ogg")


def test_pocketsphinx_transcribes_english_offline(ogg: bytes) -> None:
    transcript = speech.transcribe(ogg, language_hint="en")
    assert transcript.engine == "pocketsphinx" and transcript.language == "en"
    assert transcript.confidence is not None and 0 < transcript.confidence <= 1
    assert transcript.words and transcript.words[0].end > transcript.words[0].start
    words = set(transcript.text.split())
    assert len(words & {"my", "package", "please", "send", "a", "refund"}) >= 4, transcript.text
    assert 1.0 < transcript.seconds < 10


@pytest.mark.parametrize("fmt", ["mp3", "m4a", "wav"])
def test_other_formats_are_converted(fmt: str) -> None:
    pcm = speech.to_pcm(synthesise("refund", fmt=fmt))
    assert len(pcm) > speech.SAMPLE_RATE  # more than half a second of 16-bit samples


def test_corrupt_and_wrong_audio(ogg: bytes) -> None:
    with pytest.raises(ValidationFailed, match="corrupt"):
        speech.to_pcm(ogg[:200])
    with pytest.raises(ValidationFailed, match="accepted audio type"):
        speech.to_pcm(b"not audio at all")
    with pytest.raises(ValidationFailed, match="empty"):
        speech.to_pcm(b"")
    with pytest.raises(ValidationFailed, match="limit"):
        speech.to_pcm(b"OggS" + b"\x00" * speech.MAX_BYTES)


def test_openai_compatible_transcription_server(world, protocol_server, ogg: bytes) -> None:
    def handle(request: Request) -> tuple[int, object]:
        assert request.path == "/v1/audio/transcriptions"
        assert request.headers["Authorization"] == "Bearer sk-audio"
        assert request.headers["Content-Type"].startswith("multipart/form-data")
        assert b'name="model"' in request.raw and b"whisper-1" in request.raw
        assert b'name="file"; filename="voice.ogg"' in request.raw and b"OggS" in request.raw
        return 200, {"text": "Mi paquete no ha llegado."}

    server = protocol_server(handle)
    provider_config_save(
        user=world.admin,
        name="whisper",
        kind="openai",
        base_url=server.url + "/v1",
        credentials={"api_key": "sk-audio"},
        options={"model": "x", "transcription_model": "whisper-1"},
    )
    transcript = speech.transcribe(ogg, organization_id=world.org.pk, filename="voice.ogg")
    assert transcript.text == "Mi paquete no ha llegado." and transcript.engine == "whisper:whisper-1"


def test_transcription_server_failure_falls_back_to_pocketsphinx(world, protocol_server, ogg: bytes) -> None:
    server = protocol_server(lambda r: (500, {"error": {"message": "boom"}}))
    provider_config_save(
        user=world.admin,
        name="whisper",
        kind="openai",
        base_url=server.url + "/v1",
        options={"transcription_model": "whisper-1"},
    )
    assert speech.transcribe(ogg, organization_id=world.org.pk, language_hint="en").engine == "pocketsphinx"
    # Spanish: the English model is no fallback; the server's failure is said.
    with pytest.raises(speech.NoTranscriptionEngine, match="server failed"):
        speech.transcribe(ogg, organization_id=world.org.pk, language_hint="es")


def test_inbound_attachments_are_read_and_translated(world, django_capture_on_commit_callbacks) -> None:
    spanish_ogg = synthesise("mi paquete no ha llegado, por favor envíeme un reembolso", fmt="ogg", voice="es")
    image = screenshot(["Mi pedido llegó roto."])
    inbound = InboundMessage(
        store=world.store_us,
        external_id="m-att",
        body="",
        customer_external_id="B1",
        customer_language="es",
        attachments=[
            AttachmentInput("photo.png", image, "image/png"),
            AttachmentInput("voice.ogg", spanish_ogg, "audio/ogg"),
            AttachmentInput("broken.png", image[:300], "image/png"),
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = message_ingest(inbound=inbound)
    rows = {r.attachment.filename: r for r in AttachmentText.objects.select_related("attachment")}
    photo = rows["photo.png"]
    assert photo.kind == "ocr" and "pedido" in photo.text and photo.blocks
    assert photo.language == "es" and "en" in photo.translations
    assert "order" in photo.translations["en"]["text"].lower() or "request" in photo.translations["en"]["text"].lower()
    voice = rows["voice.ogg"]  # Spanish, no transcription server: no English guesses are stored
    assert voice.kind == "transcript" and voice.engine == speech.UNSUPPORTED_ENGINE
    assert voice.text == "" and voice.translations == {} and voice.language == "es"
    assert "(es)" in voice.error and "transcription_model" in voice.error
    assert "corrupt" in rows["broken.png"].error
    assert Ticket.objects.filter(pk=result.ticket.pk).exists()
    assert Message.objects.get(pk=result.message.pk).translation_state.status == "skipped"
