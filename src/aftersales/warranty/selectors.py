"""Reads of the warranty app: a unit's warranty (term, days left, claims), claims, repair orders,
terms and settings. Everyone of the organization with the view permission reads them; objects of
another organization are not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core.clock import now
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.core.validation import check_text

from .eligibility import AppliedTerm, TermRule, WarrantyStatus, resolve_term, warranty_status, zone
from .models import (
    RepairOrder,
    RepairOrderEvent,
    SoldUnit,
    WarrantyClaim,
    WarrantyClaimEvent,
    WarrantySettings,
    WarrantyTerm,
)
from .serials import looks_like_imei, normalise_imei, normalise_serial
from .workflow import REPAIR_FINAL, ClaimStatus

MAX_LIST = 200


def term_rules(organization_id: int) -> list[TermRule]:
    return [
        TermRule(id=t.pk, months=t.months, category=t.category, region=t.region, customer_tier=t.customer_tier)
        for t in WarrantyTerm.objects.filter(organization_id=organization_id)
    ]


def unit_timezone(unit: SoldUnit) -> str:
    """The store's time zone (the organization's when the unit has no store)."""
    if unit.store_id is not None:
        return unit.store.timezone  # type: ignore[union-attr]
    return unit.organization.timezone


def unit_term(unit: SoldUnit, rules: list[TermRule]) -> AppliedTerm:
    tier = unit.customer.tier if unit.customer_id is not None else ""  # type: ignore[union-attr]
    return resolve_term(
        rules,
        category=unit.product.category,
        country=str(unit.delivery_country or ""),
        customer_tier=tier,
        product_months=unit.product.warranty_months,
    )


def unit_status(unit: SoldUnit, term: AppliedTerm, at: datetime | date) -> WarrantyStatus:
    return warranty_status(
        starts=unit.delivered_at or unit.sold_at, months=term.months, claim_at=at, tz=zone(unit_timezone(unit))
    )


@dataclass(frozen=True)
class UnitWarranty:
    unit: SoldUnit
    term: AppliedTerm
    status: WarrantyStatus
    claims: tuple[WarrantyClaim, ...]


def _units(organization_id: int) -> QuerySet[SoldUnit]:
    return SoldUnit.objects.filter(organization_id=organization_id).select_related(
        "product", "store", "customer", "order", "organization"
    )


def unit_find(*, organization_id: int, query: str, field: str = "q") -> SoldUnit:
    """The unit whose IMEI or serial number is `query` (NotFound naming `field` otherwise). A query
    that looks like an IMEI must be a valid one (422 with the Luhn failure)."""
    check_text(query, field=field, max_length=100, required=True, one_line=True)
    units = _units(organization_id)
    if looks_like_imei(query):
        imei = normalise_imei(query, field=field)
        unit = units.filter(Q(imei=imei) | Q(serial_number=imei)).first()
    else:
        unit = units.filter(serial_number=normalise_serial(query, field=field)).first()
    if unit is None:
        raise NotFound(_("no unit with this serial number or IMEI"), field=field)
    return unit


def unit_warranty(unit: SoldUnit, *, at: datetime | date | None = None) -> UnitWarranty:
    term = unit_term(unit, term_rules(unit.organization_id))
    claims = tuple(WarrantyClaim.objects.filter(unit=unit).order_by("-created_at", "-id"))
    return UnitWarranty(unit=unit, term=term, status=unit_status(unit, term, at or now()), claims=claims)


def unit_lookup(user: Any, query: str, *, at: datetime | date | None = None, field: str = "q") -> UnitWarranty:
    """A unit by serial number or IMEI, with the term that applies, days left and its claims."""
    check_perm(user, Permission.VIEW)
    return unit_warranty(unit_find(organization_id=organization_of(user), query=query, field=field), at=at)


def unit_get(user: Any, unit_id: int) -> UnitWarranty:
    check_perm(user, Permission.VIEW)
    unit = _units(organization_of(user)).filter(pk=unit_id).first()
    if unit is None:
        raise NotFound(_("unit not found"), field="unit_id")
    return unit_warranty(unit)


def claims_list(user: Any, *, status: str | None = None, limit: int = MAX_LIST) -> list[WarrantyClaim]:
    check_perm(user, Permission.VIEW)
    qs = WarrantyClaim.objects.filter(organization_id=organization_of(user)).select_related(
        "unit", "unit__product", "customer"
    )
    if status:
        if status not in ClaimStatus.values:
            raise ValidationFailed(
                _("unknown status %(status)r; expected one of %(choices)s")
                % {"status": status, "choices": ", ".join(ClaimStatus.values)},
                field="status",
            )
        qs = qs.filter(status=status)
    return list(qs.order_by("-created_at", "-id")[:limit])


@dataclass(frozen=True)
class RepairView:
    repair: RepairOrder
    events: tuple[RepairOrderEvent, ...]


@dataclass(frozen=True)
class ClaimView:
    claim: WarrantyClaim
    events: tuple[WarrantyClaimEvent, ...]
    repairs: tuple[RepairView, ...]


def claim_in_organization(organization_id: int, claim_id: int) -> WarrantyClaim:
    claim = (
        WarrantyClaim.objects.filter(organization_id=organization_id, pk=claim_id)
        .select_related("unit", "unit__product", "customer", "order", "ticket", "created_by")
        .first()
    )
    if claim is None:
        raise NotFound(_("warranty claim not found"), field="claim_id")
    return claim


def claim_view(claim: WarrantyClaim) -> ClaimView:
    repairs = tuple(
        RepairView(repair=r, events=tuple(r.events.select_related("actor")))
        for r in RepairOrder.objects.filter(claim=claim).order_by("created_at", "id")
    )
    return ClaimView(claim=claim, events=tuple(claim.events.select_related("actor")), repairs=repairs)


def claim_get(user: Any, claim_id: int) -> ClaimView:
    """A claim with its timeline and repair orders."""
    check_perm(user, Permission.VIEW)
    return claim_view(claim_in_organization(organization_of(user), claim_id))


def repair_in_organization(organization_id: int, repair_id: int) -> RepairOrder:
    repair = RepairOrder.objects.filter(organization_id=organization_id, pk=repair_id).first()
    if repair is None:
        raise NotFound(_("repair order not found"), field="repair_order_id")
    return repair


def repairs_list(user: Any, *, open_only: bool = False, limit: int = MAX_LIST) -> list[RepairView]:
    """The latest repair orders (open ones only on request) with their audit rows."""
    check_perm(user, Permission.VIEW)
    qs = RepairOrder.objects.filter(organization_id=organization_of(user)).prefetch_related("events__actor")
    if open_only:
        qs = qs.exclude(status__in=REPAIR_FINAL)
    return [RepairView(repair=r, events=tuple(r.events.all())) for r in qs.order_by("-created_at", "-id")[:limit]]


def repair_get(user: Any, repair_id: int) -> RepairView:
    check_perm(user, Permission.VIEW)
    repair = repair_in_organization(organization_of(user), repair_id)
    return RepairView(repair=repair, events=tuple(repair.events.select_related("actor")))


def terms_list(user: Any) -> list[WarrantyTerm]:
    """The organization's warranty terms. Admins only (organization settings)."""
    check_perm(user, Permission.ADMINISTER)
    return list(WarrantyTerm.objects.filter(organization_id=organization_of(user)))


def term_get(user: Any, term_id: int) -> WarrantyTerm:
    check_perm(user, Permission.ADMINISTER)
    term = WarrantyTerm.objects.filter(organization_id=organization_of(user), pk=term_id).first()
    if term is None:
        raise NotFound(_("warranty term not found"), field="term_id")
    return term


def warranty_settings(user: Any) -> WarrantySettings:
    """The organization's reminder settings. Admins only."""
    check_perm(user, Permission.ADMINISTER)
    return settings_of(organization_of(user))


def settings_of(organization_id: int) -> WarrantySettings:
    """The organization's warranty settings (defaults, unsaved, when never saved)."""
    found = WarrantySettings.objects.filter(organization_id=organization_id).first()
    return found or WarrantySettings(organization_id=organization_id)
