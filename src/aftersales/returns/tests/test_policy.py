"""Policy resolution and day counting (issue 10 acceptance): pure, no database."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.returns.policy import (
    DEFAULT_POLICY,
    Facts,
    FactsError,
    PolicyDocumentError,
    Rate,
    compile_policy,
    load_text,
    parse_document,
)

POLICY = compile_policy(parse_document(DEFAULT_POLICY))


def doc(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(DEFAULT_POLICY)
    d.update(changes)
    return d


def facts(**kw: Any) -> Facts:
    base: dict[str, Any] = {
        "delivered_at": datetime(2026, 6, 1, 12, tzinfo=UTC),
        "requested_at": datetime(2026, 6, 2, 12, tzinfo=UTC),
        "reason": "changed_mind",
        "unit_price": Decimal("50.00"),
        "currency": "USD",
        "quantity_purchased": 1,
        "quantity_requested": 1,
        "category": "home",
    }
    base.update(kw)
    return Facts(**base)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# A 14-day window for Berlin and Madrid (amazon.de / amazon.es site zones), across both EU DST
# changes of 2026 (29 March, 25 October): day 14 until local midnight is in time, day 15 is not.
FOURTEEN = compile_policy(
    parse_document(doc(windows=[{"code": "W-14", "days": 14}], statutory_floors=[], seasonal=[], restocking_fees=[]))
)

DAY_COUNTING = [
    # site, delivered_at, requested_at, in time, days since delivery
    ("amazon.de", "2026-03-20T10:00:00+01:00", "2026-04-03T23:59:59+02:00", True, 14),
    ("amazon.de", "2026-03-20T10:00:00+01:00", "2026-04-04T00:00:00+02:00", False, 15),
    ("amazon.de", "2026-03-20T10:00:00+01:00", "2026-04-03T21:59:59+00:00", True, 14),  # UTC stamp
    (
        "amazon.de",
        "2026-03-20T10:00:00+01:00",
        "2026-04-03T22:00:00+00:00",
        False,
        15,
    ),  # a fixed +01:00 would say day 14
    ("amazon.de", "2026-03-20T10:00:00+01:00", "2026-04-04T06:59:59+09:00", True, 14),  # buyer in Tokyo
    ("amazon.de", "2026-03-20T10:00:00+01:00", "2026-04-03T17:00:00-05:00", False, 15),  # buyer in New York
    (
        "amazon.de",
        "2026-03-20T23:30:00+00:00",
        "2026-04-04T21:59:59+00:00",
        True,
        14,
    ),  # delivered 00:30 local: day 0 is the 21st
    ("amazon.es", "2026-10-20T12:00:00+02:00", "2026-11-03T23:59:59+01:00", True, 14),
    ("amazon.es", "2026-10-20T12:00:00+02:00", "2026-11-04T00:00:00+01:00", False, 15),
    ("amazon.es", "2026-10-20T12:00:00+02:00", "2026-11-03T22:59:59+00:00", True, 14),
    ("amazon.es", "2026-10-20T12:00:00+02:00", "2026-11-03T23:00:00+00:00", False, 15),
    ("amazon.de", "2026-10-20T12:00:00+02:00", "2026-11-03T22:59:59Z", True, 14),
    ("amazon.de", "2026-10-20T12:00:00+02:00", "2026-11-03T23:00:00Z", False, 15),
    ("amazon.es", "2026-03-15T09:00:00+01:00", "2026-03-29T21:59:59+00:00", True, 14),  # the DST night itself
    ("amazon.es", "2026-03-15T09:00:00+01:00", "2026-03-29T22:00:00+00:00", False, 15),
]


@pytest.mark.parametrize(("site", "delivered", "requested", "in_time", "days"), DAY_COUNTING)
def test_day_counting_across_dst(site: str, delivered: str, requested: str, in_time: bool, days: int) -> None:
    decision = FOURTEEN.evaluate(facts(site=site, delivered_at=at(delivered), requested_at=at(requested)))
    assert decision.days_since_delivery == days
    assert decision.eligible is in_time
    assert decision.resolution == ("return_and_refund" if in_time else "reject")
    assert decision.timezone == {"amazon.de": "Europe/Berlin", "amazon.es": "Europe/Madrid"}[site]
    assert ("window:expired" in decision.clauses) is (not in_time)


SHOPEE = [
    # site, requested_at, in time, last day, window clause
    ("shopee.br", "2026-06-01T02:59:59Z", True, date(2026, 5, 31), "W-SHOPEE-BR"),
    ("shopee.br", "2026-06-01T03:00:00Z", False, date(2026, 5, 31), "W-SHOPEE-BR"),
    ("shopee.sg", "2026-05-16T15:59:59Z", True, date(2026, 5, 16), "W-SHOPEE"),  # Singapore +08:00, 15 days
    ("shopee.sg", "2026-05-16T16:00:00Z", False, date(2026, 5, 16), "W-SHOPEE"),
]


@pytest.mark.parametrize(("site", "requested", "in_time", "last_day", "clause"), SHOPEE)
def test_shopee_brazil_30_days_site_beats_platform(
    site: str, requested: str, in_time: bool, last_day: date, clause: str
) -> None:
    d = POLICY.evaluate(
        facts(platform="shopee", site=site, delivered_at=at("2026-05-01T12:00:00-03:00"), requested_at=at(requested))
    )
    assert (d.eligible, d.last_day, d.clauses[0]) == (in_time, last_day, clause)


SPECIFICITY = [
    # overrides of facts, expected base window clause
    ({}, "W-DEFAULT"),
    ({"platform": "shopee"}, "W-SHOPEE"),
    ({"platform": "shopee", "site": "shopee.br"}, "W-SHOPEE-BR"),
    ({"category": "phones", "unit_price": Decimal("800")}, "W-HIGH-3C-CHANGED-MIND"),
    ({"category": "phones", "unit_price": Decimal("800"), "reason": "defective"}, "W-DEFAULT"),  # narrowed by reason
    ({"category": "phones", "unit_price": Decimal("499.99")}, "W-DEFAULT"),  # narrowed by tier
    ({"category": "computers", "unit_price": Decimal("500.00"), "platform": "shopee"}, "W-HIGH-COMPUTERS-CHANGED-MIND"),
]


@pytest.mark.parametrize(("overrides", "clause"), SPECIFICITY)
def test_base_window_by_specificity(overrides: dict[str, Any], clause: str) -> None:
    assert POLICY.evaluate(facts(**overrides)).clauses[0] == clause


def test_sku_beats_category_and_store_beats_site() -> None:
    policy = compile_policy(
        parse_document(
            doc(
                windows=[
                    {"code": "D", "days": 30},
                    {"code": "SITE", "days": 20, "scope": {"site": "amazon.de"}},
                    {"code": "STORE", "days": 25, "scope": {"store": 7}},
                    {"code": "CAT", "days": 10, "scope": {"category": "phones"}},
                    {"code": "SKU", "days": 60, "scope": {"sku": "PH-1"}},
                    {"code": "SKU-CM", "days": 5, "scope": {"sku": "PH-1", "reasons": ["changed_mind"]}},
                ],
                statutory_floors=[],
            )
        )
    )
    assert policy.evaluate(facts(site="amazon.de", store_id=7)).clauses[0] == "STORE"
    assert policy.evaluate(facts(site="amazon.de", store_id=8)).clauses[0] == "SITE"
    assert policy.evaluate(facts(store_id=7, category="phones")).clauses[0] == "CAT"
    assert policy.evaluate(facts(category="phones", sku="PH-1", reason="defective")).clauses[0] == "SKU"
    assert policy.evaluate(facts(category="phones", sku="PH-1")).clauses[0] == "SKU-CM"


TIERS = [
    ("99.99", "USD", None, "low", "99.99"),
    ("100.00", "USD", None, "mid", "100.00"),
    ("499.99", "USD", None, "mid", "499.99"),
    ("500.00", "USD", None, "high", "500.00"),
    ("454.55", "EUR", Rate("EUR", Decimal("1.1")), "high", "500.01"),  # 500.005 rounds half up
    ("454.54", "EUR", Rate("EUR", Decimal("1.1")), "mid", "499.99"),
    ("714.29", "BRL", Rate("BRL", Decimal("0.14")), "mid", "100.00"),
]


@pytest.mark.parametrize(("price", "currency", "rate", "tier", "reporting"), TIERS)
def test_value_tier_at_the_thresholds(price: str, currency: str, rate: Rate | None, tier: str, reporting: str) -> None:
    d = POLICY.evaluate(facts(unit_price=Decimal(price), currency=currency, rate=rate))
    assert (d.value_tier, d.unit_price_reporting) == (tier, Decimal(reporting))
    assert d.rate.currency == currency


def test_foreign_currency_without_rate_is_refused() -> None:
    with pytest.raises(FactsError) as err:
        POLICY.evaluate(facts(currency="EUR"))
    assert err.value.field == "currency"


STACKING = [
    # delivered (UTC noon), tier, country, last day, window clause
    (date(2026, 6, 1), None, "US", date(2026, 7, 1), "W-DEFAULT"),
    (date(2026, 6, 1), "vip", "US", date(2026, 7, 16), "X-VIP"),  # 30 + 15
    (date(2026, 11, 20), None, "US", date(2027, 1, 31), "X-HOLIDAY-2026"),
    (date(2026, 11, 20), "vip", "US", date(2027, 1, 31), "X-HOLIDAY-2026"),  # 45 days = 4 Jan < 31 Jan
    (date(2026, 12, 31), "vip", "US", date(2027, 2, 14), "X-VIP"),  # VIP longer than the season
    (date(2026, 12, 31), None, "US", date(2027, 1, 31), "X-HOLIDAY-2026"),
    (date(2027, 1, 1), None, "US", date(2027, 1, 31), "W-DEFAULT"),  # outside the season: plain 30 days
]


@pytest.mark.parametrize(("delivered", "tier", "country", "last_day", "clause"), STACKING)
def test_vip_and_seasonal_stacking(
    delivered: date, tier: str | None, country: str, last_day: date, clause: str
) -> None:
    at_noon = datetime(delivered.year, delivered.month, delivered.day, 12, tzinfo=UTC)
    d = POLICY.evaluate(facts(delivered_at=at_noon, requested_at=at_noon, customer_tier=tier, delivery_country=country))
    assert d.last_day == last_day
    assert d.clauses[-2 if clause != "W-DEFAULT" else 0] == clause


EU_FLOOR = [
    # delivery country, day of request, in time, clauses include
    ("US", 7, True, "W-APPAREL-7"),
    ("US", 8, False, "window:expired"),
    ("DE", 14, True, "S-EU-WITHDRAWAL"),
    ("ES", 14, True, "S-EU-WITHDRAWAL"),
    ("DE", 15, False, "window:expired"),
    ("CH", 8, False, "window:expired"),  # not in the EU
]


@pytest.mark.parametrize(("country", "day", "in_time", "clause"), EU_FLOOR)
def test_eu_floor_against_a_shorter_category_rule(country: str, day: int, in_time: bool, clause: str) -> None:
    policy = compile_policy(
        parse_document(
            doc(
                windows=[
                    {"code": "W-D", "days": 30},
                    {"code": "W-APPAREL-7", "days": 7, "scope": {"category": "apparel"}},
                ]
            )
        )
    )
    delivered = datetime(2026, 6, 1, 12, tzinfo=UTC)
    d = policy.evaluate(
        facts(
            category="apparel",
            delivery_country=country,
            delivered_at=delivered,
            requested_at=delivered + timedelta(days=day),
        )
    )
    assert d.eligible is in_time
    assert clause in d.clauses


def test_restocking_fee_waived_inside_the_eu_withdrawal_period_only() -> None:
    delivered = datetime(2026, 6, 1, 12, tzinfo=UTC)
    phone = {"category": "phones", "unit_price": Decimal("800"), "delivered_at": delivered}
    inside = POLICY.evaluate(facts(**phone, delivery_country="DE", requested_at=delivered + timedelta(days=14)))
    assert inside.restocking_fee_percent == 0
    assert "F-HIGH-CHANGED-MIND:waived:S-EU-WITHDRAWAL" in inside.clauses
    after = POLICY.evaluate(facts(**phone, delivery_country="DE", requested_at=delivered + timedelta(days=15)))
    assert (after.eligible, after.restocking_fee_percent) == (True, Decimal(15))
    us = POLICY.evaluate(facts(**phone, delivery_country="US", requested_at=delivered + timedelta(days=1)))
    assert us.restocking_fee_percent == Decimal(15)
    mid_phone = POLICY.evaluate(facts(category="phones", unit_price=Decimal("300"), delivery_country="US"))
    assert (mid_phone.restocking_fee_percent, mid_phone.clauses[1]) == (Decimal(10), "F-CHANGED-MIND")


EVIDENCE = [
    # reason, category, price, provided, resolution, missing
    ("defective", "phones", "300", set(), "needs_evidence", ("imei", "photos", "video")),
    (
        "defective",
        "phones",
        "300",
        {"photos", "video", "serial_number"},
        "needs_evidence",
        ("imei",),
    ),  # not interchangeable
    ("defective", "phones", "300", {"photos", "video", "imei"}, "return_and_refund", ()),
    # low tier phone: photos only (IMEI and video from mid tier up); 50.00 is above the returnless 15.00
    ("defective", "phones", "50", {"photos"}, "return_and_refund", ()),
    ("defective", "computers", "900", {"photos", "imei"}, "needs_evidence", ("serial_number",)),
    ("defective", "home", "10", set(), "needs_evidence", ("photos",)),
    ("defective", "home", "10", {"photos"}, "returnless_refund", ()),
    ("changed_mind", "home", "14.99", set(), "returnless_refund", ()),
    ("changed_mind", "home", "15.00", set(), "return_and_refund", ()),
    ("not_as_described", "home", "40", {"photos"}, "partial_refund_offer", ()),
    ("not_as_described", "home", "600", {"photos"}, "return_and_refund", ()),
    ("wrong_item", "home", "40", set(), "exchange", ()),
    ("stopped_working", "home", "40", set(), "repair", ()),
]


@pytest.mark.parametrize(("reason", "category", "price", "provided", "resolution", "missing"), EVIDENCE)
def test_evidence_returnless_and_resolutions(
    reason: str, category: str, price: str, provided: set[str], resolution: str, missing: tuple[str, ...]
) -> None:
    d = POLICY.evaluate(
        facts(reason=reason, category=category, unit_price=Decimal(price), evidence=frozenset(provided))
    )
    assert (d.resolution, d.missing_evidence) == (resolution, missing)
    assert d.eligible


def test_rejections_come_before_evidence_and_returnless() -> None:
    delivered = datetime(2026, 6, 1, 12, tzinfo=UTC)
    late = POLICY.evaluate(
        facts(
            reason="defective",
            unit_price=Decimal("5"),
            delivered_at=delivered,
            requested_at=delivered + timedelta(days=60),
        )
    )
    assert (late.resolution, late.rejection, late.missing_evidence) == ("reject", "window_expired", ())
    too_many = POLICY.evaluate(
        facts(reason="defective", quantity_purchased=3, quantity_already_returned=2, quantity_requested=2)
    )
    assert (too_many.resolution, too_many.rejection, too_many.clauses[-1]) == (
        "reject",
        "quantity",
        "quantity:exceeds_remaining",
    )
    assert POLICY.evaluate(facts(quantity_purchased=3, quantity_already_returned=2, quantity_requested=1)).eligible


def test_reason_not_accepted_except_inside_a_withdrawal_period() -> None:
    us = POLICY.evaluate(facts(reason="no_longer_needed_after_use", delivery_country="US"))
    assert (us.resolution, us.clauses[-1]) == ("reject", "reason:no_longer_needed_after_use:not_accepted")
    fr = POLICY.evaluate(facts(reason="no_longer_needed_after_use", delivery_country="FR"))
    assert fr.eligible and "S-EU-WITHDRAWAL" in fr.clauses


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": "bored"}, "reason"),
        ({"quantity_requested": 2}, "quantity_requested"),
        ({"quantity_requested": 0}, "quantity_requested"),
        ({"quantity_already_returned": 2}, "quantity_already_returned"),
        ({"requested_at": datetime(2026, 5, 1, tzinfo=UTC)}, "requested_at"),
    ],
)
def test_facts_that_cannot_be_judged(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(FactsError) as err:
        POLICY.evaluate(facts(**overrides))
    assert err.value.field == field


# --- the document -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (
            {"windows": [{"code": "D", "days": 30}, {"code": "X", "days": 3, "scope": {"skuu": "A"}}]},
            "windows[1].scope.skuu",
        ),
        (
            {"windows": [{"code": "D", "days": 30}, {"code": "X", "days": 3, "scope": {"sku": "A", "site": "b"}}]},
            "windows[1].scope.site",
        ),
        ({"windows": [{"code": "D", "days": 30, "extra": 1}]}, "windows[0].extra"),
        ({"windows": [{"code": "X", "days": 3, "scope": {"sku": "A"}}]}, "windows"),
        ({"windows": [{"code": "D", "days": -1}]}, "windows[0].days"),
        ({"colour": "red"}, "colour"),
        ({"reporting_currency": "usd"}, "reporting_currency"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"restocking_fees": [{"code": "F", "percent": 10.5}]}, "restocking_fees[0].percent"),
        ({"restocking_fees": [{"code": "F", "percent": "10.555"}]}, "restocking_fees[0].percent"),
        ({"restocking_fees": [{"code": "F", "percent": "101"}]}, "restocking_fees[0].percent"),
        ({"evidence": [{"code": "E", "require": ["imei", "selfie"]}]}, "evidence[0].require[1]"),
        ({"evidence": [{"code": "E", "require": ["photos"], "reasons": ["bored"]}]}, "evidence[0].reasons[0]"),
        (
            {"statutory_floors": [{"code": "S", "countries": ["EUROPE"], "days": 14}]},
            "statutory_floors[0].countries[0]",
        ),
        (
            {
                "seasonal": [
                    {
                        "code": "S",
                        "delivered_from": "2026-12-01",
                        "delivered_to": "2026-11-01",
                        "returnable_until": "2027-01-01",
                    }
                ]
            },
            "seasonal[0].delivered_to",
        ),
        (
            {"customer_tier_bonuses": [{"code": "W-DEFAULT", "customer_tier": "vip", "days": 5}]},
            "customer_tier_bonuses[0].code",
        ),
        ({"value_tiers": {"high_from": "100", "mid_from": "200"}}, "value_tiers.mid_from"),
    ],
)
def test_document_errors_name_the_path(change: dict[str, Any], path: str) -> None:
    with pytest.raises(PolicyDocumentError) as err:
        parse_document(doc(**change))
    assert err.value.path == path


def test_yaml_and_json_documents() -> None:
    text = """
schema_version: 1
reporting_currency: EUR
reasons: [{code: changed_mind}]
windows:
  - {code: D, days: 14}
seasonal:
  - {code: S, delivered_from: 2026-11-01, delivered_to: 2026-12-24, returnable_until: 2027-01-15}
"""
    raw = load_text(text)
    assert raw["seasonal"][0]["returnable_until"] == "2027-01-15"
    assert load_text(
        '{"schema_version": 1, "reporting_currency": "EUR", "reasons": [], "windows": [{"code": "D", "days": 1}]}'
    )
    with pytest.raises(PolicyDocumentError) as err:
        load_text("windows: [")
    assert err.value.path == ""


# --- properties ---------------------------------------------------------------------------------

instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(
    delivered=instants,
    later=st.integers(min_value=0, max_value=120 * 86400),
    tier=st.sampled_from([None, "vip", "regular"]),
    country=st.sampled_from([None, "DE", "US", "BR"]),
    site=st.sampled_from([None, "amazon.de", "shopee.br", "amazon.com"]),
    category=st.sampled_from(["phones", "computers", "apparel", "home"]),
    price=st.decimals(min_value=0, max_value=2000, places=2),
    reason=st.sampled_from(["changed_mind", "defective", "wrong_item"]),
)
def test_window_never_beyond_the_longest_clause_and_monotone(
    delivered: datetime,
    later: int,
    tier: str | None,
    country: str | None,
    site: str | None,
    category: str,
    price: Decimal,
    reason: str,
) -> None:
    f = facts(
        delivered_at=delivered,
        requested_at=delivered + timedelta(seconds=later),
        customer_tier=tier,
        delivery_country=country,
        site=site,
        category=category,
        unit_price=price,
        reason=reason,
    )
    d = POLICY.evaluate(f)
    longest_days = max(w.days for w in POLICY.document.windows) + max(
        b.days for b in POLICY.document.customer_tier_bonuses
    )
    delivered_day = delivered.astimezone(POLICY.zone(d.timezone)).date()
    seasonal_max = max(s.returnable_until for s in POLICY.document.seasonal)
    assert d.last_day <= max(delivered_day + timedelta(days=longest_days), seasonal_max)
    assert d.last_day >= delivered_day + timedelta(days=min(w.days for w in POLICY.document.windows))
    # monotone in requested_at: once out of time, later stays out; in time, earlier stays in
    halfway = POLICY.evaluate(replace(f, requested_at=delivered + timedelta(seconds=later // 2)))
    if d.rejection != "window_expired":
        assert halfway.rejection != "window_expired"
    assert halfway.last_day == d.last_day
