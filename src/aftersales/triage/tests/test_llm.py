"""The optional LLM classification provider (triage/llm.py, docs/adr/0023) against a local server
speaking the OpenAI Chat Completions protocol: the exact request, strict validation of the answer,
the json_object fallback, bounded retries, limits, the engine recorded, and nothing sent when off."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from django.core.cache import cache

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.language.tests.conftest import Request
from aftersales.triage import llm
from aftersales.triage import services as triage_services
from aftersales.triage.labels import Intent
from aftersales.triage.models import LLMProviderSettings, TriageResult
from aftersales.triage.selectors import llm_provider_settings, ticket_triage
from aftersales.triage.services import llm_provider_update

pytestmark = [pytest.mark.django_db]


def _completion(content: Any) -> tuple[int, Any]:
    text = content if isinstance(content, str) else json.dumps(content)
    return 200, {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }


GOOD = {"intent": "wrong_item", "confidence": 0.93, "urgency": "medium", "sentiment": "negative"}


@pytest.fixture(autouse=True)
def _local_llm_allowed(settings):  # type: ignore[no-untyped-def]
    settings.TRIAGE_LLM_ALLOW_HTTP = True
    settings.TRIAGE_LLM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    cache.clear()
    yield
    cache.clear()


def _configure(world, server, **extra: Any) -> LLMProviderSettings:  # type: ignore[no-untyped-def]
    values: dict[str, Any] = {
        "is_enabled": True,
        "base_url": server.url + "/v1",
        "model": "qwen2.5:7b-instruct",
        "api_key": "sk-test-123",
        "timeout_seconds": 2,
        "fields": ["intent", "urgency", "sentiment"],
    }
    values.update(extra)
    return llm_provider_update(user=world.admin, **values)


def _ingest(world, body: str, external_id: str = "llm-1"):  # type: ignore[no-untyped-def]
    return message_ingest(
        inbound=InboundMessage(
            store=world.store_us, external_id=external_id, body=body, customer_external_id=f"C-{external_id}"
        )
    )


# --------------------------------------------------------------------------- pure parts


def test_chat_url_of_each_kind_of_base_url() -> None:
    assert llm.chat_url("https://api.openai.com/v1") == "https://api.openai.com/v1/chat/completions"
    assert llm.chat_url("https://api.deepseek.com") == "https://api.deepseek.com/v1/chat/completions"
    assert (
        llm.chat_url("https://dashscope.aliyuncs.com/compatible-mode/v1/")
        == "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"
    )
    assert llm.chat_url("http://127.0.0.1:11434/v1") == "http://127.0.0.1:11434/v1/chat/completions"
    assert (
        llm.chat_url("https://acme.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21")
        == "https://acme.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21"
    )
    assert llm.auth_headers("https://acme.openai.azure.com/openai/deployments/x", "k") == {"api-key": "k"}
    assert llm.auth_headers("https://api.openai.com/v1", "k") == {"Authorization": "Bearer k"}
    assert llm.auth_headers("http://127.0.0.1:11434/v1", "") == {}


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("not json at all", "malformed JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({**GOOD, "intent": "hug_request"}), "unknown intent"),
        (json.dumps({**GOOD, "urgency": "critical"}), "unknown urgency"),
        (json.dumps({**GOOD, "sentiment": "angry"}), "unknown sentiment"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "confidence"}), "missing field(s): confidence"),
        (json.dumps({**GOOD, "confidence": 1.7}), "out of range"),
        (json.dumps({**GOOD, "confidence": -0.1}), "out of range"),
        (json.dumps({**GOOD, "confidence": "high"}), "not a number"),
        (json.dumps({**GOOD, "confidence": True}), "not a number"),
        (json.dumps({**GOOD, "reason": "because"}), "unknown field(s): reason"),
        (None, "no message content"),
    ],
)
def test_answers_are_validated_strictly(content: Any, why: str) -> None:
    with pytest.raises(llm.LLMError) as caught:
        llm.parse_answer(content)
    assert caught.value.kind == "invalid_answer" and why in str(caught.value)


def test_a_fenced_answer_is_accepted() -> None:
    assert llm.parse_answer("```json\n" + json.dumps(GOOD) + "\n```") == llm.Answer(
        "wrong_item", 0.93, "medium", "negative"
    )


# --------------------------------------------------------------------------- the protocol


def test_the_request_shape(protocol_server) -> None:  # type: ignore[no-untyped-def]
    server = protocol_server(lambda request: _completion(GOOD))
    config = llm.ProviderConfig(base_url=server.url + "/v1", model="gpt-4o-mini", api_key="sk-abc", timeout=2)
    answer = llm.classify(config, "Ich habe die falsche Farbe bekommen", "de", transport=httpx.HTTPTransport())
    assert answer == llm.Answer("wrong_item", 0.93, "medium", "negative")
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-abc"
    body = request.body
    assert set(body) == {"model", "temperature", "messages", "response_format"}
    assert body["model"] == "gpt-4o-mini" and body["temperature"] == 0
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert all(intent in system["content"] for intent in Intent.values)
    assert "low, medium, high" in system["content"] and "negative, neutral, positive" in system["content"]
    assert user["content"] == "Language: de\nMessage:\nIch habe die falsche Farbe bekommen"
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    schema = response_format["json_schema"]["schema"]
    assert response_format["json_schema"]["strict"] is True
    assert schema["required"] == ["intent", "confidence", "urgency", "sentiment"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["intent"]["enum"] == list(Intent.values)


def test_a_server_without_json_schema_is_asked_for_a_json_object(protocol_server) -> None:  # type: ignore[no-untyped-def]
    def handle(request: Request) -> tuple[int, Any]:
        if request.body["response_format"]["type"] == "json_schema":
            return 400, {"error": {"message": "response_format type json_schema is not supported", "type": "invalid"}}
        return _completion(GOOD)

    server = protocol_server(handle)
    config = llm.ProviderConfig(base_url=server.url, model="m", timeout=2)
    assert llm.classify(config, "wrong colour", "en", transport=httpx.HTTPTransport()).intent == "wrong_item"
    assert [r.body["response_format"]["type"] for r in server.requests] == ["json_schema", "json_object"]
    assert server.requests[0].path == "/v1/chat/completions"
    assert "Authorization" not in server.requests[0].headers


@pytest.mark.parametrize(("status", "kind"), [(500, "unavailable"), (503, "unavailable"), (429, "rate_limited")])
def test_transient_errors_are_retried_a_bounded_number_of_times(protocol_server, status, kind) -> None:  # type: ignore[no-untyped-def]
    server = protocol_server(lambda request: (status, {"error": {"message": "busy"}}))
    slept: list[float] = []
    config = llm.ProviderConfig(base_url=server.url + "/v1", model="m", timeout=2)
    with pytest.raises(llm.LLMError) as caught:
        llm.classify(config, "hi", "en", transport=httpx.HTTPTransport(), sleep=slept.append)
    assert caught.value.kind == kind
    assert len(server.requests) == llm.MAX_ATTEMPTS and len(slept) == llm.MAX_ATTEMPTS - 1


def test_a_retry_that_succeeds_and_retry_after_is_honoured(protocol_server) -> None:  # type: ignore[no-untyped-def]
    answers = [(429, {"error": {"message": "slow down"}}), _completion(GOOD)]
    server = protocol_server(lambda request: answers.pop(0))
    slept: list[float] = []
    config = llm.ProviderConfig(base_url=server.url + "/v1", model="m", timeout=2)
    assert llm.classify(config, "hi", "en", transport=httpx.HTTPTransport(), sleep=slept.append).intent == "wrong_item"
    assert len(server.requests) == 2 and len(slept) == 1


def test_auth_errors_and_timeouts(protocol_server) -> None:  # type: ignore[no-untyped-def]
    server = protocol_server(lambda request: (401, {"error": {"message": "bad key"}}))
    config = llm.ProviderConfig(base_url=server.url + "/v1", model="m", timeout=2)
    with pytest.raises(llm.LLMError) as caught:
        llm.classify(config, "hi", "en", transport=httpx.HTTPTransport(), sleep=lambda s: None)
    assert caught.value.kind == "auth" and len(server.requests) == 1  # never retried
    slow = protocol_server(lambda request: _completion(GOOD))
    slow.delay = 1.5
    config = llm.ProviderConfig(base_url=slow.url + "/v1", model="m", timeout=1)
    with pytest.raises(llm.LLMError) as caught:
        llm.classify(config, "hi", "en", transport=httpx.HTTPTransport(), sleep=lambda s: None)
    assert caught.value.kind == "timeout" and len(slow.requests) == llm.MAX_ATTEMPTS


def test_a_private_address_is_refused_at_connect_time_without_the_allowlist(protocol_server, settings) -> None:  # type: ignore[no-untyped-def]
    server = protocol_server(lambda request: _completion(GOOD))
    settings.TRIAGE_LLM_ALLOWED_NETWORKS = []
    config = llm.ProviderConfig(base_url=server.url + "/v1", model="m", timeout=2)
    with pytest.raises(llm.LLMError) as caught:
        llm.classify(config, "hi", "en", sleep=lambda s: None)  # the default, pinned transport
    assert caught.value.kind == "refused" and server.requests == []


# --------------------------------------------------------------------------- settings


def test_settings_are_checked_and_the_key_is_encrypted(world, protocol_server) -> None:  # type: ignore[no-untyped-def]
    server = protocol_server(lambda request: _completion(GOOD))
    _configure(world, server)
    view = llm_provider_settings(world.admin)
    assert view.is_enabled and view.has_api_key and view.fields == ("intent", "urgency", "sentiment")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM triage_llmprovidersettings WHERE organization_id = %s", [world.org.pk])
        [stored] = cursor.fetchone()
    assert "sk-test-123" not in stored
    with pytest.raises(PermissionDenied):
        llm_provider_update(user=world.agent, is_enabled=False)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"base_url": "ftp://example.com"}, "base_url"),
        ({"base_url": "https://user:pw@example.com/v1"}, "base_url"),
        ({"base_url": "https://169.254.169.254/v1"}, "base_url"),
        ({"model": "x" * 121}, "model"),
        ({"timeout_seconds": 0.1}, "timeout_seconds"),
        ({"fields": ["intent", "colour"]}, "fields"),
        ({"max_per_minute": -1}, "max_per_minute"),
        ({"fields": []}, "fields"),  # on, with nothing to decide
    ]
    for values, field in bad:
        with pytest.raises(ValidationFailed) as caught:
            llm_provider_update(user=world.admin, **values)
        assert caught.value.field == field, values
    row = LLMProviderSettings.objects.get(organization=world.org)
    assert row.fields == ["intent", "urgency", "sentiment"] and row.base_url == server.url + "/v1"  # unchanged
    llm_provider_update(user=world.admin, api_key="")
    assert not llm_provider_settings(world.admin).has_api_key


def test_a_private_base_url_is_refused_on_save_without_the_allowlist(world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRIAGE_LLM_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationFailed) as caught:
        llm_provider_update(user=world.admin, base_url="http://127.0.0.1:11434/v1")
    assert caught.value.field == "base_url"
    settings.TRIAGE_LLM_ALLOW_HTTP = False
    settings.TRIAGE_LLM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with pytest.raises(ValidationFailed):
        llm_provider_update(user=world.admin, base_url="http://127.0.0.1:11434/v1")


# --------------------------------------------------------------------------- the worker path


@pytest.mark.usefixtures("triage_model")
def test_nothing_is_sent_unless_configured_and_on(world, protocol_server, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    server = protocol_server(lambda request: _completion(GOOD))
    _configure(world, server, is_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        result = _ingest(world, "I received the wrong item, I ordered a blue one")
    assert server.requests == []
    triage = TriageResult.objects.get(message__ticket=result.ticket)
    assert triage.engine == "local" and triage.engine_note == ""


@pytest.mark.usefixtures("triage_model")
def test_the_llm_classifies_and_the_engine_is_recorded_and_shown(  # type: ignore[no-untyped-def]
    world,
    protocol_server,
    django_capture_on_commit_callbacks,
    client,
) -> None:
    server = protocol_server(lambda request: _completion({**GOOD, "intent": "missing_parts", "confidence": 0.97}))
    _configure(world, server)
    with django_capture_on_commit_callbacks(execute=True):
        result = _ingest(world, "The box came without the charger and the cable")
    [request] = server.requests
    assert request.body["model"] == "qwen2.5:7b-instruct"
    assert "The box came without the charger and the cable" in request.body["messages"][1]["content"]
    triage = TriageResult.objects.get(message__ticket=result.ticket)
    assert (triage.intent, triage.confidence, triage.engine) == ("missing_parts", 0.97, "llm:qwen2.5:7b-instruct")
    assert not triage.needs_human and triage.engine_note.startswith("LLM confidence not calibrated")
    shown = ticket_triage(ticket_id=result.ticket.pk)
    assert shown is not None and shown.engine == "llm:qwen2.5:7b-instruct"
    client.force_login(world.agent)
    page = client.get(f"/tickets/{result.ticket.pk}/").content.decode()
    assert 'data-engine="llm:qwen2.5:7b-instruct"' in page


@pytest.mark.usefixtures("triage_model")
def test_low_confidence_goes_to_a_human_and_threat_rules_still_win(  # type: ignore[no-untyped-def]
    world,
    protocol_server,
    django_capture_on_commit_callbacks,
) -> None:
    server = protocol_server(lambda request: _completion({**GOOD, "intent": "refund_request", "confidence": 0.2}))
    _configure(world, server)
    with django_capture_on_commit_callbacks(execute=True):
        unsure = _ingest(world, "hmm about my order", external_id="llm-unsure")
        threat = _ingest(world, "Refund me now or I file a chargeback with my bank", external_id="llm-threat")
    low = TriageResult.objects.get(message__ticket=unsure.ticket)
    assert low.engine.startswith("llm:") and low.needs_human and "low_confidence" in low.reasons
    rule = TriageResult.objects.get(message__ticket=threat.ticket)
    assert rule.intent == "chargeback_dispute_threat" and rule.urgency == "high" and "threat" in rule.reasons


@pytest.mark.usefixtures("triage_model")
def test_only_the_allowed_fields_are_taken(world, protocol_server, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    answer = {"intent": "praise_thanks", "confidence": 0.99, "urgency": "high", "sentiment": "positive"}
    server = protocol_server(lambda request: _completion(answer))
    body = "Where is my parcel? It has been two weeks"
    _configure(world, server, is_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        local = _ingest(world, body, external_id="local")
    _configure(world, server, fields=["sentiment"])
    with django_capture_on_commit_callbacks(execute=True):
        result = _ingest(world, body, external_id="llm")
    alone = TriageResult.objects.get(message__ticket=local.ticket)
    triage = TriageResult.objects.get(message__ticket=result.ticket)
    assert triage.engine.startswith("llm:") and triage.sentiment == "positive"
    assert (triage.intent, triage.urgency, triage.confidence) == (alone.intent, alone.urgency, alone.confidence)


@pytest.mark.usefixtures("triage_model")
def test_an_invalid_answer_keeps_the_local_result_and_says_why(  # type: ignore[no-untyped-def]
    world,
    protocol_server,
    django_capture_on_commit_callbacks,
) -> None:
    server = protocol_server(lambda request: _completion({**GOOD, "intent": "hug_request"}))
    _configure(world, server)
    with django_capture_on_commit_callbacks(execute=True):
        result = _ingest(world, "I want to cancel my order please")
    triage = TriageResult.objects.get(message__ticket=result.ticket)
    assert triage.engine == "local" and triage.intent != "hug_request"
    assert "invalid_answer" in triage.engine_note and "hug_request" in triage.engine_note
    view = llm_provider_settings(world.admin)
    assert "unknown intent" in view.last_error and view.last_error_at is not None


@pytest.mark.usefixtures("triage_model")
def test_the_per_minute_limit_stops_calls(  # type: ignore[no-untyped-def]
    world, protocol_server, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    # The limit counts calls per clock minute (a fixed window): two calls either side of a minute's end are in
    # two windows. Both calls happen at one instant in the middle of a minute here (the CI run of 2026-12-07
    # made its two calls across a minute's end and saw both go out).
    mid_minute = SimpleNamespace(time=lambda: 1_800_000_030.0, monotonic=time.monotonic, sleep=time.sleep)
    monkeypatch.setattr(triage_services, "time", mid_minute)
    server = protocol_server(lambda request: _completion(GOOD))
    _configure(world, server, max_per_minute=1)
    with django_capture_on_commit_callbacks(execute=True):
        first = _ingest(world, "I got the wrong item", external_id="a")
        second = _ingest(world, "I got the wrong colour", external_id="b")
    assert len(server.requests) == 1
    assert TriageResult.objects.get(message__ticket=first.ticket).engine.startswith("llm:")
    late = TriageResult.objects.get(message__ticket=second.ticket)
    assert late.engine == "local" and "per minute" in late.engine_note


@pytest.mark.usefixtures("triage_model")
def test_a_dead_server_never_blocks_the_ticket(
    world, protocol_server, django_capture_on_commit_callbacks, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(llm.time, "sleep", lambda s: None)
    server = protocol_server(lambda request: (503, {"error": {"message": "overloaded"}}))
    _configure(world, server)
    with django_capture_on_commit_callbacks(execute=True):
        result = _ingest(world, "Where is my parcel?")
    assert result.ticket.pk is not None and len(server.requests) == llm.MAX_ATTEMPTS
    triage = TriageResult.objects.get(message__ticket=result.ticket)
    assert triage.engine == "local" and "unavailable" in triage.engine_note
