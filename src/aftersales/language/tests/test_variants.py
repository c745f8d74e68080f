"""Buyers in Brazil get Brazilian Portuguese (issue 8, section 4): the variant comes from the
buyer's country, else the store's market, and the variant written is recorded."""

from __future__ import annotations

import pytest

from aftersales.language.languages import country_of_site, variant_for
from aftersales.language.providers.base import Context
from aftersales.language.providers.deepl import DeepLProvider
from aftersales.language.providers.openai_compatible import OpenAICompatibleProvider
from aftersales.language.routing import translate_text
from aftersales.language.services import reply_draft_translate

from .conftest import Request, fake_llm

TEXT = "Please send us a photo of the damaged screen. You can contact us with any question."


@pytest.mark.parametrize(
    ("language", "kw", "expected"),
    [
        ("pt", {"country": "BR"}, "pt-BR"),
        ("pt", {"country": "PT"}, "pt-PT"),
        ("pt", {"country": "", "store_country": "BR"}, "pt-BR"),
        ("pt", {"site": "amazon.com.br"}, "pt-BR"),
        ("pt", {"country": "US", "site": "shopee.com.br"}, "pt-BR"),  # the buyer's country says nothing
        ("pt", {}, ""),
        ("es", {"country": "BR"}, ""),  # Spanish has no variant here
        ("pt-BR", {"country": "BR"}, "pt-BR"),
    ],
)
def test_variant_for(language: str, kw: dict, expected: str) -> None:
    assert variant_for(language, **kw) == expected


def test_country_of_site() -> None:
    assert country_of_site("mercadolivre.com.br") == "BR" and country_of_site("amazon.de") == ""
    assert country_of_site("br") == "" and country_of_site("") == ""


def test_apertium_writes_brazilian_portuguese_and_records_it(world) -> None:
    default = translate_text(organization_id=world.org.pk, text=TEXT, source="en", target="pt")
    brazil = translate_text(organization_id=world.org.pk, text=TEXT, source="en", target="pt", variant="pt-BR")
    assert default.variant == "pt-PT" and "ecrã" in default.text and "contactar" in default.text
    assert brazil.variant == "pt-BR" and "tela" in brazil.text and "contatar" in brazil.text
    assert brazil.as_json("2026-12-06T00:00:00Z")["variant"] == "pt-BR"
    # es -> pt (direct mode) too
    spanish = translate_text(
        organization_id=world.org.pk,
        text="Envíenos una foto de la pantalla.",
        source="es",
        target="pt",
        variant="pt-BR",
    )
    assert spanish.variant == "pt-BR" and "tela" in spanish.text


def test_a_variant_of_another_language_is_ignored(world) -> None:
    result = translate_text(organization_id=world.org.pk, text=TEXT, source="en", target="es", variant="pt-BR")
    assert result.variant == "" and "pantalla" in result.text


def test_reply_to_a_buyer_in_brazil_is_brazilian(world) -> None:
    ticket = world.ticket(language="pt")
    ticket.customer.country = "BR"
    ticket.customer.save()
    world.agent.language = "en"
    draft = reply_draft_translate(user=world.agent, ticket=ticket, text=TEXT, target_language="pt")
    assert draft.language == "pt" and draft.variant == "pt-BR" and "tela" in draft.text
    ticket.customer.country = "PT"
    ticket.customer.save()
    draft = reply_draft_translate(user=world.agent, ticket=ticket, text=TEXT, target_language="pt")
    assert draft.variant == "pt-PT" and "ecrã" in draft.text


def test_http_providers_are_asked_for_the_variant(protocol_server) -> None:
    seen: list[str] = []

    def deepl(request: Request) -> tuple[int, object]:
        seen.append(request.body["target_lang"])
        return 200, {"translations": [{"text": t} for t in request.body["text"]]}

    provider = DeepLProvider(base_url=protocol_server(deepl).url, credentials={"api_key": "k"})
    provider.translate_batch(["Hi"], "en", "pt", Context("pt-PT"))
    provider.translate_batch(["Hi"], "en", "pt", Context("pt-BR"))
    assert seen == ["PT-PT", "PT-BR"]
    assert provider.variant_of("pt", "pt-PT") == "pt-PT" and provider.variant_of("pt", "") == "pt-BR"

    prompts: list[str] = []
    llm = fake_llm("PT:")

    def chat(request: Request) -> tuple[int, object]:
        prompts.append(request.body["messages"][0]["content"])
        return llm(request)

    openai = OpenAICompatibleProvider(base_url=protocol_server(chat).url + "/v1", options={"model": "m"})
    assert openai.translate_batch(["Hi"], "en", "pt", Context("pt-BR")) == ["PT: Hi"]
    assert "Brazilian Portuguese" in prompts[0]
