"""In or out of warranty, and which term applies. Pure: no ORM, no clock, no I/O.

Time: a warranty counts calendar months in the store's local time zone. The local date of delivery
(of the sale when the delivery is unknown) is the first day; an N-month warranty covers through the
same day of the month N months later (clamped to the month's end: 31 January + 1 month = 28 or 29
February), until the end of that local day. A claim is judged on its local date in the same zone,
whether it was stamped in UTC, in the buyer's zone or given as a date.

Terms: each term applies to a product category (or any), a region (a country, a country group such
as "EU", or any) and a customer tier (or any). A term for the unit's category beats a term for any
category; among the matching terms of the most specific category level the longest wins (region
terms act as floors, tier terms as extensions: a VIP term longer than the EU term gives VIPs in the EU
the longer one). No matching term: the product's own warranty months."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aftersales.returns.policy.document import EU_COUNTRIES

COUNTRY_GROUPS: Mapping[str, frozenset[str]] = {"EU": EU_COUNTRIES}
MAX_MONTHS = 120


@dataclass(frozen=True)
class TermRule:
    """One warranty term as data. Empty category / region / customer_tier: any."""

    id: int | None
    months: int
    category: str = ""
    region: str = ""
    customer_tier: str = ""


@dataclass(frozen=True)
class AppliedTerm:
    months: int
    term_id: int | None  # None: the product's own warranty months
    source: str  # "term" or "product"
    category: str = ""
    region: str = ""
    customer_tier: str = ""


@dataclass(frozen=True)
class WarrantyStatus:
    starts_on: date  # local date of delivery (or sale)
    ends_on: date  # the last covered local day
    claim_on: date  # the claim's local date
    in_warranty: bool
    days_left: int  # 0 on the last day; 0 once expired
    days_expired: int  # days since the last covered day; 0 while in warranty
    months: int


def region_matches(region: str, country: str) -> bool:
    if not region:
        return True
    if not country:
        return False
    group = COUNTRY_GROUPS.get(region)
    if group is not None:
        return country in group
    return region == country


def _region_rank(region: str) -> int:
    if not region:
        return 0
    return 1 if region in COUNTRY_GROUPS else 2


def resolve_term(
    rules: Iterable[TermRule], *, category: str, country: str, customer_tier: str, product_months: int
) -> AppliedTerm:
    """The term that applies to a unit (see the module docstring)."""
    matching = [
        r
        for r in rules
        if (not r.category or r.category == category)
        and region_matches(r.region, country)
        and (not r.customer_tier or r.customer_tier == customer_tier)
    ]
    if not matching:
        # a product's months are capped like a term's (a catalogue typo of 1200 is not a century)
        return AppliedTerm(months=min(max(product_months, 0), MAX_MONTHS), term_id=None, source="product")
    level = max(bool(r.category) for r in matching)
    candidates = [r for r in matching if bool(r.category) == level]
    best = max(
        candidates,
        key=lambda r: (r.months, _region_rank(r.region), bool(r.customer_tier), -(r.id or 0)),
    )
    return AppliedTerm(
        months=best.months,
        term_id=best.id,
        source="term",
        category=best.category,
        region=best.region,
        customer_tier=best.customer_tier,
    )


def add_months(day: date, months: int) -> date:
    """`day` plus calendar months, clamped to the end of the target month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(value: datetime | date, tz: ZoneInfo) -> date:
    """The local calendar day of an instant in `tz`; a date is taken as already local."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("an instant needs its time zone offset")
        return value.astimezone(tz).date()
    return value


def warranty_status(*, starts: datetime | date, months: int, claim_at: datetime | date, tz: ZoneInfo) -> WarrantyStatus:
    """In or out of warranty on the claim's local day, with days left (or since it ended)."""
    start = local_day(starts, tz)
    claim = local_day(claim_at, tz)
    ends = add_months(start, months)
    remaining = (ends - claim).days
    return WarrantyStatus(
        starts_on=start,
        ends_on=ends,
        claim_on=claim,
        in_warranty=remaining >= 0,
        days_left=max(remaining, 0),
        days_expired=max(-remaining, 0),
        months=months,
    )
