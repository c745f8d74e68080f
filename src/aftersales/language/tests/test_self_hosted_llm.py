"""The OpenAI-compatible provider as the documented path for de/zh/ja (a self-hosted llama.cpp,
Ollama or vLLM server): glossary and do-not-translate terms reach the model, the placeholders are
verified like any provider's. Against a local server speaking the chat-completions protocol."""

from __future__ import annotations

import json

from aftersales.language.models import GlossaryTerm
from aftersales.language.routing import translate_text
from aftersales.language.services import provider_config_save, translation_route_set
from aftersales.testing.factories import ProductFactory

from .conftest import Request, fake_llm


def _server(protocol_server, prompts: list[str], answer=None):  # type: ignore[no-untyped-def]
    llm = fake_llm("ZH:")

    def handle(request: Request) -> tuple[int, object]:
        assert request.path == "/v1/chat/completions"
        prompts.append(request.body["messages"][0]["content"])
        if answer is not None:
            texts = json.loads(request.body["messages"][1]["content"])
            content = json.dumps([answer(t) for t in texts], ensure_ascii=False)
            return 200, {"choices": [{"message": {"role": "assistant", "content": content}}]}
        return llm(request)

    return protocol_server(handle)


def _configure(world, server, name: str = "local-qwen") -> None:
    provider_config_save(
        user=world.admin,
        name=name,
        kind="openai",
        base_url=server.url + "/v1",
        options={"model": "qwen2.5:7b-instruct"},
    )


def test_glossary_terms_and_product_names_are_given_to_the_model(world, protocol_server) -> None:
    prompts: list[str] = []
    _configure(world, _server(protocol_server, prompts))
    GlossaryTerm.objects.create(
        organization=world.org, source_language="de", target_language="zh", term="Powerbank", translation="充电宝"
    )
    GlossaryTerm.objects.create(organization=world.org, term="RMA", do_not_translate=True)
    ProductFactory(organization=world.org, title="Anker PowerCore 10000 Powerbank, schwarz")
    result = translate_text(
        organization_id=world.org.pk,
        text="Meine Powerbank (PowerCore 10000) lädt nicht, bitte RMA für 113-1234567-1234567",
        source="de",
        target="zh",
    )
    assert result.provider == "local-qwen" and not result.flags
    assert result.text == "ZH: Meine 充电宝 (PowerCore 10000) lädt nicht, bitte RMA für 113-1234567-1234567"
    prompt = prompts[0]
    assert "German" in prompt and "Chinese" in prompt and "⟦n⟧" not in prompt
    assert "1\t⟦0⟧\tPowerbank\t充电宝" in prompt  # a forced translation
    assert "1\t⟦1⟧\tPowerCore 10000\tPowerCore 10000\t(keep as is)" in prompt  # a catalog name
    assert "1\t⟦2⟧\tRMA\tRMA\t(keep as is)" in prompt  # a do-not-translate term
    assert result.glossary_applied == ("Powerbank", "RMA")


def test_no_hint_section_without_terms(world, protocol_server) -> None:
    prompts: list[str] = []
    _configure(world, _server(protocol_server, prompts))
    translate_text(organization_id=world.org.pk, text="Wo ist mein Paket?", source="de", target="zh")
    assert "glossary" not in prompts[0]


def test_a_model_that_pulls_words_into_a_placeholder_gives_way_then_is_flagged(world, protocol_server) -> None:
    bad_prompts: list[str] = []
    good_prompts: list[str] = []
    _configure(world, _server(protocol_server, bad_prompts, lambda t: t.replace("⟦0⟧", "⟦订单 0⟧")), name="bad")
    _configure(world, _server(protocol_server, good_prompts), name="good")
    translation_route_set(user=world.admin, source_language="de", target_language="zh", provider_names=["bad", "good"])
    text = "Bestellung 113-1234567-1234567 fehlt"
    result = translate_text(organization_id=world.org.pk, text=text, source="de", target="zh")
    assert result.provider == "good" and not result.flags and result.text == f"ZH: {text}"

    # the pair's only route damages it: the next route is the pivot through English
    translation_route_set(user=world.admin, source_language="de", target_language="zh", provider_names=["bad"])
    result = translate_text(organization_id=world.org.pk, text=text, source="de", target="zh")
    assert result.provider == "good>good" and result.flags == ("pivot:en",) and result.text == f"ZH: ZH: {text}"

    # no route keeps it intact: the output is kept, flagged
    provider_config_save(
        user=world.admin, name="good", kind="openai", base_url="http://127.0.0.1:9/v1", is_enabled=False
    )
    result = translate_text(organization_id=world.org.pk, text=text, source="de", target="zh")
    assert result.provider == "bad" and "placeholders_lost" in result.flags
    assert result.text == "Bestellung 订单 113-1234567-1234567 fehlt"  # repaired in place, no bracket left
