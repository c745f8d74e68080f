"""The return-policy document: parsed strictly (unknown keys refused with their path, e.g.
`windows[2].scope.sku`) into frozen dataclasses. Pure: no ORM, no I/O.

The document format is described in docs/returns-policy.md."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SCHEMA_VERSION = 1

EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
COUNTRY_GROUPS: dict[str, frozenset[str]] = {"EU": EU_COUNTRIES}

SCOPE_LEVELS = ("sku", "category", "store", "site", "platform")  # most specific first; none = default
VALUE_TIERS = ("high", "mid", "low")
EVIDENCE_KINDS = ("photos", "video", "imei", "serial_number")
RESOLUTIONS = ("return_and_refund", "exchange", "repair")
PAYERS = ("buyer", "seller")
CUSTOMER_TIERS = ("vip", "regular", "new", "at_risk")
CATEGORIES = (
    "phones",
    "computers",
    "consumer_electronics",
    "electronic_accessories",
    "apparel",
    "shoes",
    "home",
    "beauty",
    "toys",
    "sports",
    "other",
)
MAX_DAYS = 3650
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class PolicyDocumentError(ValueError):
    """A document that cannot be a policy; `path` names the offending key (`windows[2].scope.sku`)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


# --- parsed document ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    level: str | None  # one of SCOPE_LEVELS, None for the default
    key: str | None
    reasons: frozenset[str] | None
    value_tiers: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class Window:
    code: str
    days: int
    scope: Scope


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    accepted: bool
    resolution: str
    return_shipping_paid_by: str


@dataclass(frozen=True, slots=True)
class TierBonus:
    code: str
    customer_tier: str
    days: int


@dataclass(frozen=True, slots=True)
class Seasonal:
    code: str
    delivered_from: date
    delivered_to: date
    returnable_until: date


@dataclass(frozen=True, slots=True)
class StatutoryFloor:
    code: str
    countries: frozenset[str]
    days: int
    forbids_restocking_fee: bool


@dataclass(frozen=True, slots=True)
class Match:
    """Conditions shared by fees, evidence and returnless rules (None = any)."""

    reasons: frozenset[str] | None
    value_tiers: frozenset[str] | None
    categories: frozenset[str] | None

    def matches(self, reason: str, tier: str, category: str | None) -> bool:
        return (
            (self.reasons is None or reason in self.reasons)
            and (self.value_tiers is None or tier in self.value_tiers)
            and (self.categories is None or (category is not None and category in self.categories))
        )


@dataclass(frozen=True, slots=True)
class RestockingFee:
    code: str
    percent: Decimal
    match: Match


@dataclass(frozen=True, slots=True)
class EvidenceRule:
    code: str
    require: frozenset[str]
    match: Match


@dataclass(frozen=True, slots=True)
class ReturnlessRule:
    code: str
    below: Decimal  # unit price in the reporting currency, strictly below
    match: Match


@dataclass(frozen=True, slots=True)
class PartialRefundOffer:
    code: str
    percent: Decimal
    match: Match


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    reporting_currency: str
    timezone: str
    site_timezones: Mapping[str, str]
    high_value_from: Decimal
    mid_value_from: Decimal
    reasons: tuple[Reason, ...]
    windows: tuple[Window, ...]
    customer_tier_bonuses: tuple[TierBonus, ...]
    seasonal: tuple[Seasonal, ...]
    statutory_floors: tuple[StatutoryFloor, ...]
    restocking_fees: tuple[RestockingFee, ...]
    evidence: tuple[EvidenceRule, ...]
    returnless_refunds: tuple[ReturnlessRule, ...]
    partial_refund_offers: tuple[PartialRefundOffer, ...]


# --- strict reading -------------------------------------------------------------------------------


def _obj(value: Any, path: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PolicyDocumentError(path, "must be an object")
    for key in value:
        if not isinstance(key, str) or key not in required | optional:
            raise PolicyDocumentError(_join(path, str(key)), "unknown key")
    for key in sorted(required):
        if key not in value:
            raise PolicyDocumentError(_join(path, key), "is required")
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _list(value: Any, path: str, *, max_items: int = 500) -> list[Any]:
    if not isinstance(value, list):
        raise PolicyDocumentError(path, "must be a list")
    if len(value) > max_items:
        raise PolicyDocumentError(path, f"at most {max_items} items")
    return value


def _str(value: Any, path: str, *, max_length: int = 80) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_length or "\x00" in value:
        raise PolicyDocumentError(path, f"must be non-empty text of at most {max_length} characters")
    return value


def _code(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise PolicyDocumentError(path, "must be a clause code (letters, digits, _ . : -, at most 64)")
    return value


def _choice(value: Any, path: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise PolicyDocumentError(path, f"must be one of: {', '.join(choices)}")
    return value


def _int(value: Any, path: str, *, low: int = 0, high: int = MAX_DAYS) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PolicyDocumentError(path, f"must be a whole number from {low} to {high}")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyDocumentError(path, "must be true or false")
    return value


def _decimal(value: Any, path: str, *, high: Decimal | None = None, places: int = 2) -> Decimal:
    if isinstance(value, bool | float) or not isinstance(value, str | int):
        raise PolicyDocumentError(path, 'must be a decimal string such as "19.99" (not a float)')
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise PolicyDocumentError(path, "must be a decimal number") from None
    if not number.is_finite() or number < 0 or (high is not None and number > high):
        raise PolicyDocumentError(path, "is out of range")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        raise PolicyDocumentError(path, f"at most {places} decimal places")
    return number


def _date(value: Any, path: str) -> date:
    if isinstance(value, date):
        return value
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        raise PolicyDocumentError(path, "must be a date YYYY-MM-DD between 2000 and 2100")
    return day


def _timezone(value: Any, path: str) -> str:
    name = _str(value, path, max_length=64)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyDocumentError(path, "unknown time zone") from None
    return name


def _set(value: Any, path: str, item: Callable[[Any, str], str]) -> frozenset[str] | None:
    if value is None:
        return None
    items = _list(value, path)
    if not items:
        raise PolicyDocumentError(path, "must not be empty (leave the key out to mean any)")
    return frozenset(item(v, f"{path}[{i}]") for i, v in enumerate(items))


def _countries(value: Any, path: str) -> frozenset[str]:
    out: set[str] = set()
    for i, item in enumerate(_list(value, path)):
        if isinstance(item, str) and item in COUNTRY_GROUPS:
            out |= COUNTRY_GROUPS[item]
        elif isinstance(item, str) and re.fullmatch(r"[A-Z]{2}", item):
            out.add(item)
        else:
            raise PolicyDocumentError(f"{path}[{i}]", "must be an ISO 3166 alpha-2 code or a group (EU)")
    if not out:
        raise PolicyDocumentError(path, "must not be empty")
    return frozenset(out)


def _match(raw: dict[str, Any], path: str, reasons: set[str]) -> Match:
    return Match(
        reasons=_set(raw.get("reasons"), _join(path, "reasons"), lambda v, p: _known(v, p, reasons, "reason")),
        value_tiers=_set(raw.get("value_tiers"), _join(path, "value_tiers"), lambda v, p: _choice(v, p, VALUE_TIERS)),
        categories=_set(raw.get("categories"), _join(path, "categories"), lambda v, p: _choice(v, p, CATEGORIES)),
    )


def _known(value: Any, path: str, known: set[str], what: str) -> str:
    if not isinstance(value, str) or value not in known:
        raise PolicyDocumentError(path, f"unknown {what} (declare it under reasons first)")
    return value


def _unique_codes(codes: list[tuple[str, str]]) -> None:
    seen: set[str] = set()
    for code, path in codes:
        if code in seen:
            raise PolicyDocumentError(path, f"clause code {code!r} is used twice")
        seen.add(code)


MATCH_KEYS = {"reasons", "value_tiers", "categories"}


def parse_document(raw: Any) -> PolicyDocument:
    """The strict reader. Raises PolicyDocumentError naming the first offending path."""
    top = _obj(
        raw,
        "",
        {"schema_version", "reporting_currency", "reasons", "windows"},
        {
            "timezone",
            "site_timezones",
            "value_tiers",
            "customer_tier_bonuses",
            "seasonal",
            "statutory_floors",
            "restocking_fees",
            "evidence",
            "returnless_refunds",
            "partial_refund_offers",
        },
    )
    if top["schema_version"] != SCHEMA_VERSION or isinstance(top["schema_version"], bool):
        raise PolicyDocumentError("schema_version", f"must be {SCHEMA_VERSION}")
    currency = top["reporting_currency"]
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise PolicyDocumentError("reporting_currency", "must be an ISO 4217 code such as USD")
    timezone = _timezone(top.get("timezone", "UTC"), "timezone")
    site_timezones: dict[str, str] = {}
    sites_raw = top.get("site_timezones", {})
    if not isinstance(sites_raw, dict):
        raise PolicyDocumentError("site_timezones", "must be an object")
    for site, zone in sites_raw.items():
        site_timezones[_str(site, "site_timezones")] = _timezone(zone, f"site_timezones.{site}")

    tiers = _obj(
        top.get("value_tiers", {"high_from": "500", "mid_from": "100"}), "value_tiers", set(), {"high_from", "mid_from"}
    )
    high_from = _decimal(tiers.get("high_from", "500"), "value_tiers.high_from")
    mid_from = _decimal(tiers.get("mid_from", "100"), "value_tiers.mid_from")
    if mid_from > high_from:
        raise PolicyDocumentError("value_tiers.mid_from", "must not be above high_from")

    codes: list[tuple[str, str]] = []
    reasons: list[Reason] = []
    for i, item in enumerate(_list(top["reasons"], "reasons")):
        p = f"reasons[{i}]"
        r = _obj(item, p, {"code"}, {"accepted", "resolution", "return_shipping_paid_by"})
        reasons.append(
            Reason(
                code=_code(r["code"], f"{p}.code"),
                accepted=_bool(r.get("accepted", True), f"{p}.accepted"),
                resolution=_choice(r.get("resolution", "return_and_refund"), f"{p}.resolution", RESOLUTIONS),
                return_shipping_paid_by=_choice(
                    r.get("return_shipping_paid_by", "buyer"), f"{p}.return_shipping_paid_by", PAYERS
                ),
            )
        )
    reason_codes = {r.code for r in reasons}
    if len(reason_codes) != len(reasons):
        raise PolicyDocumentError("reasons", "a reason code is listed twice")

    windows: list[Window] = []
    for i, item in enumerate(_list(top["windows"], "windows")):
        p = f"windows[{i}]"
        w = _obj(item, p, {"code", "days"}, {"scope"})
        s = _obj(w.get("scope", {}), f"{p}.scope", set(), {*SCOPE_LEVELS, "reasons", "value_tiers"})
        levels = [k for k in SCOPE_LEVELS if k in s]
        if len(levels) > 1:
            raise PolicyDocumentError(
                f"{p}.scope.{levels[1]}", f"a window is scoped by one of {', '.join(SCOPE_LEVELS)}"
            )
        level = levels[0] if levels else None
        key: str | None = None
        if level == "store":
            key = str(_int(s["store"], f"{p}.scope.store", low=1, high=2**62))
        elif level == "category":
            key = _choice(s["category"], f"{p}.scope.category", CATEGORIES)
        elif level is not None:
            key = _str(s[level], f"{p}.scope.{level}")
        scope = Scope(
            level=level,
            key=key,
            reasons=_set(s.get("reasons"), f"{p}.scope.reasons", lambda v, q: _known(v, q, reason_codes, "reason")),
            value_tiers=_set(s.get("value_tiers"), f"{p}.scope.value_tiers", lambda v, q: _choice(v, q, VALUE_TIERS)),
        )
        windows.append(Window(code=_code(w["code"], f"{p}.code"), days=_int(w["days"], f"{p}.days"), scope=scope))
        codes.append((windows[-1].code, f"{p}.code"))
    if not any(w.scope.level is None and w.scope.reasons is None and w.scope.value_tiers is None for w in windows):
        raise PolicyDocumentError("windows", "needs a default window (one with an empty scope)")

    bonuses = []
    for i, item in enumerate(_list(top.get("customer_tier_bonuses", []), "customer_tier_bonuses")):
        p = f"customer_tier_bonuses[{i}]"
        b = _obj(item, p, {"code", "customer_tier", "days"}, set())
        bonuses.append(
            TierBonus(
                _code(b["code"], f"{p}.code"),
                _choice(b["customer_tier"], f"{p}.customer_tier", CUSTOMER_TIERS),
                _int(b["days"], f"{p}.days"),
            )
        )
        codes.append((bonuses[-1].code, f"{p}.code"))

    seasonal = []
    for i, item in enumerate(_list(top.get("seasonal", []), "seasonal")):
        p = f"seasonal[{i}]"
        s = _obj(item, p, {"code", "delivered_from", "delivered_to", "returnable_until"}, set())
        rule = Seasonal(
            _code(s["code"], f"{p}.code"),
            _date(s["delivered_from"], f"{p}.delivered_from"),
            _date(s["delivered_to"], f"{p}.delivered_to"),
            _date(s["returnable_until"], f"{p}.returnable_until"),
        )
        if rule.delivered_to < rule.delivered_from:
            raise PolicyDocumentError(f"{p}.delivered_to", "must not be before delivered_from")
        if rule.returnable_until < rule.delivered_to:
            raise PolicyDocumentError(f"{p}.returnable_until", "must not be before delivered_to")
        seasonal.append(rule)
        codes.append((rule.code, f"{p}.code"))

    floors = []
    for i, item in enumerate(_list(top.get("statutory_floors", []), "statutory_floors")):
        p = f"statutory_floors[{i}]"
        f = _obj(item, p, {"code", "countries", "days"}, {"forbids_restocking_fee"})
        floors.append(
            StatutoryFloor(
                _code(f["code"], f"{p}.code"),
                _countries(f["countries"], f"{p}.countries"),
                _int(f["days"], f"{p}.days"),
                _bool(f.get("forbids_restocking_fee", True), f"{p}.forbids_restocking_fee"),
            )
        )
        codes.append((floors[-1].code, f"{p}.code"))

    fees = []
    for i, item in enumerate(_list(top.get("restocking_fees", []), "restocking_fees")):
        p = f"restocking_fees[{i}]"
        f = _obj(item, p, {"code", "percent"}, MATCH_KEYS)
        fees.append(
            RestockingFee(
                _code(f["code"], f"{p}.code"),
                _decimal(f["percent"], f"{p}.percent", high=Decimal(100)),
                _match(f, p, reason_codes),
            )
        )
        codes.append((fees[-1].code, f"{p}.code"))

    evidence = []
    for i, item in enumerate(_list(top.get("evidence", []), "evidence")):
        p = f"evidence[{i}]"
        e = _obj(item, p, {"code", "require"}, MATCH_KEYS)
        require = _set(e["require"], f"{p}.require", lambda v, q: _choice(v, q, EVIDENCE_KINDS)) or frozenset()
        evidence.append(EvidenceRule(_code(e["code"], f"{p}.code"), require, _match(e, p, reason_codes)))
        codes.append((evidence[-1].code, f"{p}.code"))

    returnless = []
    for i, item in enumerate(_list(top.get("returnless_refunds", []), "returnless_refunds")):
        p = f"returnless_refunds[{i}]"
        r = _obj(item, p, {"code", "below"}, MATCH_KEYS)
        returnless.append(
            ReturnlessRule(
                _code(r["code"], f"{p}.code"), _decimal(r["below"], f"{p}.below"), _match(r, p, reason_codes)
            )
        )
        codes.append((returnless[-1].code, f"{p}.code"))

    offers = []
    for i, item in enumerate(_list(top.get("partial_refund_offers", []), "partial_refund_offers")):
        p = f"partial_refund_offers[{i}]"
        o = _obj(item, p, {"code", "percent"}, MATCH_KEYS)
        offers.append(
            PartialRefundOffer(
                _code(o["code"], f"{p}.code"),
                _decimal(o["percent"], f"{p}.percent", high=Decimal(100)),
                _match(o, p, reason_codes),
            )
        )
        codes.append((offers[-1].code, f"{p}.code"))

    _unique_codes(codes)
    return PolicyDocument(
        reporting_currency=currency,
        timezone=timezone,
        site_timezones=site_timezones,
        high_value_from=high_from,
        mid_value_from=mid_from,
        reasons=tuple(reasons),
        windows=tuple(windows),
        customer_tier_bonuses=tuple(bonuses),
        seasonal=tuple(seasonal),
        statutory_floors=tuple(floors),
        restocking_fees=tuple(fees),
        evidence=tuple(evidence),
        returnless_refunds=tuple(returnless),
        partial_refund_offers=tuple(offers),
    )
