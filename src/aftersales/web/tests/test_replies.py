"""The reply box: translate for the customer (real Apertium en->es; a local LLM server for zh->de),
edit and send the draft with the agent's original kept, send untranslated, errors next to the box,
reply templates rendered in the customer's language (machine-translated variants flagged)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from aftersales.inbox.models import Message
from aftersales.language.models import ReplyTemplateVariant
from aftersales.language.services import provider_config_save
from aftersales.language.templates import reply_template_save
from aftersales.language.tests.conftest import fake_llm
from aftersales.testing.factories import OrderFactory

from .conftest import htmx_headers

ENGLISH = "Hello, we will send you a new phone today."


@pytest.fixture(autouse=True)
def _clear_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def customer_ticket(world, language: str = "es", body: str = "Hola, mi cargador no funciona."):  # type: ignore[no-untyped-def]
    ticket = world.ticket(language=language)
    Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="inbound",
        channel="amazon",
        body=body,
        language=language,
        external_id=f"in-{ticket.pk}",
    )
    return ticket


def url(name: str, ticket, **kw) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"web:{name}", kwargs={"ticket_id": ticket.pk, **kw})


def field(html: str, name: str) -> str:
    match = re.search(rf'<textarea [^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, name
    return match.group(1)


def hidden(html: str, name: str) -> list[str]:
    return re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)


def test_reply_box_offers_translation_in_the_customers_language(world, login):
    html = login(world.agent).get(url("ticket", customer_ticket(world))).content.decode()
    box = re.search(r'<section id="reply-box".*?</section>', html, re.S).group(0)
    assert "the customer reads Spanish" in box and 'id="reply-translate"' in box
    assert "Translate for the customer" in box and 'name="draft"' not in box
    same = login(world.agent).get(url("ticket", customer_ticket(world, "en", "My charger broke."))).content.decode()
    assert 'id="reply-translate"' not in same


def test_translate_shows_the_draft_and_the_back_translation(world, login):
    ticket = customer_ticket(world)
    response = login(world.agent).post(
        url("reply_translate", ticket), {"body": ENGLISH, "idempotency_key": "k-7"}, **htmx_headers()
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<section id="reply-box"') and "hx-swap-oob" not in html
    assert field(html, "body") == ENGLISH
    draft = field(html, "draft")
    assert "teléfono" in draft and "hoy" in draft
    back = re.search(r'<div class="tr-text" id="reply-back-translation" dir="auto">(.*?)</div>', html, re.S).group(1)
    assert "telephone" in back.lower()
    assert 'data-quality="draft"' in html and "apertium" in html and "Discard translation" in html
    assert hidden(html, "draft_source") == [ENGLISH] and hidden(html, "idempotency_key") == ["k-7"]
    assert not Message.objects.filter(direction="outbound").exists()


def test_send_the_edited_draft_keeps_the_agents_original(world, login, django_capture_on_commit_callbacks):
    ticket = customer_ticket(world)
    edited = "Hola, le enviamos hoy un teléfono nuevo. Saludos."
    data = {
        "body": ENGLISH,
        "draft": edited,
        "draft_source": ENGLISH,
        "back_translation": "Hello, we send you today a new telephone.",
        "draft_provider": "apertium",
        "draft_quality": "draft",
        "draft_flags": ["pivot:en"],
        "idempotency_key": "k-1",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = login(world.agent).post(url("ticket_reply", ticket), data, **htmx_headers())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Reply queued for delivery." in html and 'name="draft"' not in html
    reply = Message.objects.get(direction="outbound")
    assert reply.body == edited and reply.language == "es"
    original = reply.translations["en"]
    assert original["text"] == ENGLISH and original["provider"] == "author"
    assert original["sent_translation"] == {"provider": "apertium", "quality": "draft"}
    timeline = re.search(r'<section id="ticket-timeline".*?</section>', html, re.S).group(0)
    assert edited in timeline and "Written in English, sent translated" in timeline and ENGLISH in timeline


def test_sending_untranslated_stays_possible(world, login):
    ticket = customer_ticket(world)
    response = login(world.agent).post(url("ticket_reply", ticket), {"body": "Hi Ana, thanks!"})
    assert response.status_code == 302
    reply = Message.objects.get(direction="outbound")
    assert reply.body == "Hi Ana, thanks!" and reply.translations == {}


def test_text_changed_after_translation_is_refused(world, login):
    ticket = customer_ticket(world)
    data = {"body": "Something else now", "draft": "Hola", "draft_source": ENGLISH}
    response = login(world.agent).post(url("ticket_reply", ticket), data, **htmx_headers())
    assert response.status_code == 422
    html = response.content.decode()
    assert "You changed your text after it was translated" in html and field(html, "draft") == "Hola"
    assert not Message.objects.filter(direction="outbound").exists()


def test_discard_keeps_the_agents_text(world, login):
    ticket = customer_ticket(world)
    data = {"body": ENGLISH, "draft": "Hola", "draft_source": ENGLISH, "discard": "1"}
    html = login(world.agent).post(url("reply_translate", ticket), data, **htmx_headers()).content.decode()
    assert field(html, "body") == ENGLISH and 'name="draft"' not in html


def test_translation_errors_are_shown_next_to_the_box(world, login):
    ticket = customer_ticket(world, "de", "Mein Ladegerät ist kaputt.")
    client = login(world.agent)
    unsupported = client.post(url("reply_translate", ticket), {"body": ENGLISH}, **htmx_headers())
    assert unsupported.status_code == 422
    html = unsupported.content.decode()
    assert 'id="translate-error"' in html and "No translation from English into German is set up" in html
    assert "supported pairs" in html and field(html, "body") == ENGLISH and 'id="reply-send"' in html
    provider_config_save(
        user=world.admin,
        name="llm",
        kind="openai",
        base_url="http://127.0.0.1:9/v1",
        options={"languages": ["de", "en"]},
    )
    down = client.post(url("reply_translate", ticket), {"body": ENGLISH}, **htmx_headers())
    assert down.status_code == 503 and "not available right now" in down.content.decode()
    empty = client.post(url("reply_translate", ticket), {"body": " "}, **htmx_headers())
    assert empty.status_code == 422 and "write the reply first" in empty.content.decode()
    page = client.post(url("reply_translate", ticket), {"body": ENGLISH})  # without JavaScript: the page
    assert page.status_code == 503 and "<html" in page.content.decode()
    assert login(world.viewer).post(url("reply_translate", ticket), {"body": ENGLISH}).status_code == 403


def test_chinese_agent_translates_for_a_german_customer(world, login):
    from aftersales.language.tests.conftest import ProtocolServer

    server = ProtocolServer(fake_llm("DE:")).start()
    try:
        provider_config_save(
            user=world.admin,
            name="qwen",
            kind="openai",
            base_url=server.url + "/v1",
            options={"model": "qwen-plus", "languages": ["zh", "de", "en"]},
        )
        world.agent.language = "zh-hans"
        world.agent.save()
        ticket = customer_ticket(world, "de", "Mein Ladegerät ist kaputt.")
        html = (
            login(world.agent)
            .post(url("reply_translate", ticket), {"body": "我们今天给您寄新的充电器。"})
            .content.decode()
        )
    finally:
        server.stop()
    assert field(html, "draft").startswith("DE: 我们今天") and "qwen" in html and 'data-quality="machine"' in html
    assert "翻译给客户" in html and "回译" in html


def make_template(world, **bodies: str):  # type: ignore[no-untyped-def]
    return reply_template_save(user=world.admin, name="Shipped", source_language="en", bodies=bodies)


def test_template_fills_both_languages(world, login):
    ticket = customer_ticket(world)
    ticket.order = OrderFactory(store=world.store_us, customer=ticket.customer, external_id="113-7654321-1234567")
    ticket.save()
    template = make_template(
        world,
        en="Your order {{ order.number }} has shipped.",
        es="Su pedido {{ order.number }} ha sido enviado.",
    )
    client = login(world.agent)
    page = client.get(url("ticket", ticket)).content.decode()
    assert f'<option value="{template.pk}">Shipped</option>' in page
    response = client.post(url("reply_template", ticket), {"template_id": template.pk}, **htmx_headers())
    assert response.status_code == 200
    html = response.content.decode()
    assert field(html, "body") == "Your order 113-7654321-1234567 has shipped."
    assert field(html, "draft") == "Su pedido 113-7654321-1234567 ha sido enviado."
    assert "The same template in your language" in html and 'data-quality="template"' in html
    assert "to review" not in html and hidden(html, "draft_origin") == ["template"]


def test_machine_translated_template_variant_is_flagged_and_can_be_approved(world, login):
    ticket = customer_ticket(world)
    template = make_template(world, en="Thank you for your patience.")
    client = login(world.agent)
    html = client.post(url("reply_template", ticket), {"template_id": template.pk}, **htmx_headers()).content.decode()
    variant = ReplyTemplateVariant.objects.get(template=template, language="es")
    assert variant.needs_review and variant.is_machine_translated
    assert "Machine-translated variant, to review" in html and field(html, "draft") == variant.body
    approve = url("template_variant_approve", ticket, variant_id=variant.pk)
    assert approve not in html  # reviewing the organization's templates is for admins
    assert client.post(approve, **htmx_headers()).status_code == 403
    admin = login(world.admin)
    html = admin.post(url("reply_template", ticket), {"template_id": template.pk}, **htmx_headers()).content.decode()
    assert approve in html
    reviewed = admin.post(approve, **htmx_headers())
    assert reviewed.status_code == 200 and "data-variant-reviewed" in reviewed.content.decode()
    variant.refresh_from_db()
    assert not variant.needs_review
    assert login(world.viewer).post(approve).status_code == 403


def test_template_errors(world, login):
    ticket = customer_ticket(world)
    client = login(world.agent)
    missing = client.post(url("reply_template", ticket), {"template_id": "", "body": "mine"}, **htmx_headers())
    assert missing.status_code == 422 and "Choose a template first." in missing.content.decode()
    assert field(missing.content.decode(), "body") == "mine"
    foreign = reply_template_save(user=world.foreign_user, name="Theirs", source_language="en", bodies={"en": "Hi"})
    other = client.post(url("reply_template", ticket), {"template_id": foreign.pk}, **htmx_headers())
    assert other.status_code == 404 and 'id="template-error"' in other.content.decode()
    german = customer_ticket(world, "de", "Mein Ladegerät ist kaputt.")
    template = make_template(world, en="Thank you.")
    unsupported = client.post(url("reply_template", german), {"template_id": template.pk}, **htmx_headers())
    assert unsupported.status_code == 422 and "No translation from English into German" in unsupported.content.decode()
