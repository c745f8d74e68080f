"""Entity rules: exact substrings with offsets, one table per kind."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from aftersales.triage.entities import extract_entities, parse_amount, s10_check_digit_ok


def found(text: str, kind: str) -> list[tuple[str, dict]]:
    entities = [e for e in extract_entities(text) if e.type == kind]
    for e in entities:
        assert text[e.start : e.end] == e.value
    return [(e.value, e.attrs) for e in entities]


ORDERS = [
    ("Bestellung 302-1234567-1234567 kaputt", "302-1234567-1234567", "amazon"),
    ("eBay order 12-34567-89012 please", "12-34567-89012", "ebay"),
    ("pedido 2203154K7PQ9XA não chegou", "2203154K7PQ9XA", "shopee"),
    ("订单号3012345678901234坏了", "3012345678901234", "aliexpress"),
    ("Order #1043 for my mum", "#1043", "shopify"),
    ("TikTok order 576123456789012345", "576123456789012345", "tiktok"),
    ("注文番号503-2234567-8812345のパーカー", "503-2234567-8812345", "amazon"),
]


@pytest.mark.parametrize(("text", "value", "platform"), ORDERS)
def test_order_numbers_in_each_platform_format(text: str, value: str, platform: str) -> None:
    assert found(text, "order_number") == [(value, {"platform": platform})]


@pytest.mark.parametrize(
    "text",
    [
        "call me at 12-345-6789",  # too short for eBay
        "2213994ABCD1234 is not a date",  # 22-13-99: no such day, so not Shopee
        "room 1043 please",  # no '#'
        "a&#1043;b",  # an HTML entity, not a Shopify number
    ],
)
def test_lookalikes_are_not_order_numbers(text: str) -> None:
    assert found(text, "order_number") == []


TRACKING = [
    ("UPS 1Z999AA10123456784 delivered?", "1Z999AA10123456784", "ups"),
    ("seguimiento LP00123456789012", "LP00123456789012", "cainiao"),
    ("4PX: 4PX0012345678CN stuck", "4PX0012345678CN", "4px"),
    ("YT1234567890123456 en route", "YT1234567890123456", "yunexpress"),
    ("USPS 9400111202555842761234 no update", "9400111202555842761234", "usps"),
    ("DHL Paket JJD0000123456789012", "JJD0000123456789012", "dhl"),
    ("Sendungsnummer: 00340434161094042557", "00340434161094042557", "other"),
]


@pytest.mark.parametrize(("text", "value", "carrier"), TRACKING)
def test_tracking_numbers(text: str, value: str, carrier: str) -> None:
    [(got, attrs)] = found(text, "tracking_number")
    assert got == value and attrs["carrier"] == carrier


@pytest.mark.parametrize(
    ("number", "ok"),
    [("RR123456785CN", True), ("RR123456780CN", False), ("EE123456785CN", True), ("LX987654321CN", False)],
)
def test_s10_numbers_carry_their_check_digit(number: str, ok: bool) -> None:
    assert s10_check_digit_ok(number) is ok
    [(value, attrs)] = found(f"tracking {number} please", "tracking_number")
    assert value == number and attrs == {"carrier": "upu_s10", "country": "CN", "check_digit_ok": ok}


@pytest.mark.parametrize(
    ("text", "value", "valid"),
    [
        ("IMEI 490154203237518 blacklisted", "490154203237518", True),
        ("IMEI 490154203237519 blacklisted", "490154203237519", False),
        ("imei:356938035643809", "356938035643809", True),
    ],
)
def test_imeis_with_their_luhn_validity(text: str, value: str, valid: bool) -> None:
    assert found(text, "imei") == [(value, {"valid": valid})]


def test_an_imei_is_not_read_as_part_of_a_longer_number() -> None:
    assert found("3012345678901234", "imei") == []  # 16 digits: an AliExpress order


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("ASIN B08N5WRWNW speaker", "asin", "B08N5WRWNW"),
        ("SKU: AB-123-XL wrong colour", "sku", "AB-123-XL"),
        ("Art.-Nr. 4711ABC fehlt", "sku", "4711ABC"),
        ("eBay item 284512345678 arrived", "item_number", "284512345678"),
        ("Artikel Nr 184512345678 defekt", "item_number", "184512345678"),
    ],
)
def test_skus_asins_and_item_numbers(text: str, kind: str, value: str) -> None:
    assert [v for v, _ in found(text, kind)] == [value]


AMOUNTS = [
    ("refund €12,50 please", "€12,50", "EUR", "12.50"),
    ("paid 12.50 USD", "12.50 USD", "USD", "12.50"),
    ("¥3000 for nothing", "¥3000", "JPY", "3000"),
    ("R$ 59,90 no cartão", "R$ 59,90", "BRL", "59.90"),
    ("Preis 1.299,00 € zu viel", "1.299,00 €", "EUR", "1299.00"),
    ("$1,299.99 laptop", "$1,299.99", "USD", "1299.99"),
    ("3.000円の返金", "3.000円", "JPY", "3000"),
    ("Rp 150.000 belum balik", "Rp 150.000", "IDR", "150000"),
    ("zapłaciłem 149,99 zł", "149,99 zł", "PLN", "149.99"),
    ("2 990 руб. за заказ", "2 990 руб.", "RUB", "2990"),
    ("退款￥199", "￥199", "CNY", "199"),
    ("39,000원 환불", "39,000원", "KRW", "39000"),
    ("259.000đ", "259.000đ", "VND", "259000"),
    ("590 บาท", "590 บาท", "THB", "590"),
    ("349,90 TL iade", "349,90 TL", "TRY", "349.90"),
]


@pytest.mark.parametrize(("text", "value", "currency", "amount"), AMOUNTS)
def test_amounts_and_currencies_as_written(text: str, value: str, currency: str, amount: str) -> None:
    assert found(text, "amount") == [(value, {"currency": currency, "amount": amount})]


@pytest.mark.parametrize("text", ["I want 2 of them", "10 days ago", "size 44", "iPhone 15"])
def test_numbers_without_a_currency_are_not_amounts(text: str) -> None:
    assert found(text, "amount") == []


def test_parse_amount_reads_separators_by_position_and_currency() -> None:
    assert parse_amount("1.299", "JPY") == Decimal("1299")
    assert parse_amount("12,5", "EUR") == Decimal("12.5")
    assert parse_amount("1,299.99", "USD") == Decimal("1299.99")


def test_entities_are_ordered_and_never_overlap() -> None:
    text = "Order 302-1234567-1234567, tracking RR123456785CN, IMEI 490154203237518, paid €12,50"
    entities = extract_entities(text)
    assert [e.type for e in entities] == ["order_number", "tracking_number", "imei", "amount"]
    spans = [(e.start, e.end) for e in entities]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
