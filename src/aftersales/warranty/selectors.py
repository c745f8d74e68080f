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
    ReplacementRequest,
    SoldUnit,
    WarrantyClaim,
    WarrantyClaimEvent,
    WarrantySettings,
    WarrantyTerm,
)
from .serials import looks_like_imei, normalise_imei, normalise_serial
from .workflow import REPAIR_FINAL, ClaimStatus, RepairStatus

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
class TimelineEntry:
    """One audit row of the claim or of one of its repair orders, for the claim's timeline."""

    at: datetime
    source: str  # "claim" or "repair"
    repair_order_id: int | None
    type: str
    payload: dict[str, Any]
    actor_kind: str
    actor_ref: str
    actor_name: str


@dataclass(frozen=True)
class ClaimActions:
    """What the user may do next on the claim page (the services check again)."""

    statuses: tuple[str, ...]  # manual claim moves
    can_resolve: bool
    repair_statuses: tuple[str, ...]  # next statuses of the open repair order
    can_retry_replacement: bool = False  # out of stock: try to reserve again
    can_ship_replacement: bool = False  # reserved, not shipped yet


@dataclass(frozen=True)
class ClaimView:
    claim: WarrantyClaim
    events: tuple[WarrantyClaimEvent, ...]
    repairs: tuple[RepairView, ...]
    replacement: ReplacementRequest | None = None

    @property
    def timeline(self) -> list[TimelineEntry]:
        rows: list[TimelineEntry] = [_entry(e, "claim", None) for e in self.events]
        for r in self.repairs:
            rows.extend(_entry(e, "repair", r.repair.pk) for e in r.events)
        return sorted(rows, key=lambda e: (e.at, e.source == "claim"))

    @property
    def open_repair(self) -> RepairOrder | None:
        return next((r.repair for r in reversed(self.repairs) if r.repair.status not in REPAIR_FINAL), None)


def _entry(event: Any, source: str, repair_order_id: int | None) -> TimelineEntry:
    if event.actor_id:
        name = str(event.actor)
    elif event.actor_kind == "system":
        name = event.actor_ref or "system"
    else:
        name = f"{event.actor_kind} {event.actor_ref}".strip()
    return TimelineEntry(
        at=event.at,
        source=source,
        repair_order_id=repair_order_id,
        type=event.type,
        payload=event.payload,
        actor_kind=event.actor_kind,
        actor_ref=event.actor_ref,
        actor_name=name,
    )


def claim_actions(user: Any, view: ClaimView) -> ClaimActions:
    from aftersales.accounts.permissions import has_perm

    from .workflow import CLAIM_DECISIONS, CLAIM_MANUAL_MOVES, REPAIR_TRANSITIONS

    if not has_perm(user, Permission.PROCESS):
        return ClaimActions(statuses=(), can_resolve=False, repair_statuses=())
    approver = has_perm(user, Permission.APPROVE)
    current = view.claim.status
    statuses = tuple(
        target
        for target in ClaimStatus.values
        if (current, target) in CLAIM_MANUAL_MOVES and (approver or target not in CLAIM_DECISIONS)
    )
    repair = view.open_repair
    following = REPAIR_TRANSITIONS[repair.status] if repair is not None else frozenset()
    replacement = view.replacement
    pending = replacement is not None and replacement.fulfilled_at is None and current == ClaimStatus.REPLACEMENT
    return ClaimActions(
        statuses=statuses,
        can_resolve=current == ClaimStatus.APPROVED,
        repair_statuses=tuple(s for s in RepairStatus.values if s in following),
        can_retry_replacement=pending and replacement is not None and replacement.reserved_at is None,
        can_ship_replacement=pending and replacement is not None and replacement.reserved_at is not None,
    )


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
        RepairView(repair=r, events=tuple(r.events.all()))
        for r in RepairOrder.objects.filter(claim=claim).prefetch_related("events__actor").order_by("created_at", "id")
    )
    replacement = ReplacementRequest.objects.filter(claim=claim).select_related("product", "warehouse").first()
    return ClaimView(
        claim=claim, events=tuple(claim.events.select_related("actor")), repairs=repairs, replacement=replacement
    )


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


@dataclass(frozen=True)
class SettingsPage:
    terms: tuple[WarrantyTerm, ...]
    settings: WarrantySettings
    templates: tuple[tuple[int, str], ...]  # (id, name) of the organization's reply templates


def warranty_settings_page(user: Any) -> SettingsPage:
    """The terms, the reminder settings and the reply templates to choose from. Admins only."""
    from aftersales.language.selectors import reply_templates

    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    return SettingsPage(
        terms=tuple(WarrantyTerm.objects.filter(organization_id=organization_id)),
        settings=settings_of(organization_id),
        templates=tuple((t.pk, t.name) for t in reply_templates(organization_id=organization_id)),
    )


# --- shipped units of an order --------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLineUnits:
    line: Any  # catalog.OrderLine
    units: tuple[SoldUnit, ...]

    @property
    def missing(self) -> int:
        return max(0, self.line.quantity - len(self.units))


@dataclass(frozen=True)
class OrderUnits:
    order: Any  # catalog.Order
    lines: tuple[OrderLineUnits, ...]


def order_units(user: Any, order_number: str) -> OrderUnits:
    """An order of the user's organization found by its number on the platform, with the units
    registered per line (for typing in the shipped units). NotFound naming `order`."""
    from aftersales.catalog.models import Order

    check_perm(user, Permission.VIEW)
    number = check_text(order_number, field="order", max_length=120, one_line=True).strip()
    order = (
        Order.objects.filter(organization_id=organization_of(user), external_id=number)
        .select_related("store")
        .order_by("-placed_at", "-pk")
        .first()
        if number
        else None
    )
    if order is None:
        raise NotFound(_("order not found"), field="order")
    units: dict[int, list[SoldUnit]] = {}
    for unit in SoldUnit.objects.filter(order_line__order=order).order_by("pk"):
        units.setdefault(unit.order_line_id or 0, []).append(unit)
    lines = tuple(
        OrderLineUnits(line=line, units=tuple(units.get(line.pk, ())))
        for line in order.lines.select_related("product").order_by("pk")
    )
    return OrderUnits(order=order, lines=lines)
