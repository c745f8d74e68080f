"""Key fields read by OCR are checked against their formats and check digits (issue 14, item 3):
a misread digit is flagged, never passed as a valid order or tracking number."""

from __future__ import annotations

import pytest

from aftersales.language.keyfields import (
    find_in_blocks,
    find_key_fields,
    luhn_valid,
    s10_check_digit,
    s10_valid,
)


def _one(text: str, **kwargs):
    fields = find_key_fields(text, **kwargs)
    assert len(fields) == 1, fields
    return fields[0]


def test_s10_check_digit_from_the_upu_weights() -> None:
    assert s10_check_digit("12345678") == 5  # 8*1+6*2+4*3+2*4+3*5+5*6+9*7+7*8 = 204; 11 - 204 % 11 = 5
    assert s10_check_digit("47312482") == 9
    assert s10_valid("RR123456785CN") and s10_valid("RR 123 456 785 CN")
    assert not s10_valid("RR123456786CN")


def test_valid_s10_passes_and_a_misread_one_is_flagged() -> None:
    good = _one("Tracking number: RR 123 456 785 CN")
    assert (good.kind, good.value, good.valid) == ("tracking_s10", "RR123456785CN", True)
    misread = _one("Tracking number: RR123456735CN")  # 8 read as 3: the check digit no longer matches
    assert misread.kind == "tracking_s10" and not misread.valid and misread.reason == "check_digit"
    lettered = _one("RR12345O785CN")  # O read for 0
    assert not lettered.valid and lettered.reason == "letters" and lettered.suggestion == "RR123450785CN"


def test_imei_luhn() -> None:
    assert luhn_valid("490154203237518") and not luhn_valid("490154203237519")
    assert _one("IMEI: 490154203237518").valid
    assert _one("IME1：490154203237518").valid  # the label itself misread
    bad = _one("IMEI 1: 490154203237519")
    assert bad.kind == "imei" and not bad.valid and bad.reason == "check_digit"
    assert find_key_fields("serial 490154203237519") == []  # 15 digits without the label: not an IMEI


@pytest.mark.parametrize(
    ("text", "kind", "valid", "reason"),
    [
        ("订单号 113-1234567-1234567", "order_amazon", True, ""),
        ("Order 113-123456-1234567", "order_amazon", False, "length"),  # a dropped digit
        ("Order 113-12345S7-1234567", "order_amazon", False, "letters"),
        ("eBay order 12-34567-89012", "order_ebay", True, ""),
        ("AliExpress 8123456789012345", "order_aliexpress", True, ""),
        ("TikTok 576123456789012345", "order_tiktok", True, ""),
        ("Shopee 220815ABCDEFGH", "order_shopee", True, ""),
        ("Shopee 221345ABCDEFGH", "order_shopee", False, "date"),
        ("Order #1001", "order_shopify", True, ""),
        ("Order #1O01", "order_shopify", False, "letters"),
    ],
)
def test_order_numbers_per_platform(text: str, kind: str, valid: bool, reason: str) -> None:
    field = _one(text)
    assert (field.kind, field.valid, field.reason) == (kind, valid, reason)


def test_words_and_phone_numbers_are_not_fields() -> None:
    assert find_key_fields("SOS BOSS DISSOLVED, call 13812345678 or 12 items") == []


def test_low_confidence_line_flags_even_a_well_formed_number() -> None:
    assert _one("RR123456785CN", confidence=0.95).valid
    weak = _one("RR123456785CN", confidence=0.55)
    assert not weak.valid and weak.reason == "low_confidence"
    fields = find_in_blocks([{"text": "113-1234567-1234567", "confidence": 0.6}, {"text": "#1001", "confidence": 0.99}])
    assert [(f.kind, f.valid) for f in fields] == [("order_amazon", False), ("order_shopify", True)]
