"""Voice messages are only transcribed by an engine that speaks their language (issue 14, item 4):
pocketsphinx is English-only, so Spanish or German audio without a transcription server, or audio
from a customer whose language is unknown, gives a clear 'not transcribed' result, never English
words; English audio gets a transcript with its confidence."""

from __future__ import annotations

import pytest

from aftersales.inbox.services import AttachmentInput, InboundMessage, message_ingest
from aftersales.language import speech
from aftersales.language.models import AttachmentText
from aftersales.language.services import provider_config_save

from .conftest import Request
from .rendering import speech as synthesise

SPANISH = "mi paquete no ha llegado, por favor envíeme un reembolso"
GERMAN = "mein Paket ist nicht angekommen, bitte erstatten Sie mir das Geld"


@pytest.mark.parametrize(("text", "voice", "hint"), [(SPANISH, "es", "es"), (GERMAN, "de", "de"), (SPANISH, "es", "")])
def test_non_english_or_unknown_audio_is_not_transcribed_offline(text: str, voice: str, hint: str) -> None:
    audio = synthesise(text, fmt="ogg", voice=voice)
    with pytest.raises(speech.NoTranscriptionEngine) as err:
        speech.transcribe(audio, language_hint=hint)
    assert err.value.language == hint
    assert "only speaks English" in err.value.message and "transcription_model" in err.value.message
    if not hint:
        assert "unknown" in err.value.message


def test_english_offline_has_confidence_and_after_sales_words() -> None:
    transcript = speech.transcribe(synthesise("my earbuds from aliexpress are broken", fmt="m4a"), language_hint="en")
    assert transcript.engine == "pocketsphinx" and transcript.language == "en"
    assert transcript.confidence is not None and 0 < transcript.confidence <= 1
    assert "broken" in transcript.text.split()
    assert speech.decoder().lookup_word("aliexpress") is not None  # vocabulary added
    assert transcript.as_blocks()[0]["kind"] == "transcript"


def test_transcription_server_gets_the_customer_language(world, protocol_server) -> None:
    seen = {}

    def handle(request: Request) -> tuple[int, object]:
        seen["raw"] = request.raw
        return 200, {"text": "Mi paquete no ha llegado.", "language": "es"}

    server = protocol_server(handle)
    provider_config_save(
        user=world.admin,
        name="whisper",
        kind="openai",
        base_url=server.url + "/v1",
        options={"transcription_model": "whisper-1"},
    )
    audio = synthesise(SPANISH, fmt="ogg", voice="es")
    transcript = speech.transcribe(audio, organization_id=world.org.pk, language_hint="es-MX")
    assert transcript.text == "Mi paquete no ha llegado." and transcript.language == "es"
    assert b'name="language"' in seen["raw"] and b"\r\n\r\nes\r\n" in seen["raw"]


def test_inbound_voice_uses_the_customer_language_not_a_guess(world, django_capture_on_commit_callbacks) -> None:
    """A voice-only message from a customer whose language is unknown: the message's guessed
    language (the store's) must not make the English model run; English customers get text."""
    english = synthesise("please send a refund", fmt="ogg")
    for external_id, language in (("v-unknown", ""), ("v-en", "en")):
        inbound = InboundMessage(
            store=world.store_us,
            external_id=external_id,
            body="",
            customer_external_id="C-" + external_id,
            customer_language=language,
            attachments=[AttachmentInput("voice.ogg", english, "audio/ogg")],
        )
        with django_capture_on_commit_callbacks(execute=True):
            message_ingest(inbound=inbound)
    unknown = AttachmentText.objects.get(attachment__message__external_id="v-unknown")
    assert unknown.engine == speech.UNSUPPORTED_ENGINE and unknown.text == "" and "unknown" in unknown.error
    known = AttachmentText.objects.get(attachment__message__external_id="v-en")
    assert known.engine == "pocketsphinx" and "refund" in known.text and not known.error
    assert known.blocks and 0 < known.blocks[0]["confidence"] <= 1
