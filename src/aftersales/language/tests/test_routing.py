from __future__ import annotations

import json

import pytest
from django.db import connection

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.language.models import ProviderConfig
from aftersales.language.routing import TranslationUnavailable, UnsupportedPair, chain_for, translate_text
from aftersales.language.services import provider_config_save, translation_route_set

from .conftest import Request, fake_llm


def _llm(world, server, name="llm", prefix="ZH:", **kw) -> ProviderConfig:
    return provider_config_save(
        user=world.admin,
        name=name,
        kind="openai",
        base_url=server.url + "/v1",
        credentials={"api_key": "sk-secret-value"},
        options={"model": "qwen-plus"},
        **kw,
    )


def test_default_chain_is_apertium_and_output_is_draft(world) -> None:
    assert [p.name for p in chain_for(world.org.pk, "en", "es")] == ["apertium"]
    result = translate_text(organization_id=world.org.pk, text="My order has not arrived.", source="en", target="es")
    assert result.provider == "apertium" and result.quality == "draft"
    assert "llegado" in result.text


def test_credentials_are_encrypted_at_rest(world, protocol_server) -> None:
    server = protocol_server(fake_llm())
    config = _llm(world, server)
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM language_providerconfig WHERE id = %s", [config.pk])
        raw = cursor.fetchone()[0]
    assert "sk-secret-value" not in raw and raw.startswith("gAAAA")
    assert ProviderConfig.objects.get(pk=config.pk).credentials == {"api_key": "sk-secret-value"}


def test_only_admins_configure_providers(world) -> None:
    with pytest.raises(PermissionDenied):
        provider_config_save(user=world.agent, name="x", kind="deepl")
    with pytest.raises(ValidationFailed) as err:
        provider_config_save(user=world.admin, name="x", kind="babelfish")
    assert err.value.field == "kind"


def test_fallback_chain_skips_a_failing_provider(world, protocol_server) -> None:
    down = protocol_server(lambda r: (503, {"error": {"message": "overloaded"}}))
    up = protocol_server(fake_llm("ZH:"))
    _llm(world, down, name="primary")
    _llm(world, up, name="backup")
    translation_route_set(
        user=world.admin, source_language="de", target_language="zh", provider_names=["primary", "backup"]
    )
    result = translate_text(organization_id=world.org.pk, text="Wo ist mein Paket?", source="de", target="zh")
    assert (result.provider, result.quality, result.text) == ("backup", "machine", "ZH: Wo ist mein Paket?")
    # the failed provider is skipped for a while instead of being waited for again
    translate_text(organization_id=world.org.pk, text="Noch eine Frage", source="de", target="zh")
    assert len(down.requests) == 1


def test_most_specific_route_wins(world, protocol_server) -> None:
    a = protocol_server(fake_llm("A:"))
    b = protocol_server(fake_llm("B:"))
    _llm(world, a, name="a")
    _llm(world, b, name="b")
    translation_route_set(user=world.admin, source_language="*", target_language="*", provider_names=["a"])
    translation_route_set(user=world.admin, source_language="*", target_language="zh", provider_names=["b"])
    assert (
        translate_text(organization_id=world.org.pk, text="Hallo Welt", source="de", target="zh").text
        == "B: Hallo Welt"
    )
    assert (
        translate_text(organization_id=world.org.pk, text="Hallo Welt", source="de", target="fr").text
        == "A: Hallo Welt"
    )


def test_pivot_through_english(world, protocol_server) -> None:
    # a German->English service, then Apertium English->Spanish
    server = protocol_server(fake_llm("EN:"))
    provider_config_save(
        user=world.admin,
        name="de-en",
        kind="openai",
        base_url=server.url + "/v1",
        options={"model": "m", "languages": ["de", "en"]},
    )
    result = translate_text(organization_id=world.org.pk, text="Order 113-1234567-1234567 hi", source="de", target="es")
    assert result.provider == "de-en>apertium" and "pivot:en" in result.flags
    assert result.quality == "draft"
    assert "113-1234567-1234567" in result.text


def test_unsupported_pair_lists_supported_pairs(world) -> None:
    with pytest.raises(UnsupportedPair) as err:
        translate_text(organization_id=world.org.pk, text="Hallo Welt", source="de", target="zh")
    assert err.value.field == "target_language"
    assert "en-es" in err.value.message and "de-zh" not in err.value.message


def test_bad_input_is_a_validation_error(world) -> None:
    with pytest.raises(ValidationFailed) as err:
        translate_text(organization_id=world.org.pk, text="  ", source="en", target="es")
    assert err.value.field == "text"
    with pytest.raises(ValidationFailed) as err:
        translate_text(organization_id=world.org.pk, text="hi", source="xx", target="es")
    assert err.value.field == "source_language" and "supported" in err.value.message


def test_every_provider_down_is_transient(world, protocol_server) -> None:
    server = protocol_server(lambda r: (429, {"error": {"message": "Rate limit reached"}}))
    _llm(world, server, name="only")
    translation_route_set(user=world.admin, source_language="de", target_language="zh", provider_names=["only"])
    with pytest.raises(TranslationUnavailable) as err:
        translate_text(organization_id=world.org.pk, text="Hallo Welt", source="de", target="zh")
    assert "Rate limit" in err.value.message


def test_provider_that_drops_a_placeholder_is_replaced_by_the_next(world, protocol_server) -> None:
    def lossy(request: Request) -> tuple[int, object]:
        texts = json.loads(request.body["messages"][1]["content"])
        content = json.dumps([t.replace("⟦0⟧", "") for t in texts], ensure_ascii=False)
        return 200, {"choices": [{"message": {"role": "assistant", "content": content}}]}

    _llm(world, protocol_server(lossy), name="lossy")
    _llm(world, protocol_server(fake_llm("OK:")), name="careful")
    translation_route_set(
        user=world.admin, source_language="de", target_language="zh", provider_names=["lossy", "careful"]
    )
    result = translate_text(
        organization_id=world.org.pk, text="Bestellung 113-1234567-1234567 fehlt", source="de", target="zh"
    )
    assert result.provider == "careful" and "113-1234567-1234567" in result.text and not result.flags


def test_when_every_provider_drops_a_placeholder_the_value_is_kept_and_flagged(world, protocol_server) -> None:
    def lossy(request: Request) -> tuple[int, object]:
        texts = json.loads(request.body["messages"][1]["content"])
        content = json.dumps(["丢失" for _ in texts], ensure_ascii=False)
        return 200, {"choices": [{"message": {"role": "assistant", "content": content}}]}

    _llm(world, protocol_server(lossy), name="lossy")
    translation_route_set(user=world.admin, source_language="de", target_language="zh", provider_names=["lossy"])
    result = translate_text(
        organization_id=world.org.pk, text="Bestellung 113-1234567-1234567", source="de", target="zh"
    )
    assert "placeholders_lost" in result.flags and "113-1234567-1234567" in result.text


def test_same_language_is_returned_as_is(world) -> None:
    result = translate_text(organization_id=world.org.pk, text="Hello", source="en", target="en")
    assert (result.text, result.provider, result.quality) == ("Hello", "none", "original")
