"""Inbound translation (event -> task, after commit), pending + retry, re-translate, corrections
into the translation memory, and the outbound draft with its back-translation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.inbox.models import Message, Ticket
from aftersales.inbox.services import InboundMessage, message_ingest, ticket_reply
from aftersales.language.models import MemorySegment, MessageTranslationState, TranslationStatus
from aftersales.language.routing import translate_text
from aftersales.language.services import (
    message_retranslate,
    provider_config_save,
    reply_draft_translate,
    reply_record_translation,
    translation_correct,
    translations_retry_pending,
)

from .conftest import fake_llm


def ingest(world, django_capture_on_commit_callbacks, body: str, **kw) -> Message:
    data = {
        "store": world.store_us,
        "external_id": kw.pop("external_id", "m-1"),
        "body": body,
        "customer_external_id": "BUYER-1",
        "customer_name": "Ana",
        "customer_language": "",
        **kw,
    }
    with django_capture_on_commit_callbacks(execute=True):
        result = message_ingest(inbound=InboundMessage(**data))
    return Message.objects.get(pk=result.message.pk)


def llm_for_chinese(world, server) -> None:
    provider_config_save(
        user=world.admin,
        name="qwen",
        kind="openai",
        base_url=server.url + "/v1",
        options={"model": "qwen-plus", "languages": ["en", "es", "de", "zh"]},
        priority=10,
    )


def test_inbound_message_is_detected_and_translated_for_both_working_languages(
    world, protocol_server, django_capture_on_commit_callbacks
) -> None:
    world.agent.language = "zh-hans"
    world.agent.save()
    llm_for_chinese(world, protocol_server(fake_llm("ZH:")))
    message = ingest(
        world,
        django_capture_on_commit_callbacks,
        "Mi pedido 113-1234567-1234567 llegó roto.\nQuiero un reembolso de 25,00 EUR.",
    )
    assert message.language == "es"
    zh, en = message.translations["zh-hans"], message.translations["en"]
    assert zh["provider"] == "qwen" and zh["quality"] == "machine" and zh["text"].startswith("ZH:")
    assert en["provider"] == "qwen" and "113-1234567-1234567" in en["text"] and "25,00 EUR" in en["text"]
    assert set(zh) >= {"text", "provider", "quality", "glossary_applied", "tm_applied", "at"}
    state = MessageTranslationState.objects.get(message=message)
    assert (state.status, state.detection_source) == (TranslationStatus.DONE, "detected")


def test_apertium_alone_translates_spanish_for_english_agents(world, django_capture_on_commit_callbacks) -> None:
    for user in (world.agent, world.teammate, world.outsider, world.viewer, world.approver, world.admin):
        user.language = "en"
        user.save()
    message = ingest(world, django_capture_on_commit_callbacks, "Hola, mi paquete no ha llegado todavía.")
    assert list(message.translations) == ["en"]
    assert message.translations["en"]["quality"] == "draft" and message.translations["en"]["provider"] == "apertium"
    assert "package" in message.translations["en"]["text"].lower()


def test_outage_never_blocks_the_ticket_and_is_retried(world, protocol_server, django_capture_on_commit_callbacks):
    world.agent.language = "zh-hans"
    world.agent.save()
    status = {"code": 503}
    llm = fake_llm("ZH:")
    server = protocol_server(
        lambda r: (status["code"], {"error": {"message": "down"}}) if status["code"] != 200 else llm(r)
    )
    provider_config_save(
        user=world.admin,
        name="qwen",
        kind="openai",
        base_url=server.url + "/v1",
        options={"model": "m", "languages": ["de", "zh", "en"]},
    )
    message = ingest(world, django_capture_on_commit_callbacks, "Mein Paket ist nicht angekommen, bitte helfen Sie.")
    assert Ticket.objects.filter(pk=message.ticket_id).exists()
    state = MessageTranslationState.objects.get(message=message)
    assert state.status == TranslationStatus.PENDING and state.next_attempt_at is not None
    assert "down" in state.last_error
    assert message.language == "de"
    assert translations_retry_pending() == 0  # not due yet
    status["code"] = 200
    MessageTranslationState.objects.filter(pk=state.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    from django.core.cache import cache

    cache.clear()  # the provider's "down" mark expires
    assert translations_retry_pending() == 1
    state.refresh_from_db()
    message.refresh_from_db()
    assert state.status == TranslationStatus.DONE and state.attempts == 2
    assert message.translations["zh-hans"]["text"].startswith("ZH:")


def test_unsupported_pair_is_recorded_not_raised(world, django_capture_on_commit_callbacks) -> None:
    message = ingest(world, django_capture_on_commit_callbacks, "Mein Paket ist nicht angekommen, bitte helfen Sie.")
    state = MessageTranslationState.objects.get(message=message)
    assert state.status == TranslationStatus.UNSUPPORTED and "supported pairs" in state.last_error
    assert state.next_attempt_at is None


def test_short_message_uses_customer_language(world, django_capture_on_commit_callbacks) -> None:
    message = ingest(world, django_capture_on_commit_callbacks, "ok gracias", customer_language="es")
    state = MessageTranslationState.objects.get(message=message)
    assert (message.language, state.detection_source) == ("es", "customer")


def test_correction_is_remembered_and_wins_next_time(world, django_capture_on_commit_callbacks) -> None:
    message = ingest(world, django_capture_on_commit_callbacks, "¿Dónde está mi pedido 113-1234567-1234567?")
    corrected = "Where is my order 113-1234567-1234567?"
    message = translation_correct(user=world.agent, message=message, target_language="en", text=corrected)
    assert message.translations["en"]["text"] == corrected and message.translations["en"]["provider"] == "agent"
    segment = MemorySegment.objects.get()
    assert segment.source_text == "¿Dónde está mi pedido ⟦0⟧?" and segment.target_text == "Where is my order ⟦0⟧?"
    # exact match, another order number
    again = translate_text(
        organization_id=world.org.pk, text="¿Dónde está mi pedido 205-7654321-7654321?", source="es", target="en"
    )
    assert (again.text, again.quality, again.tm_applied) == ("Where is my order 205-7654321-7654321?", "memory", True)
    # normalised match: case, spacing and punctuation differ
    fuzzy = translate_text(
        organization_id=world.org.pk, text="¿dónde está  mi pedido 205-7654321-7654321", source="es", target="en"
    )
    assert fuzzy.provider == "memory" and fuzzy.text == "Where is my order 205-7654321-7654321?"
    # line-level memory inside a longer message
    mixed = translate_text(
        organization_id=world.org.pk, text="Hola.\n¿Dónde está mi pedido 1-2?", source="es", target="en"
    )
    assert mixed.tm_applied is False or "Where is my order" in mixed.text


def test_retranslate_and_permissions(world, django_capture_on_commit_callbacks) -> None:
    message = ingest(world, django_capture_on_commit_callbacks, "Hola, mi paquete no ha llegado todavía.")
    Message.objects.filter(pk=message.pk).update(translations={})
    message.refresh_from_db()
    message = message_retranslate(user=world.agent, message=message, target_language="en")
    assert message.translations["en"]["provider"] == "apertium"
    with pytest.raises(NotFound):
        message_retranslate(user=world.foreign_user, message=message)
    with pytest.raises(ValidationFailed):
        translation_correct(user=world.agent, message=message, target_language="en", text="  ")


def test_outbound_draft_with_back_translation_and_both_texts_stored(world, django_capture_on_commit_callbacks):
    ingest(world, django_capture_on_commit_callbacks, "Hola, mi paquete no ha llegado todavía.")
    ticket = Ticket.objects.get()
    world.agent.language = "en"
    draft = reply_draft_translate(
        user=world.agent,
        ticket=ticket,
        text="We are sorry. Your refund of $25.00 for order 113-1234567-1234567 is approved.",
    )
    assert draft.language == "es" and draft.original_language == "en"
    assert "$25.00" in draft.text and "113-1234567-1234567" in draft.text and "reembolso" in draft.text
    assert "approved" in draft.back_translation and "$25.00" in draft.back_translation
    assert draft.quality == "draft"
    with django_capture_on_commit_callbacks(execute=False):
        reply = ticket_reply(ticket=ticket, author=world.agent, body=draft.text)
    reply = reply_record_translation(
        message=reply, original_text=draft.original_text, original_language=draft.original_language, draft=draft
    )
    assert reply.body == draft.text and reply.language == "es"
    assert reply.translations["en"]["text"] == draft.original_text
    assert reply.translations["en"]["quality"] == "original"


def test_outbound_to_an_unsupported_language_lists_pairs(world) -> None:
    ticket = world.ticket(language="de")
    with pytest.raises(ValidationFailed) as err:
        reply_draft_translate(user=world.agent, ticket=ticket, text="Sorry for the delay.")
    assert err.value.field == "target_language" and "en-es" in err.value.message
    with pytest.raises(ValidationFailed) as err:
        reply_draft_translate(user=world.agent, ticket=ticket, text="")
    assert err.value.field == "text"


def test_an_engine_crash_leaves_the_message_pending_and_the_ticket_open(
    world, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from aftersales.language import inbound

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("segfault in a provider library")

    monkeypatch.setattr(inbound, "translate_planned", crash)
    message = ingest(world, django_capture_on_commit_callbacks, "Hola, mi paquete no ha llegado todavía.")
    state = MessageTranslationState.objects.get(message=message)
    assert state.status == TranslationStatus.PENDING and "segfault" in state.last_error
    assert Ticket.objects.filter(pk=message.ticket_id).exists()
