"""A compiled policy and its one decision function. Pure: the facts come in, a Decision comes out.

Order of the decision: quantities, window, reason (rejections first), then evidence, returnless
refund, partial refund offer, and finally the reason's own resolution. Every step that decided
something adds its clause code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .document import (
    SCOPE_LEVELS,
    EvidenceRule,
    PartialRefundOffer,
    PolicyDocument,
    Reason,
    RestockingFee,
    ReturnlessRule,
    StatutoryFloor,
    TierBonus,
    Window,
)

CENT = Decimal("0.01")


class FactsError(ValueError):
    """Facts that cannot be judged (the caller's input is wrong): names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Rate:
    """1 unit of `currency` = `rate` units of the reporting currency, as the admin's table says."""

    currency: str
    rate: Decimal
    as_of: date | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    delivered_at: datetime
    requested_at: datetime
    reason: str
    unit_price: Decimal
    currency: str
    quantity_purchased: int
    quantity_requested: int
    quantity_already_returned: int = 0
    sku: str | None = None
    category: str | None = None
    store_id: int | None = None
    platform: str | None = None
    site: str | None = None
    delivery_country: str | None = None
    customer_tier: str | None = None
    evidence: frozenset[str] = frozenset()
    store_timezone: str | None = None
    rate: Rate | None = None  # needed when currency is not the reporting currency


@dataclass(frozen=True, slots=True)
class Decision:
    eligible: bool
    resolution: str
    clauses: tuple[str, ...]
    restocking_fee_percent: Decimal
    missing_evidence: tuple[str, ...]
    last_day: date
    days_since_delivery: int
    timezone: str
    value_tier: str
    unit_price_reporting: Decimal
    reporting_currency: str
    rate: Rate
    return_shipping_paid_by: str | None
    partial_refund_percent: Decimal | None = None
    rejection: str | None = None  # window_expired, quantity, reason_not_accepted


@dataclass(slots=True)
class _Levels:
    by_key: dict[str, dict[str, list[Window]]] = field(default_factory=dict)
    default: list[Window] = field(default_factory=list)


class CompiledPolicy:
    """The document indexed for evaluation: windows by (level, key), reasons by code. Build once
    per policy version and reuse (thread-safe: read only after construction)."""

    def __init__(self, document: PolicyDocument) -> None:
        self.document = document
        self.reasons: dict[str, Reason] = {r.code: r for r in document.reasons}
        self._levels = _Levels()
        for level in SCOPE_LEVELS:
            self._levels.by_key[level] = {}
        for window in document.windows:
            if window.scope.level is None:
                self._levels.default.append(window)
            else:
                assert window.scope.key is not None
                self._levels.by_key[window.scope.level].setdefault(window.scope.key, []).append(window)
        self._bonuses: dict[str, list[TierBonus]] = {}
        for bonus in document.customer_tier_bonuses:
            self._bonuses.setdefault(bonus.customer_tier, []).append(bonus)
        self._floors: dict[str, list[StatutoryFloor]] = {}
        for floor in document.statutory_floors:
            for country in floor.countries:
                self._floors.setdefault(country, []).append(floor)
        self._zones: dict[str, ZoneInfo] = {}

    # --- pieces ------------------------------------------------------------------------------

    def zone(self, name: str) -> ZoneInfo:
        zone = self._zones.get(name)
        if zone is None:
            zone = self._zones[name] = ZoneInfo(name)
        return zone

    def timezone_for(self, facts: Facts) -> str:
        """The marketplace site's zone from the document, else the store's, else the document's."""
        if facts.site and facts.site in self.document.site_timezones:
            return self.document.site_timezones[facts.site]
        return facts.store_timezone or self.document.timezone

    def value_tier(self, price_reporting: Decimal) -> str:
        if price_reporting >= self.document.high_value_from:
            return "high"
        if price_reporting >= self.document.mid_value_from:
            return "mid"
        return "low"

    def base_window(self, facts: Facts, tier: str) -> Window:
        keys = {
            "sku": facts.sku,
            "category": facts.category,
            "store": str(facts.store_id) if facts.store_id is not None else None,
            "site": facts.site,
            "platform": facts.platform,
        }
        for level in SCOPE_LEVELS:
            key = keys[level]
            if key is None:
                continue
            candidates = self._levels.by_key[level].get(key)
            if candidates:
                best = _narrowest(candidates, facts.reason, tier)
                if best is not None:
                    return best
        best = _narrowest(self._levels.default, facts.reason, tier)
        assert best is not None  # the document always has an unconditional default window
        return best

    # --- the decision ------------------------------------------------------------------------

    def evaluate(self, facts: Facts) -> Decision:
        doc = self.document
        reason = self.reasons.get(facts.reason)
        if reason is None:
            raise FactsError(
                "reason", f"unknown reason {facts.reason!r} (the policy knows: {', '.join(sorted(self.reasons))})"
            )
        if facts.quantity_requested < 1:
            raise FactsError("quantity_requested", "must be at least 1")
        if facts.quantity_requested > facts.quantity_purchased:
            raise FactsError("quantity_requested", "is more than was purchased")
        if facts.quantity_already_returned > facts.quantity_purchased:
            raise FactsError("quantity_already_returned", "is more than was purchased")
        if facts.requested_at < facts.delivered_at:
            raise FactsError("requested_at", "is before delivered_at")

        if facts.currency == doc.reporting_currency:
            rate = Rate(doc.reporting_currency, Decimal(1))
        elif facts.rate is None or facts.rate.currency != facts.currency:
            raise FactsError("currency", f"no exchange rate from {facts.currency} to {doc.reporting_currency}")
        else:
            rate = facts.rate
        price = (facts.unit_price * rate.rate).quantize(CENT, rounding=ROUND_HALF_UP)
        tier = self.value_tier(price)

        zone_name = self.timezone_for(facts)
        zone = self.zone(zone_name)
        delivered_day = facts.delivered_at.astimezone(zone).date()
        requested_day = facts.requested_at.astimezone(zone).date()
        days_since = (requested_day - delivered_day).days

        clauses: list[str] = []
        base = self.base_window(facts, tier)
        last_day = delivered_day + timedelta(days=base.days)
        window_clause = base.code
        for bonus in self._bonuses.get(facts.customer_tier or "", ()):
            candidate = delivered_day + timedelta(days=base.days + bonus.days)
            if candidate > last_day:
                last_day, window_clause = candidate, bonus.code
        for season in doc.seasonal:
            if season.delivered_from <= delivered_day <= season.delivered_to and season.returnable_until > last_day:
                last_day, window_clause = season.returnable_until, season.code
        floor = self._floor(facts.delivery_country, delivered_day, requested_day)
        for candidate_floor in self._floors.get(facts.delivery_country or "", ()):
            candidate = delivered_day + timedelta(days=candidate_floor.days)
            if candidate > last_day:
                last_day, window_clause = candidate, candidate_floor.code
        clauses.append(base.code)
        if window_clause != base.code:
            clauses.append(window_clause)

        def reject(why: str, clause: str) -> Decision:
            clauses.append(clause)
            return Decision(
                eligible=False,
                resolution="reject",
                clauses=tuple(clauses),
                restocking_fee_percent=Decimal(0),
                missing_evidence=(),
                last_day=last_day,
                days_since_delivery=days_since,
                timezone=zone_name,
                value_tier=tier,
                unit_price_reporting=price,
                reporting_currency=doc.reporting_currency,
                rate=rate,
                return_shipping_paid_by=None,
                rejection=why,
            )

        if facts.quantity_requested > facts.quantity_purchased - facts.quantity_already_returned:
            return reject("quantity", "quantity:exceeds_remaining")
        if requested_day > last_day:
            return reject("window_expired", "window:expired")
        if not reason.accepted:
            if floor is None:
                return reject("reason_not_accepted", f"reason:{reason.code}:not_accepted")
            clauses.append(floor.code)  # a withdrawal needs no reason

        fee = Decimal(0)
        fee_rule = _first(doc.restocking_fees, facts.reason, tier, facts.category)
        if fee_rule is not None:
            if floor is not None and floor.forbids_restocking_fee:
                clauses.append(f"{fee_rule.code}:waived:{floor.code}")
            else:
                fee = fee_rule.percent
                clauses.append(fee_rule.code)

        common: dict[str, Any] = {
            "last_day": last_day,
            "days_since_delivery": days_since,
            "timezone": zone_name,
            "value_tier": tier,
            "unit_price_reporting": price,
            "reporting_currency": doc.reporting_currency,
            "rate": rate,
            "return_shipping_paid_by": reason.return_shipping_paid_by,
            "restocking_fee_percent": fee,
        }
        required: set[str] = set()
        for rule in doc.evidence:
            if rule.match.matches(facts.reason, tier, facts.category):
                required |= rule.require
                clauses.append(rule.code)
        missing = tuple(sorted(required - facts.evidence))
        if missing:
            return Decision(
                eligible=True, resolution="needs_evidence", clauses=tuple(clauses), missing_evidence=missing, **common
            )
        returnless = _first(doc.returnless_refunds, facts.reason, tier, facts.category)
        if returnless is not None and price < returnless.below:
            clauses.append(returnless.code)
            return Decision(
                eligible=True, resolution="returnless_refund", clauses=tuple(clauses), missing_evidence=(), **common
            )
        offer = _first(doc.partial_refund_offers, facts.reason, tier, facts.category)
        if offer is not None:
            clauses.append(offer.code)
            return Decision(
                eligible=True,
                resolution="partial_refund_offer",
                clauses=tuple(clauses),
                missing_evidence=(),
                partial_refund_percent=offer.percent,
                **common,
            )
        clauses.append(f"reason:{reason.code}")
        return Decision(
            eligible=True, resolution=reason.resolution, clauses=tuple(clauses), missing_evidence=(), **common
        )

    def _floor(self, country: str | None, delivered: date, requested: date) -> StatutoryFloor | None:
        """The statutory floor the request is within (longest first), if any."""
        best: StatutoryFloor | None = None
        for floor in self._floors.get(country or "", ()):
            if requested <= delivered + timedelta(days=floor.days) and (best is None or floor.days > best.days):
                best = floor
        return best


def _narrowest(windows: list[Window], reason: str, tier: str) -> Window | None:
    """Among windows of one specificity level, the one with the most matching narrowing conditions
    (reason and value tier beat either, either beats none); document order breaks ties."""
    best: Window | None = None
    best_score = -1
    for window in windows:
        scope = window.scope
        if scope.reasons is not None and reason not in scope.reasons:
            continue
        if scope.value_tiers is not None and tier not in scope.value_tiers:
            continue
        score = (scope.reasons is not None) + (scope.value_tiers is not None)
        if score > best_score:
            best, best_score = window, score
    return best


def _first(
    rules: tuple[RestockingFee, ...]
    | tuple[EvidenceRule, ...]
    | tuple[ReturnlessRule, ...]
    | tuple[PartialRefundOffer, ...],
    reason: str,
    tier: str,
    category: str | None,
) -> Any:
    for rule in rules:
        if rule.match.matches(reason, tier, category):
            return rule
    return None


def compile_policy(document: PolicyDocument) -> CompiledPolicy:
    return CompiledPolicy(document)
