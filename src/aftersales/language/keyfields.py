"""Key fields in text read from an image or a transcript: order numbers, tracking numbers, IMEIs.

OCR silently changes digits in small text (8 -> 3, 0 -> O, a dropped digit). Each field found is
checked against its known format and, where it has one, its check digit:

- Amazon 3-7-7 digits, eBay 2-5-5, AliExpress 16 digits, TikTok Shop 18 digits, Shopee
  YYMMDD + 8 letters/digits (the date must exist), Shopify ``#1001``;
- UPU S10 tracking numbers (``RR123456785CN``): 2 letters, 8 digits, a mod-11 check digit
  (weights 8 6 4 2 3 5 9 7), 2 letters;
- IMEI (15 digits, Luhn), when the text labels it as an IMEI.

A field that fails is returned with ``valid=False`` and a reason: it is shown flagged and must
never be linked to an order without a person confirming it. Letters that OCR confuses with digits
(O, o, I, l, S, B, Z) inside a number make it flagged too; the digit reading is offered as
``suggestion``. Pure functions: no Django, no I/O."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
LOW_CONFIDENCE = 0.80  # an OCR line read with less confidence than this is flagged
_CONFUSABLE = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "S": "5", "B": "8", "Z": "2"})
_D = r"[0-9OoDIlSBZ]"  # a digit, or a letter OCR reads in its place

REASONS = {
    "letters": "letters where digits belong (OCR may have misread them)",
    "length": "wrong number of digits for this platform",
    "check_digit": "the check digit does not match",
    "date": "the date part is not a real date",
    "low_confidence": "read with low confidence",
}


@dataclass(frozen=True)
class KeyField:
    # order_amazon | order_ebay | order_aliexpress | order_tiktok | order_shopee | order_shopify | tracking_s10 | imei
    kind: str
    raw: str  # as read
    value: str  # normalised (spaces removed); the digit reading when letters were confused
    valid: bool
    reason: str = ""  # a REASONS key when not valid
    start: int = 0
    end: int = 0

    @property
    def suggestion(self) -> str:
        """The value with confusable letters read as digits, when it differs from what was read."""
        return self.value if self.reason == "letters" else ""

    def as_json(self) -> dict:
        return {"kind": self.kind, "raw": self.raw, "value": self.value, "valid": self.valid, "reason": self.reason}


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or len(number) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def s10_check_digit(serial: str) -> int:
    """UPU S10: the check digit of the 8-digit serial number."""
    total = sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


def s10_valid(number: str) -> bool:
    number = re.sub(r"\s", "", number).upper()
    m = re.fullmatch(r"[A-Z]{2}(\d{8})(\d)[A-Z]{2}", number)
    return m is not None and s10_check_digit(m.group(1)) == int(m.group(2))


def _digits(raw: str) -> tuple[str, bool]:
    """(the digit reading, whether letters were read as digits)."""
    fixed = raw.translate(_CONFUSABLE)
    return fixed, fixed != raw


def _amazon(raw: str) -> tuple[str, str]:
    value, confused = _digits(raw)
    if confused:
        return value, "letters"
    return value, "" if re.fullmatch(r"\d{3}-\d{7}-\d{7}", value) else "length"


def _ebay(raw: str) -> tuple[str, str]:
    value, confused = _digits(raw)
    if confused:
        return value, "letters"
    return value, "" if re.fullmatch(r"\d{2}-\d{5}-\d{5}", value) else "length"


def _s10(raw: str) -> tuple[str, str]:
    compact = re.sub(r"\s", "", raw)
    digits, confused = _digits(compact[2:-2])
    value = compact[:2].upper() + digits + compact[-2:].upper()
    if confused:
        return value, "letters"
    if len(digits) != 9:
        return value, "length"
    return value, "" if s10_valid(value) else "check_digit"


def _long_number(raw: str) -> tuple[str, str]:
    value, confused = _digits(raw)
    return value, "letters" if confused else ""


def _shopee(raw: str) -> tuple[str, str]:
    yy, mm, dd = int(raw[0:2]), int(raw[2:4]), int(raw[4:6])
    try:
        date(2000 + yy, mm, dd)
    except ValueError:
        return raw, "date"
    return raw, ""


def _shopify(raw: str) -> tuple[str, str]:
    digits, confused = _digits(raw[1:])
    return "#" + digits, "letters" if confused else ""


def _imei(raw: str) -> tuple[str, str]:
    value, confused = _digits(re.sub(r"[\s-]", "", raw))
    if confused:
        return value, "letters"
    if len(value) != 15:
        return value, "length"
    return value, "" if luhn_valid(value) else "check_digit"


def _number(body: str) -> re.Pattern[str]:
    """A number standing alone (not inside a longer word or number)."""
    return re.compile(r"(?<![\w#-])" + body + r"(?![\w-])")


# (kind, pattern, checker), most specific first; a span is claimed by the first kind that matches.
_RULES: tuple[tuple[str, re.Pattern[str], Callable[[str], tuple[str, str]]], ...] = (
    (
        "tracking_s10",
        re.compile(rf"(?<![A-Za-z0-9])[A-Z]{{2}} ?{_D}{{3}} ?{_D}{{3}} ?{_D}{{2,4}} ?[A-Z]{{2}}(?![A-Za-z0-9])"),
        _s10,
    ),
    (
        "imei",
        re.compile(rf"(?i:ime[i1l|]|meid)(?:\s?[12](?=\s*[:：#]))?\s*[:：#]?\s*((?:{_D}[\s-]?){{13,16}}{_D})(?![\w-])"),
        _imei,
    ),
    ("order_amazon", _number(rf"{_D}{{3}}-{_D}{{6,8}}-{_D}{{6,8}}"), _amazon),
    ("order_ebay", _number(rf"{_D}{{2}}-{_D}{{4,6}}-{_D}{{4,6}}"), _ebay),
    ("order_tiktok", _number(rf"{_D}{{18}}"), _long_number),
    ("order_aliexpress", _number(rf"{_D}{{16}}"), _long_number),
    ("order_shopee", re.compile(r"(?<![A-Za-z0-9])\d{6}[A-Z0-9]{8}(?![A-Za-z0-9])"), _shopee),
    ("order_shopify", re.compile(r"(?<![\w#])#[0-9OoIlSB]*\d[0-9OoIlSB]*(?![\w-])"), _shopify),
)
MIN_DIGITS = {"order_shopify": 1}  # others: at least 6 real digits, so words are never numbers


def find_key_fields(text: str, *, confidence: float | None = None) -> list[KeyField]:
    """Every key field in `text`, in reading order, each checked. `confidence` is the OCR
    confidence of the line the text comes from: below LOW_CONFIDENCE a field that passes its checks
    is still flagged (``low_confidence``), since a misread digit can still pass a format check."""
    found: list[KeyField] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern, check in _RULES:
        for m in pattern.finditer(text):
            group = 1 if pattern.groups else 0
            start, end = m.span(group)
            if any(start < b and a < end for a, b in taken):
                continue
            raw = m.group(group)
            if sum(c.isdigit() for c in raw) < MIN_DIGITS.get(kind, 6):
                continue
            value, reason = check(raw)
            if reason == "letters" and not _mostly_digits(raw):
                continue
            if not reason and confidence is not None and confidence < LOW_CONFIDENCE:
                reason = "low_confidence"
            taken.append((start, end))
            found.append(KeyField(kind, raw, value, not reason, reason, start, end))
    return sorted(found, key=lambda f: f.start)


def _mostly_digits(raw: str) -> bool:
    """At most 2 letters read in place of digits (S10: its 4 letters do not count)."""
    return sum(c in "OoDIlSBZ" for c in raw) <= (6 if re.match(r"[A-Z]{2}", raw) else 2)


def find_in_blocks(blocks: list[dict]) -> list[KeyField]:
    """Key fields of OCR blocks ([{text, confidence, ...}]), each checked with its line's confidence."""
    fields: list[KeyField] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        confidence = block.get("confidence")
        fields.extend(
            find_key_fields(
                str(block.get("text") or ""),
                confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
            )
        )
    return fields
