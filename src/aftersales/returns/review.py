"""Abnormal refunds (issue 10 section 4): which refunds go to the manual-review queue, and why.

`review_reasons(facts, thresholds)` is pure: it judges a `ReviewFacts` snapshot against the
organization's `ReviewThresholds` and lists the reasons (code + message), in a fixed order.
`review_facts(...)` and `review_thresholds(...)` read the database to build those inputs.

Reasons:
- `amount_above_paid`: this refund plus the order's other committed refunds exceed what was paid
  on the order (`Order.total_amount`, which includes shipping);
- `repeat_returner`: the customer's RMAs and refunds (without an RMA) in the last
  `repeat_window_days` days, this one excluded, reach `repeat_threshold` (0 disables the check);
- `unit_mismatch`: an IMEI or serial number on the RMA is not the one shipped. Compared with the
  warranty registry's sold units of that order line when the warranty app is installed and has
  units for the line; else the IMEI / serial number read on the returned unit (RmaLine) is
  compared with the one the buyer gave as evidence (RmaEvidence of kind imei / serial_number);
- `high_value_without_evidence`: a refunded line is in the policy's high value tier (unit price in
  the policy's reporting currency, the organization's rate table) and the refund has no RMA
  evidence (photo, video, IMEI, serial number, inspection photo).

- `shared_address`: the order went to an address that orders of other customers of the organization
  also went to in the last `shared_address_window_days` days (0 disables the check): two or more
  distinct accounts to one address. Addresses are compared by `Order.ship_address_key`, a keyed
  hash of the normalised address (catalog.addresses): the address itself is not stored. The reason
  lists the other accounts (id, name, e-mail). An order without a key (the platform gave no address,
  e.g. Amazon without a Restricted Data Token) is not checked."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.accounts.services import org_setting_change_record
from aftersales.catalog.models import Customer, Order, OrderLine
from aftersales.core import clock
from aftersales.core.errors import ValidationFailed

from .models import EvidenceKind, Refund, RefundReviewSettings, RefundStatus, Rma, RmaEvidence, RmaLine
from .policy_store import active_compiled_policy
from .rates import rate_lookup

AMOUNT_ABOVE_PAID = "amount_above_paid"
REPEAT_RETURNER = "repeat_returner"
UNIT_MISMATCH = "unit_mismatch"
HIGH_VALUE_WITHOUT_EVIDENCE = "high_value_without_evidence"
SHARED_ADDRESS = "shared_address"
REASON_CODES = (AMOUNT_ABOVE_PAID, REPEAT_RETURNER, UNIT_MISMATCH, HIGH_VALUE_WITHOUT_EVIDENCE, SHARED_ADDRESS)
SHARED_ADDRESS_ACCOUNTS_SHOWN = 20  # the other accounts listed on the reason (the count is always exact)


@dataclass(frozen=True)
class ReviewThresholds:
    repeat_window_days: int = 90
    repeat_threshold: int = 3
    high_value_requires_evidence: bool = True
    shared_address_window_days: int = 180  # 0: the shared-address check is off


@dataclass(frozen=True)
class AccountRef:
    """Another customer account (for the shared-address reason)."""

    id: int
    name: str
    email: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "email": self.email}


@dataclass(frozen=True)
class ReviewReason:
    code: str
    message: str
    accounts: tuple[AccountRef, ...] = ()  # shared_address: the other accounts

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.accounts:
            out["accounts"] = [account.as_json() for account in self.accounts]
        return out


@dataclass(frozen=True)
class UnitCheck:
    """One identifier of a returned unit against what it should be."""

    sku: str
    kind: str  # imei | serial_number
    returned: str
    expected: tuple[str, ...]
    source: str  # sold_unit (warranty registry) | evidence (what the buyer gave)


@dataclass(frozen=True)
class ReviewFacts:
    amount: Decimal
    currency: str
    order_paid: Decimal  # Order.total_amount (lines and shipping)
    other_committed: Decimal  # the order's other refunds that count (REFUND_COMMITTED_STATUSES)
    earlier_returns: int  # the customer's RMAs + refunds without an RMA in the window, this one excluded
    unit_checks: tuple[UnitCheck, ...] = ()
    high_value_skus: tuple[str, ...] = ()
    has_evidence: bool = False
    # Other customers of the organization with orders to this order's address in the window.
    shared_address_accounts: tuple[AccountRef, ...] = ()
    shared_address_count: int = 0  # how many (the tuple may be cut at SHARED_ADDRESS_ACCOUNTS_SHOWN)
    has_customer: bool = True  # the order is linked to a customer account (it counts as one of them)


def review_reasons(facts: ReviewFacts, thresholds: ReviewThresholds) -> list[ReviewReason]:
    """Pure: why this refund needs a human's review (empty: it does not)."""
    reasons: list[ReviewReason] = []
    total = facts.other_committed + facts.amount
    if total > facts.order_paid:
        reasons.append(
            ReviewReason(
                AMOUNT_ABOVE_PAID,
                _("Refunds of %(total)s %(currency)s would exceed the %(paid)s %(currency)s paid on the order.")
                % {"total": total, "paid": facts.order_paid, "currency": facts.currency},
            )
        )
    if thresholds.repeat_threshold > 0 and facts.earlier_returns >= thresholds.repeat_threshold:
        reasons.append(
            ReviewReason(
                REPEAT_RETURNER,
                _("The customer had %(count)s returns or refunds in the last %(days)s days.")
                % {"count": facts.earlier_returns, "days": thresholds.repeat_window_days},
            )
        )
    for check in facts.unit_checks:
        if check.returned and check.expected and check.returned not in check.expected:
            label = _("IMEI") if check.kind == "imei" else _("Serial number")
            reasons.append(
                ReviewReason(
                    UNIT_MISMATCH,
                    _("%(label)s %(returned)s of %(sku)s is not the one expected (%(expected)s, from %(source)s).")
                    % {
                        "label": label,
                        "returned": check.returned,
                        "sku": check.sku,
                        "expected": ", ".join(check.expected),
                        "source": _("the units sold") if check.source == "sold_unit" else _("the buyer's evidence"),
                    },
                )
            )
    if thresholds.high_value_requires_evidence and facts.high_value_skus and not facts.has_evidence:
        reasons.append(
            ReviewReason(
                HIGH_VALUE_WITHOUT_EVIDENCE,
                _("High-value item %(skus)s refunded without evidence (photos, video, IMEI or serial number).")
                % {"skus": ", ".join(facts.high_value_skus)},
            )
        )
    accounts = facts.shared_address_count + (1 if facts.has_customer else 0)
    if thresholds.shared_address_window_days > 0 and facts.shared_address_count and accounts >= 2:
        reasons.append(
            ReviewReason(
                SHARED_ADDRESS,
                ngettext(
                    "%(count)s other customer account had orders delivered to the same address in the last "
                    "%(days)s days: %(accounts)s.",
                    "%(count)s other customer accounts had orders delivered to the same address in the last "
                    "%(days)s days: %(accounts)s.",
                    facts.shared_address_count,
                )
                % {
                    "count": facts.shared_address_count,
                    "days": thresholds.shared_address_window_days,
                    "accounts": ", ".join(_account_label(a) for a in facts.shared_address_accounts),
                },
                accounts=facts.shared_address_accounts,
            )
        )
    return reasons


def _account_label(account: AccountRef) -> str:
    if account.name and account.email:
        return f"{account.name} <{account.email}>"
    return account.name or account.email or f"#{account.id}"


# --- Reading the facts --------------------------------------------------------------------------


def review_thresholds(organization_id: int) -> ReviewThresholds:
    row = RefundReviewSettings.objects.filter(organization_id=organization_id).first()
    if row is None:
        return ReviewThresholds()
    return ReviewThresholds(
        repeat_window_days=row.repeat_window_days,
        repeat_threshold=row.repeat_threshold,
        high_value_requires_evidence=row.high_value_requires_evidence,
        shared_address_window_days=row.shared_address_window_days,
    )


def shared_address_accounts(*, order: Order, window_days: int) -> tuple[tuple[AccountRef, ...], int]:
    """Other customers of the organization with orders placed in the window to the order's address
    key (the first SHARED_ADDRESS_ACCOUNTS_SHOWN by id, and how many in all). One indexed query on
    (organization, ship_address_key)."""
    if window_days <= 0 or not order.ship_address_key:
        return (), 0
    since = clock.now() - timedelta(days=window_days)
    others = (
        Customer.objects.filter(
            organization_id=order.organization_id,
            orders__organization_id=order.organization_id,
            orders__ship_address_key=order.ship_address_key,
            orders__placed_at__gte=since,
        )
        .distinct()
        .order_by("pk")
    )
    if order.customer_id is not None:
        others = others.exclude(pk=order.customer_id)
    rows = list(others.values_list("pk", "name", "email"))
    shown = tuple(AccountRef(pk, name, email) for pk, name, email in rows[:SHARED_ADDRESS_ACCOUNTS_SHOWN])
    return shown, len(rows)


def earlier_returns(*, order: Order, rma_id: int | None, window_days: int) -> int:
    """The customer's RMAs and refunds without an RMA created in the window (this RMA excluded)."""
    if order.customer_id is None:
        return 0
    since = clock.now() - timedelta(days=window_days)
    rmas = Rma.objects.filter(customer_id=order.customer_id, created_at__gte=since)
    if rma_id is not None:
        rmas = rmas.exclude(pk=rma_id)
    refunds = Refund.objects.filter(
        order__customer_id=order.customer_id, rma__isnull=True, created_at__gte=since
    ).exclude(status__in=(RefundStatus.REJECTED, RefundStatus.CANCELLED))
    return rmas.count() + refunds.count()


def _sold_units_by_line(line_ids: list[int]) -> dict[int, dict[str, set[str]]] | None:
    """{order line id: {"imei": {...}, "serial_number": {...}}} from the warranty registry, or None
    when the warranty app is not installed."""
    if not apps.is_installed("aftersales.warranty"):
        return None
    sold_unit = apps.get_model("warranty", "SoldUnit")
    out: dict[int, dict[str, set[str]]] = {}
    for line_id, imei, serial in sold_unit.objects.filter(order_line_id__in=line_ids).values_list(
        "order_line_id", "imei", "serial_number"
    ):
        entry = out.setdefault(line_id, {"imei": set(), "serial_number": set()})
        if imei:
            entry["imei"].add(imei)
        if serial:
            entry["serial_number"].add(serial)
    return out


def unit_checks(rma: Rma | None) -> tuple[UnitCheck, ...]:
    if rma is None:
        return ()
    lines = list(RmaLine.objects.filter(rma=rma).only("id", "order_line_id", "sku", "imei", "serial_number"))
    registry = _sold_units_by_line([line.order_line_id for line in lines]) or {}
    evidence: dict[tuple[int | None, str], set[str]] = {}
    for line_id, kind, value in RmaEvidence.objects.filter(
        rma=rma, kind__in=(EvidenceKind.IMEI, EvidenceKind.SERIAL_NUMBER)
    ).values_list("line_id", "kind", "value"):
        if value:
            evidence.setdefault((line_id, kind), set()).add(value.strip())
    checks: list[UnitCheck] = []
    for line in lines:
        for kind, returned in (("imei", line.imei.strip()), ("serial_number", line.serial_number.strip())):
            if not returned:
                continue
            sold = registry.get(line.order_line_id, {}).get(kind)
            if sold:
                checks.append(UnitCheck(line.sku, kind, returned, tuple(sorted(sold)), "sold_unit"))
                continue
            given = evidence.get((line.id, kind)) or (evidence.get((None, kind)) if len(lines) == 1 else None)
            if given:
                checks.append(UnitCheck(line.sku, kind, returned, tuple(sorted(given)), "evidence"))
    return tuple(checks)


def high_value_skus(*, organization_id: int, lines: list[OrderLine]) -> tuple[str, ...]:
    """SKUs of `lines` whose unit price is in the active policy's high value tier (converted to the
    policy's reporting currency with the rate table; a line without a rate is not tiered)."""
    if not lines:
        return ()
    _version, policy = active_compiled_policy(organization_id)
    reporting = policy.document.reporting_currency
    rates: dict[str, Decimal | None] = {reporting: Decimal(1)}
    out: list[str] = []
    for line in lines:
        if line.currency not in rates:
            found = rate_lookup(organization_id, line.currency)
            rates[line.currency] = found.rate if found else None
        rate = rates[line.currency]
        if rate is not None and policy.value_tier(line.unit_price_amount * rate) == "high":
            out.append(line.sku)
    return tuple(dict.fromkeys(out))


def has_evidence(rma: Rma | None) -> bool:
    return rma is not None and RmaEvidence.objects.filter(rma=rma).exists()


def review_facts(
    *,
    order: Order,
    rma: Rma | None,
    amount: Decimal,
    currency: str,
    other_committed: Decimal,
    lines: list[OrderLine],
    thresholds: ReviewThresholds,
) -> ReviewFacts:
    shared = shared_address_accounts(order=order, window_days=thresholds.shared_address_window_days)
    return ReviewFacts(
        amount=amount,
        currency=currency,
        order_paid=order.total_amount,
        other_committed=other_committed,
        earlier_returns=earlier_returns(
            order=order, rma_id=rma.pk if rma else None, window_days=thresholds.repeat_window_days
        ),
        unit_checks=unit_checks(rma),
        high_value_skus=high_value_skus(organization_id=order.organization_id, lines=lines),
        has_evidence=has_evidence(rma),
        shared_address_accounts=shared[0],
        shared_address_count=shared[1],
        has_customer=order.customer_id is not None,
    )


def reasons_as_json(reasons: list[ReviewReason]) -> list[dict[str, Any]]:
    return [r.as_json() for r in reasons]


def review_settings_set(
    *,
    user: Any,
    repeat_window_days: int,
    repeat_threshold: int,
    high_value_requires_evidence: bool,
    shared_address_window_days: int | None = None,
    via: str = "web",
) -> ReviewThresholds:
    """The organization's review thresholds (admins). 422 naming the field when out of range. Each
    threshold changed is appended to the settings audit (accounts.OrgSettingChange, `via` web or api)."""
    check_perm(user, Permission.ADMINISTER)
    for name, value, low, high in (
        ("repeat_window_days", repeat_window_days, 1, 3650),
        ("repeat_threshold", repeat_threshold, 0, 1000),
        *(
            [("shared_address_window_days", shared_address_window_days, 0, 3650)]
            if shared_address_window_days is not None
            else []
        ),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValidationFailed(
                _("%(field)s: must be %(low)s to %(high)s") % {"field": name, "low": low, "high": high}, field=name
            )
    if not isinstance(high_value_requires_evidence, bool):
        raise ValidationFailed(
            _("%(field)s: must be true or false") % {"field": "high_value_requires_evidence"},
            field="high_value_requires_evidence",
        )
    organization_id = organization_of(user)
    with transaction.atomic():
        return _review_settings_write(
            user,
            organization_id,
            {
                "repeat_window_days": repeat_window_days,
                "repeat_threshold": repeat_threshold,
                "high_value_requires_evidence": high_value_requires_evidence,
                # not given: kept as it is (default 180 days)
                **(
                    {"shared_address_window_days": shared_address_window_days}
                    if shared_address_window_days is not None
                    else {}
                ),
            },
            via,
        )


def _review_settings_write(user: Any, organization_id: int, values: dict[str, Any], via: str) -> ReviewThresholds:
    """The thresholds saved (the organization's settings row locked) and each change audited."""
    list(RefundReviewSettings.objects.select_for_update().filter(organization_id=organization_id))
    before = review_thresholds(organization_id)
    RefundReviewSettings.objects.update_or_create(organization_id=organization_id, defaults=values)
    after = review_thresholds(organization_id)
    changed = {
        name: [getattr(before, name), getattr(after, name)]
        for name in ReviewThresholds.__dataclass_fields__
        if getattr(before, name) != getattr(after, name)
    }
    for name, (old, new) in changed.items():  # the audit: who changed which threshold, from what to what
        org_setting_change_record(
            organization_id=organization_id, actor=user, setting=f"refund_review.{name}", old=old, new=new, via=via
        )
    if changed:
        audit_log.info(
            "refund review thresholds changed",
            extra={
                "audit": "refund_review_settings",
                "organization_id": organization_id,
                "user_id": getattr(user, "pk", None),
                "changes": changed,
            },
        )
    return after


audit_log = logging.getLogger("aftersales.audit")


@dataclass(frozen=True)
class ReviewSettingsView:
    """The thresholds and when they were last saved (None: never, the defaults apply)."""

    thresholds: ReviewThresholds
    updated_at: datetime | None


def review_settings_get(user: Any) -> ReviewThresholds:
    """The organization's review thresholds (admins), the defaults when never set."""
    check_perm(user, Permission.ADMINISTER)
    return review_thresholds(organization_of(user))


def review_settings_page(user: Any) -> ReviewSettingsView:
    """The thresholds with their last save (admins; the settings page)."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    updated_at = (
        RefundReviewSettings.objects.filter(organization_id=organization_id)
        .values_list("updated_at", flat=True)
        .first()
    )
    return ReviewSettingsView(thresholds=review_thresholds(organization_id), updated_at=updated_at)
