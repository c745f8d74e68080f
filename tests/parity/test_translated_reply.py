"""A translated reply goes through one service (language.services.reply_send) from the API and the
web UI: the reply and the agent's original are stored together, or neither, and nothing is sent
when the original cannot be stored (the web UI used to log the failure and send anyway)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from aftersales.core.errors import ValidationFailed
from aftersales.inbox.models import Message

ENGLISH = "Hello, we will send you a new phone today."
SPANISH = "Hola, le enviamos hoy un teléfono nuevo."


@pytest.fixture
def failing_record(monkeypatch):  # type: ignore[no-untyped-def]
    from aftersales.language import services

    def refuse(**kwargs: Any) -> Any:
        raise ValidationFailed("the original cannot be stored", field="original_text")

    monkeypatch.setattr(services, "reply_record_translation", refuse)


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_api_sends_nothing_when_the_original_cannot_be_stored(
    world, failing_record, django_capture_on_commit_callbacks
):
    ticket = world.ticket(status="open")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _client(world.agent).post(
            f"/api/v1/tickets/{ticket.pk}/replies",
            {"body": SPANISH, "original_text": ENGLISH, "original_language": "en"},
            content_type="application/json",
        )
    assert response.status_code == 422 and response.json()["error"]["field"] == "original_text"
    assert not Message.objects.filter(direction="outbound").exists()
    assert callbacks == []  # no ReplyQueued: nothing is delivered


def test_web_ui_sends_nothing_when_the_original_cannot_be_stored(
    world, failing_record, django_capture_on_commit_callbacks
):
    ticket = world.ticket(status="open")
    data = {"body": ENGLISH, "draft": SPANISH, "draft_source": ENGLISH, "draft_provider": "apertium"}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _client(world.agent).post(
            reverse("web:ticket_reply", args=[ticket.pk]), data, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 422
    assert "the original cannot be stored" in response.content.decode()
    assert not Message.objects.filter(direction="outbound").exists()
    assert callbacks == []


def test_both_keep_the_original_next_to_the_reply(world):
    ticket = world.ticket(status="open")
    api = _client(world.agent).post(
        f"/api/v1/tickets/{ticket.pk}/replies",
        {"body": SPANISH, "original_text": ENGLISH, "original_language": "en"},
        content_type="application/json",
    )
    assert api.status_code == 201
    world.agent.language = "en"
    world.agent.save()
    data = {"body": ENGLISH, "draft": SPANISH + " Saludos.", "draft_source": ENGLISH, "idempotency_key": "w-1"}
    web = _client(world.agent).post(reverse("web:ticket_reply", args=[ticket.pk]), data)
    assert web.status_code == 302
    replies = list(Message.objects.filter(direction="outbound").order_by("id"))
    assert [r.translations["en"]["text"] for r in replies] == [ENGLISH, ENGLISH]
    assert [r.translations["en"]["provider"] for r in replies] == ["author", "author"]
