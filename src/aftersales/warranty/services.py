"""Writes of the warranty app: register sold units, warranty terms and settings, open and decide
claims, resolve them by a repair order or a replacement, move repair orders, queue expiry reminders.

Every service checks its input and the user's permission before writing and runs in one
transaction: bad input is refused (ValidationFailed naming the field) with nothing written. Status
changes go through warranty.transition only."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_countries import countries

from aftersales.accounts.audit import setting_audit
from aftersales.accounts.models import Organization, Permission, User
from aftersales.accounts.permissions import check_perm, check_ticket, organization_of
from aftersales.catalog.models import CustomerTier, Order, OrderLine, Product, ProductCategory
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.core.validation import check_instant, check_text, parse_id
from aftersales.language.languages import normalise

from .eligibility import COUNTRY_GROUPS, MAX_MONTHS, TermRule
from .events import WarrantyClaimCreated, WarrantyReminderQueued, WarrantyReplacementRequested
from .models import (
    ClaimResolution,
    RepairOrder,
    ReplacementRequest,
    SoldUnit,
    WarrantyClaim,
    WarrantyReminder,
    WarrantySettings,
    WarrantyTerm,
)

# the agent's replacement actions, for the delivery layers
from .replacements import replacement_retry as replacement_retry
from .replacements import replacement_ship as replacement_ship
from .selectors import claim_in_organization, repair_in_organization, term_rules, unit_status, unit_term
from .serials import looks_like_imei, normalise_imei, normalise_serial
from .transition import claim_record, claim_transition, repair_record, repair_transition
from .workflow import (
    CLAIM_DECISIONS,
    CLAIM_FINAL,
    ClaimStatus,
    RepairStatus,
    check_claim_transition,
    check_manual_claim_move,
    claim_status_after_repair,
)

logger = logging.getLogger(__name__)

MAX_IMPORT = 1000
MAX_PROBLEM = 4000
MAX_REASON = 1000
REMINDER_ACTOR = Actor.system("warranty-reminders")


# --- sold units ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitInput:
    """One unit to register. `sku` or `order_line_id` (or both, then they must agree)."""

    sku: str = ""
    serial_number: str = ""
    imei: str = ""
    order_line_id: int | None = None
    sold_at: datetime | None = None
    delivered_at: datetime | None = None
    delivery_country: str = ""


@dataclass(frozen=True)
class _CleanUnit:
    product: Product
    line: OrderLine | None
    serial_number: str
    imei: str
    sold_at: datetime
    delivered_at: datetime | None
    delivery_country: str


def _country(value: str, *, field: str) -> str:
    code = value.strip().upper()
    if code and code not in dict(countries):
        raise ValidationFailed(
            _("%(field)s: unknown country code %(code)r") % {"field": field, "code": value}, field=field
        )
    return code


def _clean_unit(organization_id: int, row: UnitInput, *, prefix: str) -> _CleanUnit:
    def f(name: str) -> str:
        return f"{prefix}{name}"

    serial = normalise_serial(row.serial_number, field=f("serial_number")) if row.serial_number.strip() else ""
    imei = normalise_imei(row.imei, field=f("imei")) if row.imei.strip() else ""
    if not serial and not imei:
        raise ValidationFailed(_("a unit needs a serial number or an IMEI"), field=f("serial_number"))
    line = None
    if row.order_line_id is not None:
        line_id = parse_id(row.order_line_id, field=f("order_line_id"))
        line = (
            OrderLine.objects.filter(pk=line_id, order__organization_id=organization_id)
            .select_related("order", "product", "order__store", "order__customer")
            .first()
        )
        if line is None:
            raise NotFound(_("order line not found"), field=f("order_line_id"))
    sku = check_text(row.sku, field=f("sku"), max_length=80, one_line=True).strip()
    if line is not None and sku and sku != line.sku:
        raise ValidationFailed(
            _("%(field)s: the order line is for %(line_sku)s, not %(sku)s")
            % {"field": f("sku"), "line_sku": line.sku, "sku": sku},
            field=f("sku"),
        )
    sku = sku or (line.sku if line is not None else "")
    if not sku:
        raise ValidationFailed(_("give the SKU or the order line of the unit"), field=f("sku"))
    product = (line.product if line is not None else None) or Product.objects.filter(
        organization_id=organization_id, sku=sku
    ).first()
    if product is None:
        raise ValidationFailed(_("%(field)s: unknown SKU %(sku)r") % {"field": f("sku"), "sku": sku}, field=f("sku"))
    sold_at = row.sold_at
    if sold_at is None and line is not None:
        sold_at = line.order.placed_at
    if sold_at is None:
        raise ValidationFailed(_("when the unit was sold is required without an order line"), field=f("sold_at"))
    check_instant(sold_at, field=f("sold_at"))
    delivered_at = row.delivered_at
    if delivered_at is None and line is not None:
        delivered_at = (
            line.order.shipments.filter(delivered_at__isnull=False)
            .order_by("-delivered_at")
            .values_list("delivered_at", flat=True)
        ).first()
    if delivered_at is not None:
        check_instant(delivered_at, field=f("delivered_at"))
        if delivered_at < sold_at:
            raise ValidationFailed(
                _("%(field)s: the delivery is before the sale") % {"field": f("delivered_at")}, field=f("delivered_at")
            )
        if delivered_at > now() + timedelta(days=1):
            raise ValidationFailed(
                _("%(field)s: the delivery is in the future") % {"field": f("delivered_at")}, field=f("delivered_at")
            )
    country = _country(row.delivery_country, field=f("delivery_country"))
    if not country and line is not None:
        country = str(line.order.ship_country or "")
    return _CleanUnit(
        product=product,
        line=line,
        serial_number=serial,
        imei=imei,
        sold_at=sold_at,
        delivered_at=delivered_at,
        delivery_country=country,
    )


def check_units(organization_id: int, rows: list[UnitInput]) -> list[_CleanUnit]:
    """Validate every row (errors name `units[i].field`), duplicates within the batch and against
    the registry, and units per order line against its quantity. Writes nothing."""
    if not rows:
        raise ValidationFailed(_("no units given"), field="units")
    if len(rows) > MAX_IMPORT:
        raise ValidationFailed(_("at most %(count)d units at once") % {"count": MAX_IMPORT}, field="units")
    single = len(rows) == 1
    clean = [_clean_unit(organization_id, row, prefix="" if single else f"units[{i}].") for i, row in enumerate(rows)]
    for kind in ("serial_number", "imei"):
        seen: dict[str, int] = {}
        for i, unit in enumerate(clean):
            value = getattr(unit, kind)
            if not value:
                continue
            field = kind if single else f"units[{i}].{kind}"
            if value in seen:
                raise ValidationFailed(
                    _("%(field)s: also given for units[%(other)d]") % {"field": field, "other": seen[value]},
                    field=field,
                )
            seen[value] = i
            if SoldUnit.objects.filter(organization_id=organization_id, **{kind: value}).exists():
                raise Conflict(
                    _("%(field)s: a unit with %(value)s is already registered") % {"field": field, "value": value},
                    field=field,
                )
    per_line: dict[int, int] = {}
    for i, unit in enumerate(clean):
        if unit.line is None:
            continue
        per_line[unit.line.pk] = per_line.get(unit.line.pk, 0) + 1
        registered = SoldUnit.objects.filter(order_line=unit.line).count()
        if registered + per_line[unit.line.pk] > unit.line.quantity:
            field = "order_line_id" if single else f"units[{i}].order_line_id"
            raise ValidationFailed(
                _("%(field)s: the line sold %(quantity)d unit(s); %(registered)d already registered")
                % {"field": field, "quantity": unit.line.quantity, "registered": registered},
                field=field,
            )
    return clean


def units_register(*, user: User, rows: list[UnitInput]) -> list[SoldUnit]:
    """Register sold units (one or a bulk import, all or nothing). Needs PROCESS."""
    check_perm(user, Permission.PROCESS)
    organization_id = organization_of(user)
    clean = check_units(organization_id, rows)
    organization = Organization.objects.get(pk=organization_id)
    rules = term_rules(organization_id)
    created: list[SoldUnit] = []
    try:
        with transaction.atomic():
            for row in clean:
                order = row.line.order if row.line is not None else None
                unit = SoldUnit(
                    organization=organization,
                    product=row.product,
                    order_line=row.line,
                    order=order,
                    store=order.store if order is not None else None,
                    customer=order.customer if order is not None else None,
                    serial_number=row.serial_number,
                    imei=row.imei,
                    sold_at=row.sold_at,
                    delivered_at=row.delivered_at,
                    delivery_country=row.delivery_country,
                )
                unit.warranty_ends_on = unit_status(unit, unit_term(unit, rules), now()).ends_on
                unit.save()
                created.append(unit)
    except IntegrityError as exc:  # registered concurrently
        raise Conflict(_("a unit with this serial number or IMEI is already registered"), field="units") from exc
    return created


def units_refresh_ends_on(organization_id: int) -> int:
    """Recompute every unit's last covered day after the terms changed. Returns the units changed."""
    rules = term_rules(organization_id)
    changed = 0
    at = now()
    units = SoldUnit.objects.filter(organization_id=organization_id).select_related(
        "product", "store", "customer", "organization"
    )
    for unit in units.iterator(chunk_size=500):
        ends_on = unit_status(unit, unit_term(unit, rules), at).ends_on
        if ends_on != unit.warranty_ends_on:
            SoldUnit.objects.filter(pk=unit.pk).update(warranty_ends_on=ends_on)
            changed += 1
    return changed


# --- terms and settings --------------------------------------------------------------------------


def _clean_term(*, category: str, region: str, customer_tier: str, months: int, note: str) -> dict[str, Any]:
    if category and category not in ProductCategory.values:
        raise ValidationFailed(
            _("unknown category %(value)r; expected one of %(choices)s")
            % {"value": category, "choices": ", ".join(ProductCategory.values)},
            field="category",
        )
    region = check_text(region, field="region", max_length=8, one_line=True).strip().upper()
    if region and region not in COUNTRY_GROUPS and region not in dict(countries):
        raise ValidationFailed(
            _("region: a country code (DE) or a group (%(groups)s)") % {"groups": ", ".join(COUNTRY_GROUPS)},
            field="region",
        )
    if customer_tier and customer_tier not in CustomerTier.values:
        raise ValidationFailed(
            _("unknown customer tier %(value)r; expected one of %(choices)s")
            % {"value": customer_tier, "choices": ", ".join(CustomerTier.values)},
            field="customer_tier",
        )
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise ValidationFailed(_("months: from 1 to %(max)d") % {"max": MAX_MONTHS}, field="months")
    note = check_text(note, field="note", max_length=200, one_line=True).strip()
    return {"category": category, "region": region, "customer_tier": customer_tier, "months": months, "note": note}


TERM_AUDIT_FIELDS = ("category", "region", "customer_tier", "months", "note")
SETTINGS_AUDIT_FIELDS = ("reminders_enabled", "reminder_days_before", "reminder_template")


def term_save(
    *,
    user: User,
    term_id: int | None = None,
    category: str = "",
    region: str = "",
    customer_tier: str = "",
    months: int,
    note: str = "",
) -> WarrantyTerm:
    """Create (term_id None) or change a warranty term, then refresh the units' last covered day.
    Admins only. A second term for the same category, region and tier is a Conflict."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    values = _clean_term(category=category, region=region, customer_tier=customer_tier, months=months, note=note)
    clash = WarrantyTerm.objects.filter(
        organization_id=organization_id,
        category=values["category"],
        region=values["region"],
        customer_tier=values["customer_tier"],
    )
    if term_id is not None:
        clash = clash.exclude(pk=term_id)
    if clash.exists():
        raise Conflict(_("a term for this category, region and customer tier exists already"), field="region")
    try:
        with transaction.atomic():
            if term_id is None:
                term = WarrantyTerm.objects.create(organization_id=organization_id, **values)
                setting_audit(term, values, actor=user, setting=f"warranty_term.{term.pk}", created=True)
            else:
                existing = (
                    WarrantyTerm.objects.select_for_update().filter(organization_id=organization_id, pk=term_id).first()
                )
                if existing is None:
                    raise NotFound(_("warranty term not found"), field="term_id")
                for key, value in values.items():
                    setattr(existing, key, value)
                setting_audit(existing, values, actor=user, setting=f"warranty_term.{existing.pk}")
                existing.save()
                term = existing
            units_refresh_ends_on(organization_id)
    except IntegrityError as exc:
        raise Conflict(_("a term for this category, region and customer tier exists already"), field="region") from exc
    return term


def term_delete(*, user: User, term_id: int) -> None:
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    with transaction.atomic():
        term = WarrantyTerm.objects.select_for_update().filter(organization_id=organization_id, pk=term_id).first()
        if term is None:
            raise NotFound(_("warranty term not found"), field="term_id")
        setting_audit(term, TERM_AUDIT_FIELDS, actor=user, setting=f"warranty_term.{term.pk}", deleted=True)
        term.delete()
        units_refresh_ends_on(organization_id)


def settings_save(
    *, user: User, reminders_enabled: bool, reminder_days_before: int, reminder_template_id: int | None = None
) -> WarrantySettings:
    """The organization's reminder settings. Admins only."""
    from aftersales.language.models import ReplyTemplate

    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    if (
        isinstance(reminder_days_before, bool)
        or not isinstance(reminder_days_before, int)
        or not (1 <= reminder_days_before <= 365)
    ):
        raise ValidationFailed(_("reminder_days_before: from 1 to 365"), field="reminder_days_before")
    if reminder_template_id is not None:
        template_id = parse_id(reminder_template_id, field="reminder_template_id")
        if not ReplyTemplate.objects.filter(pk=template_id, organization_id=organization_id).exists():
            raise NotFound(_("template not found"), field="reminder_template_id")
    with transaction.atomic():
        found, _created = WarrantySettings.objects.select_for_update().get_or_create(organization_id=organization_id)
        found.reminders_enabled = bool(reminders_enabled)
        found.reminder_days_before = reminder_days_before
        found.reminder_template_id = reminder_template_id
        setting_audit(found, SETTINGS_AUDIT_FIELDS, actor=user, setting="warranty_settings")
        found.save()
    return found


# --- claims --------------------------------------------------------------------------------------


def _reason(value: str, *, field: str = "reason", required: bool = False) -> str:
    return check_text(value, field=field, max_length=MAX_REASON, required=required).strip()


def claim_open(
    *,
    user: User,
    unit_id: int,
    problem: str,
    ticket_id: int | None = None,
    claimed_at: datetime | None = None,
    override_reason: str = "",
) -> WarrantyClaim:
    """Open a claim on a unit, judged on the claim's local day. Out of warranty it is refused
    (409 `out_of_warranty`) unless a user with APPROVE gives an override reason. One open claim
    per unit. Needs PROCESS; the ticket, when given, must be one the user can see. Locks the unit."""
    check_perm(user, Permission.PROCESS)
    organization_id = organization_of(user)
    problem = check_text(problem, field="problem", max_length=MAX_PROBLEM, required=True).strip()
    override = _reason(override_reason, field="override_reason")
    if override:
        check_perm(user, Permission.APPROVE)
    at = check_instant(claimed_at, field="claimed_at") if claimed_at is not None else now()
    if at > now() + timedelta(days=1):
        raise ValidationFailed(_("claimed_at: the claim is in the future"), field="claimed_at")
    ticket = None
    if ticket_id is not None:
        from aftersales.inbox.models import Ticket

        ticket = Ticket.objects.filter(pk=parse_id(ticket_id, field="ticket_id")).first()
        if ticket is None:
            raise NotFound(_("ticket not found"), field="ticket_id")
        check_ticket(user, ticket)
    unit_pk = parse_id(unit_id, field="unit_id")
    actor = Actor.user(user)
    with transaction.atomic():
        unit = (
            SoldUnit.objects.select_for_update(of=("self",))
            .select_related("product", "store", "customer", "organization")
            .filter(organization_id=organization_id, pk=unit_pk)
            .first()
        )
        if unit is None:
            raise NotFound(_("unit not found"), field="unit_id")
        if WarrantyClaim.objects.filter(unit=unit).exclude(status__in=CLAIM_FINAL).exists():
            raise Conflict(_("this unit has an open warranty claim"), field="unit_id")
        term = unit_term(unit, term_rules(organization_id))
        status = unit_status(unit, term, at)
        if not status.in_warranty and not override:
            raise Conflict(
                _("out of warranty since %(day)s (%(days)d days); an approver may accept it with a reason")
                % {"day": status.ends_on.isoformat(), "days": status.days_expired},
                field="override_reason",
                code="out_of_warranty",
            )
        claim = WarrantyClaim.objects.create(
            organization_id=organization_id,
            unit=unit,
            customer_id=unit.customer_id or (ticket.customer_id if ticket is not None else None),
            order_id=unit.order_id or (ticket.order_id if ticket is not None else None),
            ticket=ticket,
            problem=problem,
            claimed_at=at,
            term_months=term.months,
            term_source=term.source,
            warranty_ends_on=status.ends_on,
            in_warranty=status.in_warranty,
            days_left=status.days_left if status.in_warranty else -status.days_expired,
            override_reason=override if not status.in_warranty else "",
            created_by=user,
        )
        payload: dict[str, Any] = {
            "unit_id": unit.pk,
            "in_warranty": status.in_warranty,
            "warranty_ends_on": status.ends_on.isoformat(),
            "term_months": term.months,
            "term_source": term.source,
        }
        if claim.override_reason:
            payload["override_reason"] = claim.override_reason
        if ticket is not None:
            payload["ticket_id"] = ticket.pk
        claim_record(claim, "created", actor, **payload)
        events.publish(
            WarrantyClaimCreated(
                claim_id=claim.pk,
                organization_id=organization_id,
                unit_id=unit.pk,
                in_warranty=status.in_warranty,
                overridden=bool(claim.override_reason),
                ticket_id=ticket.pk if ticket is not None else None,
                actor=actor,
            )
        )
    return claim


def _locked_claim(organization_id: int, claim_id: int) -> WarrantyClaim:
    claim_in_organization(organization_id, claim_id)  # NotFound outside the organization
    return WarrantyClaim.objects.select_for_update().get(pk=claim_id)


def claim_change_status(*, user: User, claim_id: int, status: str, reason: str = "") -> WarrantyClaim:
    """An agent moves a claim: review, approve / reject (APPROVE; a rejection needs a reason),
    cancel, close a replacement. Needs PROCESS. Locks the claim."""
    check_perm(user, Permission.PROCESS)
    organization_id = organization_of(user)
    text = _reason(reason)
    if status in CLAIM_DECISIONS:
        check_perm(user, Permission.APPROVE)
    if status in (ClaimStatus.REJECTED, ClaimStatus.CANCELLED) and not text:
        raise ValidationFailed(_("reason must not be empty"), field="reason")
    with transaction.atomic():
        claim = _locked_claim(organization_id, parse_id(claim_id, field="claim_id"))
        check_manual_claim_move(claim.status, status)
        claim_transition(claim, status, actor=Actor.user(user), reason=text)
    return claim


@dataclass(frozen=True)
class Resolution:
    claim: WarrantyClaim
    repair_order: RepairOrder | None
    replacement: ReplacementRequest | None


def claim_resolve(*, user: User, claim_id: int, resolution: str, note: str = "") -> Resolution:
    """Resolve an approved claim: a repair order (awaiting the unit) or a pending replacement
    request (the inventory workflow reserves and ships the stock). Needs PROCESS. Locks the claim."""
    check_perm(user, Permission.PROCESS)
    organization_id = organization_of(user)
    if resolution not in ClaimResolution.values:
        raise ValidationFailed(
            _("resolution: one of %(choices)s") % {"choices": ", ".join(ClaimResolution.values)}, field="resolution"
        )
    text = _reason(note, field="note")
    actor = Actor.user(user)
    with transaction.atomic():
        claim = _locked_claim(organization_id, parse_id(claim_id, field="claim_id"))
        target = ClaimStatus.REPAIR if resolution == ClaimResolution.REPAIR else ClaimStatus.REPLACEMENT
        check_claim_transition(claim.status, target)
        if resolution == ClaimResolution.REPLACEMENT and ReplacementRequest.objects.filter(claim=claim).exists():
            raise Conflict(_("a replacement was already requested for this claim"), field="resolution")
        claim.resolution = resolution
        repair = replacement = None
        if resolution == ClaimResolution.REPAIR:
            repair = RepairOrder.objects.create(organization_id=organization_id, claim=claim)
            repair_record(repair, "created", actor, claim_id=claim.pk, **({"note": text} if text else {}))
            claim_record(claim, "repair_order_created", actor, repair_order_id=repair.pk)
        else:
            unit = SoldUnit.objects.get(pk=claim.unit_id)
            replacement = ReplacementRequest.objects.create(
                organization_id=organization_id, claim=claim, product_id=unit.product_id
            )
            claim_record(claim, "replacement_requested", actor, replacement_id=replacement.pk, sku=unit.product.sku)
            events.publish(
                WarrantyReplacementRequested(
                    replacement_id=replacement.pk,
                    claim_id=claim.pk,
                    organization_id=organization_id,
                    product_id=unit.product_id,
                    actor=actor,
                )
            )
        claim_transition(claim, target, actor=actor, reason=text)
    return Resolution(claim=claim, repair_order=repair, replacement=replacement)


# --- repair orders -------------------------------------------------------------------------------


def repair_advance(
    *,
    user: User,
    repair_id: int,
    status: str,
    reason: str = "",
    diagnosis: str | None = None,
    carrier: str = "",
    tracking_number: str = "",
) -> RepairOrder:
    """Move a repair order (received, diagnosing, repairing, shipped back with the return parcel,
    closed, cancelled with a reason). Closing it closes the claim; cancelling it sends the claim back
    to approved. Needs PROCESS. Locks the claim, then the repair order (that order everywhere)."""
    check_perm(user, Permission.PROCESS)
    organization_id = organization_of(user)
    text = _reason(reason)
    if status == RepairStatus.CANCELLED and not text:
        raise ValidationFailed(_("reason must not be empty"), field="reason")
    diagnosis_text = (
        check_text(diagnosis, field="diagnosis", max_length=MAX_PROBLEM).strip() if diagnosis is not None else None
    )
    carrier = check_text(carrier, field="carrier", max_length=80, one_line=True).strip()
    tracking_number = check_text(tracking_number, field="tracking_number", max_length=80, one_line=True).strip()
    if status == RepairStatus.SHIPPED_BACK and not tracking_number:
        raise ValidationFailed(_("tracking_number: the return parcel's number is required"), field="tracking_number")
    actor = Actor.user(user)
    with transaction.atomic():
        found = repair_in_organization(organization_id, parse_id(repair_id, field="repair_order_id"))
        claim = WarrantyClaim.objects.select_for_update().get(pk=found.claim_id)
        repair = RepairOrder.objects.select_for_update().get(pk=found.pk)
        details: dict[str, str] = {}
        if diagnosis_text is not None and diagnosis_text != repair.diagnosis:
            repair.diagnosis = diagnosis_text
            details["diagnosis"] = diagnosis_text
        if status == RepairStatus.SHIPPED_BACK:
            repair.return_carrier, repair.return_tracking_number = carrier, tracking_number
            details.update(carrier=carrier, tracking_number=tracking_number)
        repair_transition(repair, status, actor=actor, reason=text, details=details)
        follow = claim_status_after_repair(status)
        if follow is not None:
            claim_transition(claim, follow, actor=actor, reason=f"repair_{status}")
    return repair


# --- expiry reminders ----------------------------------------------------------------------------


def _reminder_text(unit: SoldUnit, ends_on: date, days_left: int, language: str, template: Any) -> tuple[str, str]:
    """(text, language) of the reminder in the buyer's language: the template the organization chose
    in its warranty settings, else its default "Warranty: expiry reminder" template (seeded in every
    notice language, returns.notify_templates; admins edit it like any reply template), rendered by the
    language engine (a language without a variant is machine-translated and flagged); else (no
    template, no variant and no provider) the written default text in that language, English only for
    a language it is not written in."""
    from aftersales.language.models import ReplyTemplate
    from aftersales.language.templates import render_body, render_template
    from aftersales.returns.notify_templates import LANGUAGES, REMINDER_TEMPLATES, WARRANTY_REMINDER

    from .notify import reminder_context

    code = normalise(language) or "en"
    context = reminder_context(unit, ends_on=ends_on, days_left=days_left, language=code)
    if template is None:
        template = ReplyTemplate.objects.filter(organization_id=unit.organization_id, name=WARRANTY_REMINDER).first()
    if template is not None:
        try:
            rendered = render_template(template=template, language=code, context=context)
            return rendered.text, rendered.language
        except Exception:  # no provider for a missing language, a template that no longer renders
            logger.warning(
                "warranty reminder template %s not rendered in %s: the written default text instead",
                template.pk,
                code,
                exc_info=True,
                extra={"event": "warranty_reminder_template_failed", "template_id": template.pk},
            )
    written = code if code in LANGUAGES else "en"
    if written != code:
        context = reminder_context(unit, ends_on=ends_on, days_left=days_left, language=written)
    return render_body(REMINDER_TEMPLATES[WARRANTY_REMINDER][written], context), written


def _buyer_language(unit: SoldUnit) -> str:
    if unit.customer_id is not None and unit.customer.preferred_language:  # type: ignore[union-attr]
        return unit.customer.preferred_language  # type: ignore[union-attr]
    if unit.store_id is not None:
        return unit.store.default_language  # type: ignore[union-attr]
    return "en"


def reminders_queue(*, at: datetime | None = None) -> int:
    """Queue one expiry reminder per unit whose warranty ends within the organization's N days
    (and has not ended), keyed by (unit, last covered day, N): a second run, or a run on the next
    day, queues nothing twice. Units without a customer are skipped. Returns the reminders queued."""
    moment = at or now()
    queued = 0
    for settings_row in WarrantySettings.objects.filter(reminders_enabled=True).select_related("reminder_template"):
        days = settings_row.reminder_days_before
        horizon = moment.date() + timedelta(days=days + 1)
        rules: list[TermRule] = term_rules(settings_row.organization_id)
        units = (
            SoldUnit.objects.filter(
                organization_id=settings_row.organization_id,
                customer__isnull=False,
                warranty_ends_on__gte=moment.date() - timedelta(days=1),
                warranty_ends_on__lte=horizon,
            )
            .select_related("product", "store", "customer", "order", "organization")
            .order_by("pk")
        )
        for unit in units:
            status = unit_status(unit, unit_term(unit, rules), moment)
            if not status.in_warranty or status.days_left > days:
                continue
            key = f"warranty-reminder:{unit.pk}:{status.ends_on.isoformat()}:{days}"
            if WarrantyReminder.objects.filter(key=key).exists():
                continue
            language = _buyer_language(unit)
            body, used_language = _reminder_text(
                unit, status.ends_on, status.days_left, language, settings_row.reminder_template
            )
            try:
                with transaction.atomic():
                    reminder = WarrantyReminder.objects.create(
                        organization_id=unit.organization_id,
                        unit=unit,
                        customer_id=unit.customer_id,
                        key=key,
                        ends_on=status.ends_on,
                        days_before=days,
                        language=used_language,
                        body=body,
                        created_at=moment,
                    )
                    events.publish(
                        WarrantyReminderQueued(
                            reminder_id=reminder.pk,
                            unit_id=unit.pk,
                            organization_id=unit.organization_id,
                            customer_id=unit.customer_id,
                            ends_on=status.ends_on.isoformat(),
                            actor=REMINDER_ACTOR,
                        )
                    )
            except IntegrityError:  # queued by a concurrent run
                continue
            queued += 1
    return queued


@dataclass(frozen=True)
class ShippedUnit:
    """One unit of an order line as its shipment reported it (an IMEI and/or a serial number)."""

    order_line_id: int
    imei: str = ""
    serial_number: str = ""


def units_register_shipped(*, order_id: int, units: list[ShippedUnit], actor: Actor) -> list[SoldUnit]:
    """Register the units an order shipped (the marketplace's connector reports their IMEIs or serial
    numbers with the order: channels.apply). Idempotent: a unit whose IMEI or serial number the
    organization already has is skipped, and so is an identifier that is not valid (an IMEI failing
    its check digit) or a line without a product. Sold at the order's time, delivered when its
    shipment says, in the order's delivery country; the warranty's last day computed as for units
    registered by hand. Runs inside the caller's transaction (one savepoint per unit). Returns the
    units created now."""
    from django.db.models import Q

    order = (
        Order.objects.select_related("store", "customer", "organization").filter(pk=order_id).first() if units else None
    )
    if order is None:
        return []
    lines = {
        line.pk: line for line in order.lines.select_related("product").filter(pk__in={u.order_line_id for u in units})
    }
    delivered_at = (
        order.shipments.exclude(delivered_at=None)
        .order_by("delivered_at")
        .values_list("delivered_at", flat=True)
        .first()
    )
    rules = term_rules(order.organization_id)
    created: list[SoldUnit] = []
    for shipped in units:
        line = lines.get(shipped.order_line_id)
        if line is None or line.product is None:
            continue
        try:
            imei = normalise_imei(shipped.imei) if shipped.imei else ""
            serial = normalise_serial(shipped.serial_number) if shipped.serial_number else ""
        except ValidationFailed:
            logger.warning("shipped unit identifier refused", extra={"order_id": order.pk, "line_id": line.pk})
            continue
        if not imei and not serial:
            continue
        known = Q(imei=imei) if imei else Q(pk__in=[])
        if serial:
            known |= Q(serial_number=serial)
        if SoldUnit.objects.filter(known, organization_id=order.organization_id).exists():
            continue
        unit = SoldUnit(
            organization=order.organization,
            product=line.product,
            order_line=line,
            order=order,
            store=order.store,
            customer=order.customer,
            serial_number=serial,
            imei=imei,
            sold_at=order.placed_at,
            delivered_at=delivered_at,
            delivery_country=order.ship_country or "",
        )
        unit.warranty_ends_on = unit_status(unit, unit_term(unit, rules), now()).ends_on
        try:
            with transaction.atomic():
                unit.save()
        except IntegrityError:  # registered concurrently
            continue
        created.append(unit)
    if created:
        logger.info("shipped units registered", extra={"order_id": order.pk, "count": len(created), "actor": actor.id})
    return created


# --- shipped units of an order (the seller types them in) -----------------------------------------


def order_units_register(*, user: User, order_id: int, identifiers: dict[int, str]) -> list[SoldUnit]:
    """The shipped units of one order, as the seller reads them off the parcels: for each order line
    (id -> text), one identifier per text line; 14-16 digits (separators allowed) is an IMEI and must
    pass its Luhn check (python-stdnum), anything else a serial number. For platforms that report no
    IMEI / serial number (eBay, Shopify; Amazon only for FBA). All or nothing through units_register;
    errors name `line_<id>`. Needs PROCESS."""
    check_perm(user, Permission.PROCESS)
    organization_id = organization_of(user)
    order = Order.objects.filter(pk=parse_id(order_id, field="order_id"), organization_id=organization_id).first()
    if order is None:
        raise NotFound(_("order not found"), field="order_id")
    line_ids = set(OrderLine.objects.filter(order=order).values_list("pk", flat=True))
    rows: list[UnitInput] = []
    origin: list[int] = []
    for line_id, text in identifiers.items():
        if line_id not in line_ids:
            raise NotFound(_("order line not found"), field=f"line_{line_id}")
        values = [v.strip() for v in check_text(text, field=f"line_{line_id}", max_length=20_000).splitlines()]
        for value in (v for v in values if v):
            imei = looks_like_imei(value)
            rows.append(
                UnitInput(order_line_id=line_id, imei=value if imei else "", serial_number="" if imei else value)
            )
            origin.append(line_id)
    if not rows:
        raise ValidationFailed(_("type at least one IMEI or serial number"), field="units")
    try:
        return units_register(user=user, rows=rows)
    except ValidationFailed as exc:  # units[i].imei -> the line's field, with the value
        raise ValidationFailed(
            _line_message(exc.message, exc.field, rows, origin), field=_line_field(exc.field, origin)
        ) from exc
    except Conflict as exc:
        raise Conflict(
            _line_message(exc.message, exc.field, rows, origin), field=_line_field(exc.field, origin)
        ) from exc


def _unit_index(field: str | None) -> int | None:
    if field and field.startswith("units[") and "]" in field:
        return int(field[6 : field.index("]")])
    return None


def _line_field(field: str | None, origin: list[int]) -> str:
    index = _unit_index(field)
    if index is None:
        return f"line_{origin[0]}" if len(origin) == 1 else (field or "units")
    return f"line_{origin[index]}"


def _line_message(message: str, field: str | None, rows: list[UnitInput], origin: list[int]) -> str:
    index = _unit_index(field)
    if index is None and len(rows) == 1:
        index = 0
    if index is None:
        return message
    value = rows[index].imei or rows[index].serial_number
    return f"{value}: {message}"
