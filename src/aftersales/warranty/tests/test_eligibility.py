"""Pure warranty maths: term resolution by specificity, month arithmetic, local days across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from aftersales.warranty.eligibility import TermRule, add_months, resolve_term, warranty_status, zone

BERLIN = ZoneInfo("Europe/Berlin")
MADRID = ZoneInfo("Europe/Madrid")
SHANGHAI = ZoneInfo("Asia/Shanghai")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")

RULES = [
    TermRule(id=1, months=12),  # any category, any region, any tier
    TermRule(id=2, months=24, region="EU"),
    TermRule(id=3, months=12, category="phones"),
    TermRule(id=4, months=24, category="phones", region="EU"),
    TermRule(id=5, months=36, category="phones", customer_tier="vip"),
    TermRule(id=6, months=30, category="phones", region="FR"),
    TermRule(id=7, months=6, category="electronic_accessories"),
]


@pytest.mark.parametrize(
    ("category", "country", "tier", "months", "term_id"),
    [
        ("phones", "US", "regular", 12, 3),  # category term beats the any-category term
        ("phones", "DE", "regular", 24, 4),  # EU floor for phones
        ("phones", "FR", "regular", 30, 6),  # a country term longer than the EU group
        ("phones", "DE", "vip", 36, 5),  # VIP longer than the EU term: the longest wins
        ("phones", "US", "vip", 36, 5),
        ("phones", "", "regular", 12, 3),  # unknown delivery country: region terms do not apply
        ("computers", "DE", "regular", 24, 2),  # no computers term: the any-category level
        ("computers", "US", "new", 12, 1),
        ("electronic_accessories", "DE", "regular", 6, 7),  # a category term beats a longer catch-all
        ("phones", "CH", "regular", 12, 3),  # Switzerland is not in the EU
    ],
)
def test_term_resolution(category, country, tier, months, term_id):
    applied = resolve_term(RULES, category=category, country=country, customer_tier=tier, product_months=18)
    assert (applied.months, applied.term_id, applied.source) == (months, term_id, "term")


def test_no_term_falls_back_to_the_product():
    applied = resolve_term([], category="phones", country="DE", customer_tier="vip", product_months=18)
    assert (applied.months, applied.term_id, applied.source) == (18, None, "product")
    only_vip = [TermRule(id=9, months=36, customer_tier="vip")]
    regular = resolve_term(only_vip, category="phones", country="DE", customer_tier="regular", product_months=18)
    assert regular.source == "product"


def test_product_months_are_capped():
    applied = resolve_term([], category="phones", country="DE", customer_tier="", product_months=30000)
    assert applied.months == 120


def test_equal_months_prefer_the_more_specific_term():
    rules = [TermRule(id=1, months=24, category="phones"), TermRule(id=2, months=24, category="phones", region="DE")]
    applied = resolve_term(rules, category="phones", country="DE", customer_tier="", product_months=1)
    assert applied.term_id == 2


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2027, 1, 31), 13, date(2028, 2, 29)),  # leap year
        (date(2026, 3, 10), 12, date(2027, 3, 10)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 5, 1), 120, date(2036, 5, 1)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def _at(tz, *args):
    return datetime(*args, tzinfo=tz)


@pytest.mark.parametrize(
    ("tz", "starts", "claim_at", "in_warranty", "days_left", "days_expired", "ends_on"),
    [
        # Berlin, 12 months from a delivery on the night of the spring DST change.
        (BERLIN, _at(BERLIN, 2026, 3, 29, 1, 30), _at(BERLIN, 2027, 3, 29, 23, 59), True, 0, 0, date(2027, 3, 29)),
        (BERLIN, _at(BERLIN, 2026, 3, 29, 1, 30), _at(BERLIN, 2027, 3, 30, 0, 0), False, 0, 1, date(2027, 3, 29)),
        # The same claim instant stamped in UTC: 2027-03-29T22:30Z is 00:30 on the 30th in Berlin (CEST).
        (BERLIN, _at(BERLIN, 2026, 3, 29, 1, 30), _at(UTC, 2027, 3, 29, 22, 30), False, 0, 1, date(2027, 3, 29)),
        (BERLIN, _at(BERLIN, 2026, 3, 29, 1, 30), _at(UTC, 2027, 3, 29, 21, 30), True, 0, 0, date(2027, 3, 29)),
        # Delivered 23:30 UTC on 24 Oct = 01:30 on 25 Oct in Madrid (autumn DST change): day 0 is the 25th.
        (MADRID, _at(UTC, 2026, 10, 24, 23, 30), _at(MADRID, 2027, 10, 25, 12, 0), True, 0, 0, date(2027, 10, 25)),
        (MADRID, _at(UTC, 2026, 10, 24, 23, 30), _at(MADRID, 2027, 10, 26, 0, 0), False, 0, 1, date(2027, 10, 25)),
        # A claim stamped in the buyer's zone (UTC-3) that is already the next day in Shanghai.
        (SHANGHAI, _at(SHANGHAI, 2026, 6, 1, 10, 0), _at(SAO_PAULO, 2027, 6, 1, 13, 0), False, 0, 1, date(2027, 6, 1)),
        (SHANGHAI, _at(SHANGHAI, 2026, 6, 1, 10, 0), _at(SAO_PAULO, 2027, 6, 1, 12, 59), True, 0, 0, date(2027, 6, 1)),
        # A claim given as a local date, 30 days before the end.
        (BERLIN, _at(BERLIN, 2026, 1, 15, 9, 0), date(2026, 12, 16), True, 30, 0, date(2027, 1, 15)),
        # Delivered 03:00 at UTC+8 is still 30 April in a UTC store.
        (
            UTC,
            _at(timezone(timedelta(hours=8)), 2026, 5, 1, 3, 0),
            _at(UTC, 2026, 5, 1, 0, 0),
            True,
            364,
            0,
            date(2027, 4, 30),
        ),
    ],
)
def test_warranty_status_on_the_local_day(tz, starts, claim_at, in_warranty, days_left, days_expired, ends_on):
    status = warranty_status(starts=starts, months=12, claim_at=claim_at, tz=tz)
    assert (status.in_warranty, status.days_left, status.days_expired, status.ends_on) == (
        in_warranty,
        days_left,
        days_expired,
        ends_on,
    )


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        warranty_status(starts=datetime(2026, 1, 1), months=12, claim_at=date(2026, 2, 1), tz=BERLIN)


def test_unknown_zone_reads_as_utc():
    assert zone("Not/AZone") == ZoneInfo("UTC")
    assert zone("") == ZoneInfo("UTC")
