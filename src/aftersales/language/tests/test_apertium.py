"""The real Apertium, from Debian's packages (scripts/install-system-deps.sh installs them)."""

from __future__ import annotations

import pytest

from aftersales.language.protection import mask, restore
from aftersales.language.providers.apertium import ApertiumProvider, installed_modes, routes
from aftersales.language.providers.base import ProviderError


@pytest.fixture(scope="module")
def apertium() -> ApertiumProvider:
    return ApertiumProvider()


def test_pairs_installed_and_composed(apertium: ApertiumProvider) -> None:
    direct = installed_modes()
    assert {("en", "es"), ("es", "en"), ("es", "pt"), ("pt", "es"), ("fr", "es"), ("es", "fr")} <= set(direct)
    assert routes()[("en", "pt")] == ("eng-spa", "es-pt")
    assert apertium.supports("en", "fr") and not apertium.supports("de", "en")
    assert apertium.health().ok


def test_batch_translates_each_text_in_order(apertium: ApertiumProvider) -> None:
    out = apertium.translate_batch(
        ["Hello, my order has not arrived.", "The screen is broken.\nI want a refund.", "Thank you"], "en", "es"
    )
    assert len(out) == 3
    assert "pedido" in out[0].lower() or "orden" in out[0].lower()
    assert out[1].count("\n") == 1 and "reembolso" in out[1]
    assert out[2].lower().startswith("gracias")


def test_placeholder_tokens_survive_every_installed_route(apertium: ApertiumProvider) -> None:
    source_texts = {
        "en": "Your order ⟦0⟧ was shipped with ⟦1⟧ on Monday, the ⟦2⟧ is on its way.",
        "es": "Su pedido ⟦0⟧ fue enviado con ⟦1⟧ el lunes, el ⟦2⟧ está en camino.",
        "pt": "O seu pedido ⟦0⟧ foi enviado com ⟦1⟧ na segunda, o ⟦2⟧ está a caminho.",
        "fr": "Votre commande ⟦0⟧ a été expédiée avec ⟦1⟧ lundi, le ⟦2⟧ est en route.",
        "it": "Il suo ordine ⟦0⟧ è stato spedito con ⟦1⟧ lunedì, il ⟦2⟧ è in viaggio.",
    }
    for source, target in sorted(apertium.supported_pairs()):
        (out,) = apertium.translate_batch([source_texts[source]], source, target)
        for token in ("⟦0⟧", "⟦1⟧", "⟦2⟧"):
            assert out.count(token) == 1, (source, target, out)


def test_masking_protects_what_apertium_would_mangle(apertium: ApertiumProvider) -> None:
    text = "Order #A-1234 for SKU BT-X200-BLK, refund $25.00 to me@example.com"
    (raw,) = apertium.translate_batch([text], "en", "es")
    assert "#A-1234" not in raw  # Apertium alone turns it into "#Un-1234"
    masked = mask(text)
    (out,) = apertium.translate_batch([masked.text], "en", "es")
    restored = restore(out, masked)
    assert not restored.missing
    for value in ("#A-1234", "BT-X200-BLK", "$25.00", "me@example.com"):
        assert value in restored.text


def test_unsupported_pair_is_permanent(apertium: ApertiumProvider) -> None:
    with pytest.raises(ProviderError) as err:
        apertium.translate_batch(["Hallo"], "de", "en")
    assert err.value.permanent and err.value.kind == "unsupported"
