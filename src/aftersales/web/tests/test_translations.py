"""Translations on the ticket timeline: original and translation side by side with provider,
quality, markers and warnings; pending badge; re-translate (real Apertium es->en); corrections into
the translation memory; OCR text and transcripts under attachments; a reply's written original."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.urls import reverse

from aftersales.inbox.models import Attachment, Message
from aftersales.language.models import AttachmentText, MemorySegment, MessageTranslationState, TranslationStatus
from aftersales.language.services import provider_config_save

from .conftest import htmx_headers


@pytest.fixture(autouse=True)
def _clear_cache():  # type: ignore[no-untyped-def]
    cache.clear()  # a provider marked "down" must not leak into another test
    yield
    cache.clear()


def inbound(ticket, body: str, language: str, translations: dict | None = None, **kw) -> Message:  # type: ignore[no-untyped-def]
    return Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="inbound",
        channel="amazon",
        author_name="Ana",
        body=body,
        language=language,
        translations=translations or {},
        external_id=kw.pop("external_id", f"in-{Message.objects.count()}"),
        **kw,
    )


def page(client, ticket) -> str:  # type: ignore[no-untyped-def]
    response = client.get(reverse("web:ticket", args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


def article(html: str, message: Message) -> str:
    match = re.search(rf'<article [^>]*id="message-{message.pk}">.*?</article>', html, re.S)
    assert match, f"message {message.pk} not on the page"
    return match.group(0)


def test_inbound_message_shows_original_and_translation_with_markers(world, login):
    ticket = world.ticket()
    entry = {
        "text": "My Anker charger for order ⟦?⟧ arrived broken.",
        "provider": "apertium",
        "quality": "draft",
        "glossary_applied": ["Anker"],
        "tm_applied": True,
        "flags": ["placeholders_lost"],
        "source_language": "es",
    }
    message = inbound(
        ticket,
        "Mi cargador Anker del pedido 113-1234567-1234567 llegó roto.",
        "es",
        {"en": entry, "zh-hans": {"text": "我的充电器坏了。", "provider": "qwen", "quality": "machine"}},
    )
    html = article(page(login(world.agent), ticket), message)
    assert 'class="msg msg-inbound msg-bilingual"' in html and 'class="msg-columns"' in html
    original = re.search(r'<div class="msg-original">.*?</div>\s*</div>', html, re.S).group(0)
    assert "Mi cargador Anker" in original and "Spanish" in original
    translation = re.search(r'<div class="msg-translation" id="translation-\d+" lang="en">.*', html, re.S).group(0)
    assert "My Anker charger" in translation and "apertium" in translation
    assert 'data-quality="draft"' in translation and "Draft quality (rule-based)" in translation
    assert 'data-marker="tm"' in translation and 'data-marker="glossary"' in translation and "Anker" in translation
    assert 'data-flag="placeholders_lost"' in translation and "check them" in translation
    # the Chinese translation is there too, out of the way
    assert '<details class="tr-others">' in html and "我的充电器坏了。" in html
    assert reverse("web:message_retranslate", args=[ticket.pk, message.pk]) in html
    assert reverse("web:translation_correct", args=[ticket.pk, message.pk]) in html
    assert "Translation pending" not in html


def arabic_thread(world):  # type: ignore[no-untyped-def]
    """A ticket with an Arabic buyer message (translated into English) and our Arabic reply."""
    ticket = world.ticket(language="ar")
    message = inbound(
        ticket,
        "وصل الشاحن مكسورًا. الطلب رقم 113-1234567-1234567، أرجو الاستبدال.",
        "ar",
        {
            "en": {
                "text": "The charger arrived broken. Order 113-1234567-1234567, please replace it.",
                "provider": "deepl",
                "quality": "machine",
            }
        },
    )
    reply = outbound(ticket, world.agent, "نرسل لك شاحنًا جديدًا اليوم.", "ar", "We send you a new charger today.")
    return ticket, message, reply


def outbound(ticket, author, body: str, language: str, written: str) -> Message:  # type: ignore[no-untyped-def]
    """A reply sent in `language`, written by the agent as `written` (English)."""
    return Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="outbound",
        channel="amazon",
        author=author,
        body=body,
        language=language,
        translations={"en": {"text": written, "provider": "author", "quality": "original"}},
    )


def test_arabic_message_and_reply_bodies_are_direction_auto(world, login):
    ticket, message, reply = arabic_thread(world)
    html = page(login(world.agent), ticket)
    original = article(html, message)
    assert f'<div class="msg-body" id="message-body-{message.pk}" dir="auto">وصل الشاحن مكسورًا.' in original
    assert '<div class="tr-text" dir="auto">The charger arrived broken.' in original
    sent = article(html, reply)
    assert f'<div class="msg-body" id="message-body-{reply.pk}" dir="auto">نرسل لك شاحنًا جديدًا اليوم.' in sent
    assert '<div class="tr-text" dir="auto">We send you a new charger today.' in sent
    assert 'id="reply-body" name="body" rows="5" lang="en" dir="auto"' in html


def test_chinese_agent_reads_the_chinese_translation(world, login):
    world.agent.language = "zh-hans"
    world.agent.save()
    ticket = world.ticket(language="de")
    message = inbound(
        ticket,
        "Die Powerbank lädt nicht.",
        "de",
        {"zh-hans": {"text": "充电宝不能充电。", "provider": "deepl", "quality": "machine"}},
    )
    html = article(page(login(world.agent), ticket), message)
    assert 'lang="zh-hans"' in html and "充电宝不能充电。" in html and "机器翻译" in html
    assert "纠正此翻译" in html and "重新翻译" in html and "原文" in html


def test_message_in_the_agents_language_is_shown_once(world, login):
    ticket = world.ticket()
    message = inbound(ticket, "My charger is broken.", "en")
    html = article(page(login(world.agent), ticket), message)
    assert "msg-bilingual" not in html and "msg-translation" not in html and "Re-translate" not in html


def test_pending_and_unsupported_states(world, login):
    ticket = world.ticket()
    pending = inbound(ticket, "Mein Paket ist nicht angekommen.", "de")
    MessageTranslationState.objects.create(message=pending, status=TranslationStatus.PENDING, last_error="down")
    unsupported = inbound(ticket, "Moja paczka nie dotarła.", "pl")
    MessageTranslationState.objects.create(message=unsupported, status=TranslationStatus.UNSUPPORTED)
    html = page(login(world.agent), ticket)
    first, second = article(html, pending), article(html, unsupported)
    assert "data-translation-pending" in first and "retried automatically" in first
    assert "data-translation-pending" not in second and "No translation provider is set up" in second


def test_viewer_may_retranslate_but_not_correct(world, login):
    ticket = world.ticket()
    message = inbound(ticket, "Hola", "es", {"en": {"text": "Hello", "provider": "apertium", "quality": "draft"}})
    client = login(world.viewer)
    html = article(page(client, ticket), message)
    assert "Re-translate" in html and "Correct this translation" not in html
    url = reverse("web:translation_correct", args=[ticket.pk, message.pk])
    assert client.post(url, {"text": "Hi"}).status_code == 403


def test_retranslate_with_apertium_htmx(world, login):
    ticket = world.ticket()
    message = inbound(ticket, "Hola, mi paquete no ha llegado todavía.", "es")
    url = reverse("web:message_retranslate", args=[ticket.pk, message.pk])
    response = login(world.agent).post(url, **htmx_headers())
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<article class="msg msg-inbound msg-bilingual" id="message-{message.pk}">')
    assert "Translated again." in html and "package" in html.lower() and 'data-quality="draft"' in html
    message.refresh_from_db()
    assert message.translations["en"]["provider"] == "apertium"


def test_retranslate_without_js_comes_back_to_the_message(world, login):
    ticket = world.ticket()
    message = inbound(ticket, "Hola, gracias.", "es")
    response = login(world.agent).post(reverse("web:message_retranslate", args=[ticket.pk, message.pk]))
    assert response.status_code == 302 and response["Location"].endswith(f"#message-{message.pk}")


def test_retranslate_errors_are_shown_in_the_message(world, login):
    ticket = world.ticket()
    message = inbound(ticket, "Mein Paket ist nicht angekommen.", "de")
    client = login(world.agent)
    url = reverse("web:message_retranslate", args=[ticket.pk, message.pk])
    unsupported = client.post(url, **htmx_headers())
    assert unsupported.status_code == 422
    assert "No translation from German into English is set up" in unsupported.content.decode()
    # a provider for German that is down: 503, "not available right now", nothing stored
    provider_config_save(
        user=world.admin,
        name="llm",
        kind="openai",
        base_url="http://127.0.0.1:9/v1",
        options={"languages": ["de", "en"]},
    )
    down = client.post(url, **htmx_headers())
    assert down.status_code == 503 and "not available right now" in down.content.decode()
    without_js = client.post(url)
    assert without_js.status_code == 503 and "<html" in without_js.content.decode()
    message.refresh_from_db()
    assert message.translations == {}
    other = inbound(world.ticket(store=world.store_de), "Hallo", "de")
    assert client.post(reverse("web:message_retranslate", args=[ticket.pk, other.pk])).status_code == 404


def test_correction_becomes_memory_and_is_shown(world, login):
    ticket = world.ticket()
    message = inbound(
        ticket, "¿Dónde está mi pedido?", "es", {"en": {"text": "Where is my asked?", "provider": "apertium"}}
    )
    client = login(world.agent)
    url = reverse("web:translation_correct", args=[ticket.pk, message.pk])
    response = client.post(url, {"text": "Where is my order?"}, **htmx_headers())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Where is my order?" in html and 'data-flag="corrected"' in html and "Correction saved" in html
    message.refresh_from_db()
    assert message.translations["en"]["provider"] == "agent"
    assert MemorySegment.objects.get().target_text == "Where is my order?"
    empty = client.post(url, {"text": "  "}, **htmx_headers())
    assert empty.status_code == 422
    body = empty.content.decode()
    assert "must not be empty" in body and '<details class="tr-correct" open>' in body
    assert client.post(url, {"text": "Where is my parcel?"}).status_code == 302


def test_attachment_texts_with_translations(world, login):
    ticket = world.ticket()
    message = inbound(ticket, "Mira la foto y el audio.", "es")
    photo = Attachment.objects.create(
        message=message,
        file=ContentFile(b"png", name="label.png"),
        filename="label.png",
        content_type="image/png",
        size=3,
        sha256="0" * 64,
    )
    voice = Attachment.objects.create(
        message=message,
        file=ContentFile(b"ogg", name="voice.ogg"),
        filename="voice.ogg",
        content_type="audio/ogg",
        size=3,
        sha256="1" * 64,
    )
    broken = Attachment.objects.create(
        message=message,
        file=ContentFile(b"x", name="scan.pdf"),
        filename="scan.pdf",
        content_type="application/pdf",
        size=1,
        sha256="2" * 64,
    )
    AttachmentText.objects.create(
        attachment=photo,
        kind="ocr",
        engine="rapidocr",
        text="Devolución autorizada",
        language="es",
        blocks=[{"text": "Devolución autorizada", "box": [[1, 2], [90, 2], [90, 20], [1, 20]], "confidence": 0.9}],
        translations={"en": {"text": "Authorised return", "provider": "apertium", "quality": "draft"}},
    )
    AttachmentText.objects.create(
        attachment=voice,
        kind="transcript",
        engine="pocketsphinx",
        text="el cable no funciona",
        language="es",
        translations={"en": {"error": "no provider"}},
    )
    AttachmentText.objects.create(attachment=broken, kind="pdf_text", error="the PDF is corrupt")
    html = article(page(login(world.agent), ticket), message)
    assert "Text in the image" in html and "Devolución autorizada" in html and "Authorised return" in html
    assert '<polygon points="1,2 90,2 90,20 1,20">' in html and "data-ocr-image" in html
    assert "Voice message transcript" in html and "el cable no funciona" in html and "no provider" in html
    assert "This file could not be read:" in html and "the PDF is corrupt" in html


def test_reply_shows_what_was_sent_and_the_agents_original(world, login):
    ticket = world.ticket()
    reply = outbound(
        ticket, world.agent, "Le enviamos un cargador nuevo hoy.", "es", "We send you a new charger today."
    )
    html = article(page(login(world.teammate), ticket), reply)
    assert "Le enviamos un cargador nuevo hoy." in html
    assert "Written in English, sent translated" in html and "We send you a new charger today." in html
    assert "Re-translate" not in html
