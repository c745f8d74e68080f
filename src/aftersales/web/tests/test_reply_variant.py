"""A reply translated in the web reply box for a buyer in Brazil is recorded as Brazilian Portuguese
(the draft's regional variant travels with the form), like the same reply through the API; the API's
draft says which variant it wrote."""

from __future__ import annotations

import re

from django.urls import reverse

from aftersales.api.tests.helpers import ApiClient
from aftersales.inbox.models import Message

from .conftest import htmx_headers

ENGLISH = "Hello, please contact us if the screen stays black."


def brazilian_ticket(world):  # type: ignore[no-untyped-def]
    ticket = world.ticket(language="pt")
    ticket.customer.country = "BR"
    ticket.customer.save()
    Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="inbound",
        channel="amazon",
        body="Olá, a tela do meu celular não liga.",
        language="pt",
        external_id=f"in-{ticket.pk}",
    )
    world.agent.language = "en"
    world.agent.save()
    return ticket


def _hidden(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html):
        found.setdefault(name, []).append(value)
    return found


def _draft(html: str) -> str:
    match = re.search(r'<textarea [^>]*name="draft"[^>]*>(.*?)</textarea>', html, re.S)
    assert match
    return match.group(1).strip()


def test_a_reply_translated_in_the_web_box_records_its_variant(world, login, django_capture_on_commit_callbacks):
    ticket = brazilian_ticket(world)
    client = login(world.agent)
    translated = client.post(
        reverse("web:reply_translate", kwargs={"ticket_id": ticket.pk}),
        {"body": ENGLISH, "idempotency_key": "br-1"},
        **htmx_headers(),
    )
    assert translated.status_code == 200
    html = translated.content.decode()
    fields = _hidden(html)
    assert fields.get("draft_language_variant") == ["pt-BR"]
    data: dict[str, object] = {name: values if len(values) > 1 else values[0] for name, values in fields.items()}
    import html as html_lib

    data.update(body=ENGLISH, draft=html_lib.unescape(_draft(html)))
    data = {k: (html_lib.unescape(v) if isinstance(v, str) else v) for k, v in data.items()}
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(reverse("web:ticket_reply", kwargs={"ticket_id": ticket.pk}), data, **htmx_headers())
    assert sent.status_code == 200, sent.content.decode()[:500]
    reply = Message.objects.get(ticket=ticket, direction="outbound")
    assert reply.translations["en"]["sent_translation"]["variant"] == "pt-BR"


def test_a_tampered_variant_is_not_recorded(world, login):
    ticket = brazilian_ticket(world)
    data = {
        "body": ENGLISH,
        "draft": "Olá, entre em contato",
        "draft_source": ENGLISH,
        "draft_provider": "apertium",
        "draft_quality": "draft",
        "draft_language_variant": "<script>",
        "idempotency_key": "br-2",
    }
    response = login(world.agent).post(reverse("web:ticket_reply", kwargs={"ticket_id": ticket.pk}), data)
    assert response.status_code in (200, 302)
    reply = Message.objects.get(ticket=ticket, direction="outbound")
    assert "variant" not in reply.translations["en"]["sent_translation"]


def test_the_api_draft_names_its_variant(world):
    ticket = brazilian_ticket(world)
    response = ApiClient(user=world.agent).post(
        f"/tickets/{ticket.pk}/reply-drafts", {"text": ENGLISH, "target_language": "pt"}
    )
    assert response.status_code == 200, response.content[:300]
    assert response.json()["variant"] == "pt-BR"
