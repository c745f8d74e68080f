from __future__ import annotations

import pytest

from aftersales.language.detect import detect_language, is_short

SAMPLES = {
    "en": "My package has not arrived yet, where is it?",
    "de": "Mein Paket ist immer noch nicht angekommen, bitte helfen Sie mir.",
    "es": "Mi pedido llegó roto y quiero devolverlo, por favor.",
    "fr": "Je n'ai toujours pas reçu ma commande, que se passe-t-il ?",
    "pt": "O meu pedido ainda não chegou, podem verificar por favor?",
    "zh": "我的包裹还没有收到，请帮我查一下物流。",
    "ja": "注文した商品がまだ届いていません。確認してください。",
    "it": "Il mio ordine non è ancora arrivato, potete aiutarmi?",
    "pl": "Moja paczka jeszcze nie dotarła, proszę o pomoc.",
    "nl": "Mijn bestelling is nog steeds niet aangekomen, kunt u helpen?",
    "ru": "Мой заказ до сих пор не пришёл, помогите пожалуйста.",
    "ko": "주문한 상품이 아직 도착하지 않았습니다. 확인 부탁드립니다.",
    "ar": "لم يصل طلبي بعد، أرجو المساعدة في تتبع الشحنة.",
    "tr": "Siparişim hâlâ gelmedi, lütfen yardımcı olur musunuz?",
    "th": "สินค้าที่สั่งยังไม่ได้รับเลยค่ะ ช่วยตรวจสอบให้หน่อย",
    "vi": "Đơn hàng của tôi vẫn chưa được giao, xin hãy kiểm tra giúp.",
    "id": "Pesanan saya belum sampai, tolong dibantu cek pengirimannya.",
}


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_detects_every_supported_language(code: str) -> None:
    found = detect_language(SAMPLES[code])
    assert found.language == code
    assert found.source == "detected"
    assert found.confidence >= 0.6


def test_short_text_falls_back_to_customer_then_store() -> None:
    assert is_short("ok") and is_short("Danke") and is_short("好的")
    assert detect_language("ok", customer_language="de", store_language="fr").language == "de"
    assert detect_language("ok", customer_language="de").source == "customer"
    found = detect_language("Hallo", customer_language="", store_language="pt-BR")
    assert (found.language, found.source) == ("pt", "store")


def test_nothing_known_gives_empty_language() -> None:
    assert detect_language("", customer_language="", store_language="").language == ""
    assert detect_language("   ").source == "none"
    assert detect_language("12345 ???").language == ""


def test_long_text_beats_customer_language() -> None:
    found = detect_language(SAMPLES["de"], customer_language="en", store_language="en")
    assert (found.language, found.source) == ("de", "detected")


def test_lingua_answers_are_remembered_for_short_texts_only(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`candidates` keeps lingua's answer per text (ADR 0046): a text asked again is not sent to lingua again,
    the answer is the same; texts longer than REMEMBERED_CHARS are asked every time."""
    from aftersales.language import detect

    asked: list[str] = []
    real = detect.detector()

    class Spy:
        def compute_language_confidence_values(self, text: str):  # type: ignore[no-untyped-def]
            asked.append(text)
            return real.compute_language_confidence_values(text)

    monkeypatch.setattr(detect, "detector", lambda: Spy())
    monkeypatch.setattr(detect, "REMEMBERED_CHARS", 60)
    detect._remembered_candidates.cache_clear()
    try:
        short, long = SAMPLES["de"][:50], SAMPLES["de"] + " " + SAMPLES["de"]
        first = detect.candidates(short, limit=5)
        assert detect.candidates(short, limit=5) == first and first[0][0] == "de"
        assert detect.detect_language(long) == detect.detect_language(long)
        assert asked == [short, long, long]
    finally:
        detect._remembered_candidates.cache_clear()
