"""Each HTTP provider against a local server on 127.0.0.1 that checks the provider's documented
request (path, auth header, body, batching) and answers with the documented response and errors."""

from __future__ import annotations

import json

import pytest

from aftersales.language.providers.azure import AzureProvider
from aftersales.language.providers.base import ProviderError
from aftersales.language.providers.deepl import DeepLProvider, default_base_url
from aftersales.language.providers.google import GoogleProvider
from aftersales.language.providers.libretranslate import LibreTranslateProvider
from aftersales.language.providers.openai_compatible import OpenAICompatibleProvider

from .conftest import Request, fake_llm


def _deepl(request: Request) -> tuple[int, object]:
    if request.path != "/v2/translate" or request.headers.get("Authorization") != "DeepL-Auth-Key k-123:fx":
        return 403, {"message": "Wrong endpoint or key"}
    body = request.body
    assert body["source_lang"] == "DE" and body["target_lang"] == "ZH-HANS"
    return 200, {"translations": [{"detected_source_language": "DE", "text": f"译:{t}"} for t in body["text"]]}


def test_deepl_request_batching_and_response(protocol_server) -> None:
    server = protocol_server(_deepl)
    provider = DeepLProvider(base_url=server.url, credentials={"api_key": "k-123:fx"}, max_batch=2)
    out = provider.translate_batch(["Hallo", "Paket ⟦0⟧ fehlt", "Danke"], "de", "zh")
    assert out == ["译:Hallo", "译:Paket ⟦0⟧ fehlt", "译:Danke"]
    assert [len(r.body["text"]) for r in server.requests] == [2, 1]  # batches of at most max_batch
    assert default_base_url("abc:fx") == "https://api-free.deepl.com"


@pytest.mark.parametrize(
    ("status", "payload", "kind", "permanent"),
    [
        (456, {"message": "Quota exceeded"}, "quota", False),
        (429, {"message": "Too many requests"}, "rate_limited", False),
        (503, {"message": "Service unavailable"}, "unavailable", False),
        (403, {"message": "Authorization failed"}, "auth", True),
        (400, {"message": "Value for 'target_lang' not supported."}, "bad_request", True),
    ],
)
def test_deepl_errors(protocol_server, status, payload, kind, permanent) -> None:
    server = protocol_server(lambda r: (status, payload))
    provider = DeepLProvider(base_url=server.url, credentials={"api_key": "k"})
    with pytest.raises(ProviderError) as err:
        provider.translate_batch(["Hallo"], "de", "en")
    assert (err.value.kind, err.value.permanent, err.value.status) == (kind, permanent, status)
    assert payload["message"] in str(err.value)


def test_google_v3_request_and_errors(protocol_server) -> None:
    def handle(request: Request) -> tuple[int, object]:
        assert request.path == "/v3/projects/shop-123/locations/global:translateText"
        if request.headers.get("Authorization") != "Bearer ya29.token":
            return 401, {
                "error": {"code": 401, "message": "Request had invalid authentication", "status": "UNAUTHENTICATED"}
            }
        body = request.body
        assert body["sourceLanguageCode"] == "de" and body["targetLanguageCode"] == "zh-CN"
        assert body["mimeType"] == "text/plain"
        if body["contents"] == ["quota"]:
            return 429, {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}
        if body["contents"] == ["boom"]:
            return 500, {"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}
        return 200, {"translations": [{"translatedText": f"G:{t}"} for t in body["contents"]]}

    server = protocol_server(handle)
    creds = {"access_token": "ya29.token", "project_id": "shop-123"}
    provider = GoogleProvider(base_url=server.url, credentials=creds)
    assert provider.translate_batch(["Hallo", "Tschüss"], "de", "zh") == ["G:Hallo", "G:Tschüss"]
    with pytest.raises(ProviderError) as err:
        provider.translate_batch(["quota"], "de", "zh")
    assert err.value.kind == "quota"
    with pytest.raises(ProviderError) as err:
        provider.translate_batch(["boom"], "de", "zh")
    assert err.value.kind == "unavailable"
    bad = GoogleProvider(base_url=server.url, credentials={"access_token": "wrong", "project_id": "shop-123"})
    with pytest.raises(ProviderError) as err:
        bad.translate_batch(["Hallo"], "de", "zh")
    assert err.value.kind == "auth" and err.value.permanent


def test_azure_request_and_errors(protocol_server) -> None:
    def handle(request: Request) -> tuple[int, object]:
        assert request.path == "/translate"
        assert request.query == {"api-version": ["3.0"], "from": ["de"], "to": ["zh-Hans"]}
        if request.headers.get("Ocp-Apim-Subscription-Key") != "az-key":
            return 401, {"error": {"code": 401000, "message": "The request is not authorized"}}
        assert request.headers.get("Ocp-Apim-Subscription-Region") == "westeurope"
        texts = [item["Text"] for item in request.body]
        if texts == ["quota"]:
            return 403, {"error": {"code": 403001, "message": "Free tier quota exceeded"}}
        if texts == ["slow"]:
            return 429, {"error": {"code": 429001, "message": "Too many requests"}}
        return 200, [{"translations": [{"text": f"A:{t}", "to": "zh-Hans"}]} for t in texts]

    server = protocol_server(handle)
    provider = AzureProvider(base_url=server.url, credentials={"api_key": "az-key", "region": "westeurope"})
    assert provider.translate_batch(["Hallo", "Welt"], "de", "zh") == ["A:Hallo", "A:Welt"]
    assert len(server.requests) == 1
    for text, kind in (("quota", "quota"), ("slow", "rate_limited")):
        with pytest.raises(ProviderError) as err:
            provider.translate_batch([text], "de", "zh")
        assert err.value.kind == kind and not err.value.permanent
    with pytest.raises(ProviderError) as err:
        AzureProvider(base_url=server.url, credentials={"api_key": "x"}).translate_batch(["a"], "de", "zh")
    assert err.value.kind == "auth"


def test_libretranslate_list_and_string_forms(protocol_server) -> None:
    def handle(request: Request) -> tuple[int, object]:
        assert request.path == "/translate"
        body = request.body
        if body.get("api_key") != "lt-key":
            return 403, {"error": "Invalid API key"}
        assert (body["source"], body["target"], body["format"]) == ("es", "en", "text")
        if body["q"] == ["slow"]:
            return 429, {"error": "Slowdown: 30 per 1 minute"}
        if isinstance(body["q"], list) and len(body["q"]) == 1 and body["q"][0] == "uno":
            return 200, {"translatedText": "one"}  # some servers answer a string for one text
        return 200, {"translatedText": [f"L:{t}" for t in body["q"]]}

    server = protocol_server(handle)
    provider = LibreTranslateProvider(base_url=server.url, credentials={"api_key": "lt-key"})
    assert provider.translate_batch(["hola", "adiós"], "es", "en") == ["L:hola", "L:adiós"]
    assert provider.translate_batch(["uno"], "es", "en") == ["one"]
    with pytest.raises(ProviderError) as err:
        provider.translate_batch(["slow"], "es", "en")
    assert err.value.kind == "rate_limited" and "Slowdown" in str(err.value)
    with pytest.raises(ProviderError) as err:
        LibreTranslateProvider(base_url=server.url).translate_batch(["x"], "es", "en")
    assert err.value.kind == "auth"


def test_openai_compatible_chat_batch_and_errors(protocol_server) -> None:
    llm = fake_llm("ZH:")

    def handle(request: Request) -> tuple[int, object]:
        assert request.path == "/v1/chat/completions"
        if request.headers.get("Authorization") != "Bearer sk-test":
            return 401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
        body = request.body
        assert body["model"] == "deepseek-chat" and body["temperature"] == 0
        assert "German" in body["messages"][0]["content"] and "Chinese" in body["messages"][0]["content"]
        texts = json.loads(body["messages"][1]["content"])
        if texts == ["quota"]:
            return 429, {
                "error": {
                    "message": "You exceeded your current quota",
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                }
            }
        if texts == ["fence"]:
            content = '```json\n["好的"]\n```'
            return 200, {"choices": [{"message": {"role": "assistant", "content": content}}]}
        if texts == ["short", "answer"]:
            return 200, {"choices": [{"message": {"role": "assistant", "content": '["只有一个"]'}}]}
        return llm(request)

    server = protocol_server(handle)
    provider = OpenAICompatibleProvider(
        name="deepseek",
        base_url=server.url + "/v1",
        credentials={"api_key": "sk-test"},
        options={"model": "deepseek-chat"},
    )
    assert provider.translate_batch(["Hallo ⟦0⟧", "Danke"], "de", "zh") == ["ZH: Hallo ⟦0⟧", "ZH: Danke"]
    assert provider.translate_batch(["fence"], "de", "zh") == ["好的"]
    with pytest.raises(ProviderError) as err:
        provider.translate_batch(["short", "answer"], "de", "zh")
    assert err.value.kind == "bad_response"
    with pytest.raises(ProviderError) as err:
        provider.translate_batch(["quota"], "de", "zh")
    assert err.value.kind == "quota"


def test_timeout_and_unreachable_are_transient(protocol_server) -> None:
    server = protocol_server(lambda r: (200, {"translations": [{"text": "late"}]}))
    server.delay = 1.0
    provider = DeepLProvider(base_url=server.url, credentials={"api_key": "k"}, timeout=0.2)
    with pytest.raises(ProviderError) as err:
        provider.translate_batch(["Hallo"], "de", "en")
    assert err.value.kind == "timeout" and not err.value.permanent
    closed = DeepLProvider(base_url="http://127.0.0.1:9", credentials={"api_key": "k"}, timeout=1)
    with pytest.raises(ProviderError) as err:
        closed.translate_batch(["Hallo"], "de", "en")
    assert err.value.kind == "unavailable"


def test_health_reports_ok_and_failure(protocol_server) -> None:
    ok = protocol_server(lambda r: (200, {"translatedText": ["x"]}))
    assert LibreTranslateProvider(base_url=ok.url).health().ok
    down = protocol_server(lambda r: (502, {"error": "Bad gateway"}))
    health = LibreTranslateProvider(base_url=down.url).health()
    assert not health.ok and "unavailable" in health.detail
