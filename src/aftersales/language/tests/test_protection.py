from __future__ import annotations

import pytest

from aftersales.language.protection import Term, mask, missing_tokens, relabel, restore

CASES = [
    ("order_amazon", "Order 113-1234567-1234567 has not arrived", "113-1234567-1234567"),
    ("order_ebay", "eBay order 12-34567-89012 please", "12-34567-89012"),
    ("order_shopee", "Shopee order 220915ABCD1234 is late", "220915ABCD1234"),
    ("long_id", "AliExpress order 8123456789012345 is late", "8123456789012345"),
    ("long_id", "TikTok order 576543210987654321 is late", "576543210987654321"),
    ("order_shopify", "Shopify order #1001 is late", "#1001"),
    ("order_shopify", "Your order #A-1234 shipped", "#A-1234"),
    ("tracking_ups", "Tracking 1Z999AA10123456784 please", "1Z999AA10123456784"),
    ("tracking_upu", "Tracking LX123456789CN please", "LX123456789CN"),
    ("tracking", "DHL JD014600003789012345 stuck", "JD014600003789012345"),
    ("sku", "SKU BT-X200-BLK is broken", "BT-X200-BLK"),
    ("imei", "IMEI 356938035643809 is locked", "356938035643809"),
    ("serial", "Serial C02XK1ZJJG5H does not boot", "C02XK1ZJJG5H"),
    ("email", "Write to jane.doe+shop@example.co.uk now", "jane.doe+shop@example.co.uk"),
    ("url", "See https://shop.example.com/track?id=5&x=1.", "https://shop.example.com/track?id=5&x=1"),
    ("amount", "Refund €49.99 please", "€49.99"),
    ("amount", "Refund 25,00 EUR please", "25,00 EUR"),
    ("amount", "Refund US$ 1,299.00 please", "US$ 1,299.00"),
    ("amount", "退款 199元 谢谢", "199元"),
    ("amount", "Erstattung 12,50 € bitte", "12,50 €"),
]


@pytest.mark.parametrize(("kind", "text", "value"), CASES)
def test_masks_each_kind_and_restores_exactly(kind: str, text: str, value: str) -> None:
    masked = mask(text)
    assert value not in masked.text
    assert [(e.kind, e.value) for e in masked.entities] == [(kind, value)]
    assert restore(masked.text, masked).text == text


def test_glossary_terms_forced_and_do_not_translate() -> None:
    masked = mask("Please send the rma for the power bank", terms=[Term("RMA", "RMA"), Term("power bank", "充电宝")])
    assert masked.text == "Please send the ⟦0⟧ for the ⟦1⟧"
    restored = restore("请发送⟦0⟧给⟦1⟧", masked)
    assert restored.text == "请发送RMA给充电宝"
    assert restored.terms == ("rma", "power bank")


def test_terms_match_whole_words_only() -> None:
    assert mask("Karma is not an RMA", terms=[Term("RMA", "RMA")]).text == "Karma is not an ⟦0⟧"


def test_literal_placeholder_in_customer_text_is_protected_too() -> None:
    masked = mask("I typed ⟦7⟧ by mistake")
    assert masked.entities[0].value == "⟦7⟧"
    assert restore(masked.text, masked).text == "I typed ⟦7⟧ by mistake"


def test_lost_placeholder_is_reported_and_appended() -> None:
    masked = mask("Order 113-1234567-1234567 and SKU BT-X200-BLK")
    assert missing_tokens("Pedido ⟦0⟧ y SKU", masked) == ["⟦1⟧"]
    restored = restore("Pedido ⟦0⟧ y SKU", masked)
    assert restored.missing == ("BT-X200-BLK",)
    assert restored.text == "Pedido 113-1234567-1234567 y SKU (BT-X200-BLK)"


def test_relabel_masks_a_human_translation_like_its_source() -> None:
    masked = mask("Where is order 113-1234567-1234567?")
    assert relabel("¿Dónde está el pedido 113-1234567-1234567?", masked) == "¿Dónde está el pedido ⟦0⟧?"


def test_plain_words_and_dates_are_not_masked() -> None:
    assert mask("USB-C cable arrived on 2024-05-01, e-mail me").entities == ()
