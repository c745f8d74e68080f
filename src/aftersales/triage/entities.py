"""Entities in a buyer's message, found by rules (pure: no database, no model).

Every entity is an exact substring of the text with its offsets (`text[start:end] == value`):
order numbers in each platform's format, tracking numbers of the common carriers, IMEIs with their
Luhn validity, ASINs, SKUs, eBay item numbers, and amounts with their currency as written. Patterns
are tried in a fixed order (most specific first) and a character belongs to at most one entity, so
a 15-digit IMEI is never also read as part of a 16-digit AliExpress order number."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum import imei as stdnum_imei

ORDER_NUMBER = "order_number"
TRACKING_NUMBER = "tracking_number"
IMEI = "imei"
ASIN = "asin"
SKU = "sku"
ITEM_NUMBER = "item_number"
AMOUNT = "amount"
ENTITY_TYPES = (ORDER_NUMBER, TRACKING_NUMBER, IMEI, ASIN, SKU, ITEM_NUMBER, AMOUNT)


@dataclass(frozen=True)
class Entity:
    type: str
    value: str  # exactly text[start:end]
    start: int
    end: int
    attrs: dict[str, Any] = field(default_factory=dict)  # platform, carrier, valid, currency, amount

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "attributes": dict(self.attrs),
        }


# Digits not glued to other digits/letters (\b fails between CJK characters and digits, which
# buyers in zh/ja/th write without spaces: "订单号123-1234567-1234567坏了").
_L = r"(?<![0-9A-Za-z])"
_R = r"(?![0-9A-Za-z])"

_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit_ok(number: str) -> bool:
    """UPU S10 (e.g. RR123456785CN): the 9th digit checks the 8 before it."""
    digits = number[2:11]
    total = sum(int(d) * w for d, w in zip(digits[:8], _S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    check = 0 if check == 10 else 5 if check == 11 else check
    return check == int(digits[8])


def _shopee_date_ok(value: str) -> bool:
    try:
        date(2000 + int(value[0:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        return False
    return any(c.isalpha() for c in value[6:])


Rule = tuple[str, re.Pattern[str], Callable[[re.Match[str]], dict[str, Any] | None]]


def _attrs(**fixed: Any) -> Callable[[re.Match[str]], dict[str, Any]]:
    return lambda _m: dict(fixed)


_CARRIER_WORDS = (
    r"dhl|fedex|gls|dpd|hermes|tnt|aramex|correos|colissimo|la poste|postnl|bpost|poczta|inpost|yamato|sagawa"
    r"|j&t|jnt|kerry|ninja ?van|sicepat|ghn|viettel post|cdek|сдэк|почта|ptt|yurtiçi|aras|mng|sf|顺丰|中通|圆通"
    r"|tracking|track(?:ing)? ?(?:no|nr|number|#|id)|sendungsnummer|sendungs-nr|n° de suivi|numéro de suivi"
    r"|número de seguimiento|numero di tracciamento|código de rastreio|rastreio|trackingnummer|numer przesyłki"
    r"|takip no|трек(?:-номер)?|追跡番号|运单号|快递单号|物流单号|송장번호|운송장|رقم التتبع|เลขพัสดุ|mã vận đơn|resi"
)


def _s10(m: re.Match[str]) -> dict[str, Any] | None:
    value = m.group(0)
    return {"carrier": "upu_s10", "country": value[-2:], "check_digit_ok": s10_check_digit_ok(value)}


def _imei(m: re.Match[str]) -> dict[str, Any]:
    return {"valid": bool(stdnum_imei.is_valid(m.group(0)))}


def _shopee(m: re.Match[str]) -> dict[str, Any] | None:
    return {"platform": "shopee"} if _shopee_date_ok(m.group(0)) else None


# Most specific first. Each rule: (type, pattern, attrs-or-None-to-reject).
_RULES: list[Rule] = [
    (ORDER_NUMBER, re.compile(_L + r"\d{3}-\d{7}-\d{7}" + _R), _attrs(platform="amazon")),
    (ORDER_NUMBER, re.compile(_L + r"\d{2}-\d{5}-\d{5}" + _R), _attrs(platform="ebay")),
    (TRACKING_NUMBER, re.compile(_L + r"1Z[0-9A-Z]{16}" + _R), _attrs(carrier="ups")),
    (TRACKING_NUMBER, re.compile(_L + r"LP\d{14,16}" + _R), _attrs(carrier="cainiao")),
    (TRACKING_NUMBER, re.compile(_L + r"4PX\d{10,16}(?:CN)?" + _R), _attrs(carrier="4px")),
    (TRACKING_NUMBER, re.compile(_L + r"YT\d{16}" + _R), _attrs(carrier="yunexpress")),
    (TRACKING_NUMBER, re.compile(_L + r"(?:JJD|JVGL)\d{10,20}" + _R), _attrs(carrier="dhl")),
    (TRACKING_NUMBER, re.compile(_L + r"[A-Z]{2}\d{9}[A-Z]{2}" + _R), _s10),
    (TRACKING_NUMBER, re.compile(_L + r"9[2-5]\d{20}" + _R), _attrs(carrier="usps")),
    (ASIN, re.compile(_L + r"B0[A-Z0-9]{8}" + _R), _attrs()),
    (ORDER_NUMBER, re.compile(_L + r"\d{6}[A-Z0-9]{8}" + _R), _shopee),
    (ORDER_NUMBER, re.compile(_L + r"\d{18}" + _R), _attrs(platform="tiktok")),
    (ORDER_NUMBER, re.compile(_L + r"\d{16}" + _R), _attrs(platform="aliexpress")),
    (IMEI, re.compile(_L + r"\d{15}" + _R), _imei),
    (ORDER_NUMBER, re.compile(r"(?<![\w&#])#\d{3,9}" + _R), _attrs(platform="shopify")),
]

# Numbers that only a nearby word makes a tracking number, SKU or eBay item number.
_CONTEXT_RULES: list[tuple[str, re.Pattern[str], dict[str, Any]]] = [
    (
        TRACKING_NUMBER,
        re.compile(r"(?i:" + _CARRIER_WORDS + r")\s*[:：#]?\s*(?:is\s+|es\s+|ist\s+)?(?P<v>[A-Z0-9]{8,30})" + _R),
        {"carrier": "other"},
    ),
    (
        ITEM_NUMBER,
        re.compile(
            r"(?i:item|artikel|article|artículo|articolo|annuncio|inserzione|listing|商品)[^\d\n]{0,12}(?P<v>[1-4]\d{11})"
            + _R
        ),
        {"platform": "ebay"},
    ),
    (
        SKU,
        re.compile(
            r"(?i:sku|art(?:ikel)?[.-]{0,2}\s?nr\.?|model(?:o|l)?(?: no\.?)?|型号|型番|품번)"
            r"\s*[:：#]?\s*(?P<v>[A-Z0-9][A-Z0-9_-]{2,30})" + _R
        ),
        {},
    ),
]

_CURRENCY_SYMBOLS: dict[str, str] = {
    "R$": "BRL",
    "US$": "USD",
    "C$": "CAD",
    "A$": "AUD",
    "MX$": "MXN",
    "€": "EUR",
    "$": "USD",
    "£": "GBP",
    "¥": "JPY",
    "￥": "CNY",
    "₩": "KRW",
    "₺": "TRY",
    "₽": "RUB",
    "฿": "THB",
    "₫": "VND",
    "zł": "PLN",
    "Rp": "IDR",
    "RM": "MYR",
    "円": "JPY",
    "元": "CNY",
    "块": "CNY",
    "원": "KRW",
    "บาท": "THB",
    "đ": "VND",
    "TL": "TRY",
    "руб": "RUB",
    "руб.": "RUB",
    "рублей": "RUB",
    "euro": "EUR",
    "euros": "EUR",
    "reais": "BRL",
    "dólares": "USD",
    "dollars": "USD",
    "yen": "JPY",
    "yuan": "CNY",
    "zł.": "PLN",
    "złotych": "PLN",
    "lira": "TRY",
    "ريال": "SAR",
    "درهم": "AED",
    "dong": "VND",
    "ribu": "IDR",
}
_ISO = "USD|EUR|GBP|JPY|CNY|RMB|BRL|MXN|PLN|TRY|RUB|KRW|THB|VND|IDR|SAR|AED|CHF|SEK|NOK|DKK|CZK|HUF|INR|CAD|AUD|MYR|SGD"
_SYM_BEFORE = r"R\$|US\$|MX\$|C\$|A\$|€|\$|£|¥|￥|₩|₺|₽|฿|₫|Rp\.?|RM"
_SYM_AFTER = (
    r"€|zł\.?|złotych|₽|руб\.?|рублей|₺|TL|円|元|块|원|บาท|₫|đ|\$|euros?|reais|dólares|dollars|yen|yuan|lira|ريال|درهم"
)
_NUM = r"\d{1,3}(?:[.,\s  ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_AMOUNT = re.compile(
    r"(?<![A-Za-z0-9$])(?:(?P<pre>" + _SYM_BEFORE + "|(?:" + _ISO + r")(?![A-Za-z]))\s?)?(?P<num>" + _NUM + r")"
    r"(?:\s?(?P<post>" + _SYM_AFTER + "|(?:" + _ISO + r")(?![A-Za-z]))(?![A-Za-zÀ-ÿ]))?(?![0-9])"
)
_ZERO_DECIMAL = {"JPY", "KRW", "VND", "IDR"}


def parse_amount(number: str, currency: str) -> Decimal | None:
    """ "12,50" -> 12.50; "1.299,00" -> 1299.00; "3.000" yen -> 3000; "1,299.99" -> 1299.99."""
    raw = number.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    last_dot, last_comma = raw.rfind("."), raw.rfind(",")
    sep = max(last_dot, last_comma)
    if sep >= 0 and (len(raw) - sep - 1) in (1, 2) and currency not in _ZERO_DECIMAL:
        whole, frac = raw[:sep], raw[sep + 1 :]
    else:
        whole, frac = raw, ""
    whole = whole.replace(".", "").replace(",", "")
    try:
        return Decimal(f"{whole}.{frac}" if frac else whole)
    except InvalidOperation:
        return None


def _currency_code(symbol: str) -> str:
    symbol = symbol.strip()
    if symbol.upper() in _ISO.split("|"):
        return "CNY" if symbol.upper() == "RMB" else symbol.upper()
    return _CURRENCY_SYMBOLS.get(
        symbol, _CURRENCY_SYMBOLS.get(symbol.rstrip("."), _CURRENCY_SYMBOLS.get(symbol.lower(), ""))
    )


def extract_entities(text: str) -> list[Entity]:
    """All entities of `text`, ordered by position, never overlapping."""
    taken: list[tuple[int, int]] = []
    found: list[Entity] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def add(kind: str, start: int, end: int, attrs: dict[str, Any]) -> None:
        taken.append((start, end))
        found.append(Entity(kind, text[start:end], start, end, attrs))

    for kind, pattern, make in _RULES:
        for m in pattern.finditer(text):
            if not free(m.start(), m.end()):
                continue
            attrs = make(m)
            if attrs is not None:
                add(kind, m.start(), m.end(), attrs)
    for kind, pattern, attrs in _CONTEXT_RULES:
        for m in pattern.finditer(text):
            start, end = m.span("v")
            value = m.group("v")
            if not any(c.isdigit() for c in value) or not free(start, end):
                continue
            add(kind, start, end, dict(attrs))
    for m in _AMOUNT.finditer(text):
        symbol = m.group("pre") or m.group("post")
        if not symbol or not free(m.start(), m.end()):
            continue
        currency = _currency_code(symbol)
        value = parse_amount(m.group("num"), currency)
        if value is None or not currency:
            continue
        add(AMOUNT, m.start(), m.end(), {"currency": currency, "amount": str(value)})
    found.sort(key=lambda e: e.start)
    return found


def order_numbers(entities: list[Entity]) -> list[Entity]:
    return [e for e in entities if e.type == ORDER_NUMBER]
