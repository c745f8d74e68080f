"""Placeholders are verified strictly (issue 8, section 4): a placeholder with words pulled into it
("je ⟦ai payé 0⟧") is a failure, not a pass with the value appended. The router then takes the
next route, or keeps the output flagged. Checked on pivot routes, with the real Apertium too."""

from __future__ import annotations

import json
import re

import pytest

from aftersales.language.protection import check, mask, restore
from aftersales.language.providers.apertium import ApertiumProvider
from aftersales.language.routing import translate_text
from aftersales.language.services import provider_config_save, translation_route_set

from .conftest import Request, fake_llm

PAID = "I paid $39.99 for order 113-1234567-1234567."


def test_a_placeholder_with_words_pulled_in_is_refused() -> None:
    masked = mask(PAID)
    assert masked.text == "I paid ⟦0⟧ for order ⟦1⟧."
    broken = "Je ⟦ai payé 0⟧ pour la commande ⟦1⟧."
    problems = check(broken, masked)
    assert "⟦0⟧ missing" in problems and any("damaged placeholder" in p for p in problems)
    # restore() alone (what the router used to rely on) puts the value back in place, no bracket left
    restored = restore(broken, masked)
    assert restored.text == "Je ai payé $39.99 pour la commande 113-1234567-1234567."
    assert "⟦" not in restored.text and "⟧" not in restored.text


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ("J'ai payé ⟦0⟧ pour ⟦1⟧.", None),
        ("J'ai payé ⟦ 0 ⟧ pour ⟦1⟧.", None),  # spaces inside are harmless
        ("J'ai payé ⟦0⟧ pour ⟦1⟧ ⟦1⟧.", "⟦1⟧ repeated 2 times"),
        ("J'ai payé ⟦0⟧ pour ⟦1⟧ ⟦2⟧.", "unknown placeholder ⟦2⟧"),
        ("J'ai payé ⟦0⟧ pour ⟦1⟧ ⟧", "stray placeholder bracket"),
        ("J'ai payé ⟦0 ⟦1⟧⟧", "⟦0⟧ missing"),
        ("J'ai payé ⟦0⟧ pour", "⟦1⟧ missing"),
    ],
)
def test_check_is_strict(output: str, problem: str | None) -> None:
    problems = check(output, mask(PAID))
    assert problems == [] if problem is None else problem in problems


def test_a_literal_placeholder_of_the_customer_survives() -> None:
    masked = mask("I typed ⟦7⟧ by mistake")
    assert check(masked.text, masked) == []
    assert restore(masked.text, masked).text == "I typed ⟦7⟧ by mistake"


# Sentences whose placeholders Apertium's composed routes used to break: French inserts a subject
# pronoun and an auxiliary ("Pagué ⟦0⟧" -> "Je ⟦ai payé 0⟧").
PAYMENTS = {
    "en": ["I paid ⟦0⟧ and he paid ⟦1⟧.", "Can you refund ⟦0⟧ to ⟦1⟧?", "hi i ordered ⟦0⟧ from u and paid ⟦1⟧"],
    "es": ["Pagué ⟦0⟧ y él pagó ⟦1⟧.", "He pagado ⟦0⟧ por el pedido ⟦1⟧", "Reembolsaremos ⟦0⟧ en cinco días."],
    "pt": ["Paguei ⟦0⟧ e ele pagou ⟦1⟧.", "Vamos reembolsar ⟦0⟧ no prazo de cinco dias."],
    "fr": ["J'ai payé ⟦0⟧ et il a payé ⟦1⟧.", "On m'a facturé ⟦0⟧ deux fois"],
    "it": ["Ho pagato ⟦0⟧ e lui ha pagato ⟦1⟧."],
}


def test_apertium_keeps_placeholders_intact_on_every_route_composed_ones_too() -> None:
    apertium = ApertiumProvider()
    pairs = sorted(apertium.supported_pairs())
    assert ("en", "fr") in pairs and ("es", "fr") in pairs  # en->fr is eng-spa | es-fr
    for source, target in pairs:
        texts = PAYMENTS[source]
        for text, out in zip(texts, apertium.translate_batch(texts, source, target), strict=True):
            tokens = re.findall(r"⟦\d+⟧", text)
            assert sorted(re.findall(r"⟦\d+⟧", out)) == sorted(tokens), (source, target, out)
            assert re.sub(r"⟦\d+⟧", "", out).count("⟦") == 0, (source, target, out)


def test_the_offline_route_en_fr_gives_an_intact_sentence(world) -> None:
    result = translate_text(organization_id=world.org.pk, text=PAID, source="en", target="fr")
    assert result.provider == "apertium" and "placeholders_lost" not in result.flags
    assert "$39.99" in result.text and "113-1234567-1234567" in result.text
    assert "⟦" not in result.text and "(" not in result.text  # nothing appended


def _damaging(request: Request) -> tuple[int, object]:
    """A model that pulls the next word into each placeholder, like Apertium's en->es->fr did."""
    texts = json.loads(request.body["messages"][-1]["content"])
    content = json.dumps([t.replace("⟦0⟧", "⟦ai payé 0⟧") for t in texts], ensure_ascii=False)
    return 200, {"choices": [{"message": {"role": "assistant", "content": content}}]}


def _llm(world, server, name: str, languages: list[str]) -> None:
    provider_config_save(
        user=world.admin,
        name=name,
        kind="openai",
        base_url=server.url + "/v1",
        options={"model": "m", "languages": languages},
    )


def test_on_a_pivot_route_a_damaging_provider_gives_way_to_the_next(world, protocol_server) -> None:
    _llm(world, protocol_server(fake_llm("EN:")), "de-en", ["de", "en"])
    damaging = protocol_server(_damaging)
    _llm(world, damaging, "damaging", ["en", "ja"])
    _llm(world, protocol_server(fake_llm("JA:")), "careful", ["en", "ja"])
    translation_route_set(
        user=world.admin, source_language="en", target_language="ja", provider_names=["damaging", "careful"]
    )
    result = translate_text(
        organization_id=world.org.pk,
        text="Ich habe $39.99 bezahlt, Bestellung 113-1234567-1234567",
        source="de",
        target="ja",
    )
    assert len(damaging.requests) == 1  # tried, and refused
    assert result.provider == "de-en>careful" and result.flags == ("pivot:en",)
    assert result.text == "JA: EN: Ich habe $39.99 bezahlt, Bestellung 113-1234567-1234567"


def test_on_a_pivot_route_damage_everywhere_is_flagged_and_repaired(world, protocol_server) -> None:
    _llm(world, protocol_server(fake_llm("EN:")), "de-en", ["de", "en"])
    _llm(world, protocol_server(_damaging), "damaging", ["en", "ja"])
    translation_route_set(user=world.admin, source_language="en", target_language="ja", provider_names=["damaging"])
    result = translate_text(organization_id=world.org.pk, text="Ich habe $39.99 bezahlt", source="de", target="ja")
    assert result.provider == "de-en>damaging"
    assert set(result.flags) == {"pivot:en", "placeholders_lost"}
    assert result.text == "EN: Ich habe ai payé $39.99 bezahlt"  # the value in place, no bracket, nothing appended
