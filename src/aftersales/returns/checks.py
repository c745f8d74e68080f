"""The automatic checks of an RMA request (issue 10, section 3), reads only.

Given an order and the lines asked for, they verify that the order belongs to the organization, that
each line is a line of that order with the right SKU, that the quantity fits in what was purchased
minus what is already on other RMAs (open or finished; rejected and cancelled ones do not count), and
ask the return policy (returns.eligibility.eligibility_decide, the same decision the eligibility API
gives) about the window, the reason and the evidence, line by line.

Two modes: `strict` (an agent or the customer typed the request: bad input is refused with
ValidationFailed naming the field, nothing is written) and lenient (a marketplace's request, which the
seller must handle anyway: what does not fit becomes a discrepancy listed for the agent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Max, Sum
from django.utils.translation import gettext as _

from aftersales.catalog.models import Order, OrderLine
from aftersales.core.errors import ValidationFailed

from .eligibility import eligibility_decide
from .models import EvidenceKind, RmaLine, RmaResolution, RmaStatus
from .policy.document import CATEGORIES, CUSTOMER_TIERS

# RmaEvidence kinds -> the policy's evidence vocabulary (distinct kinds, never interchangeable).
POLICY_EVIDENCE: dict[str, str] = {
    EvidenceKind.PHOTO: "photos",
    EvidenceKind.VIDEO: "video",
    EvidenceKind.IMEI: "imei",
    EvidenceKind.SERIAL_NUMBER: "serial_number",
}
EVIDENCE_FROM_POLICY = {v: k for k, v in POLICY_EVIDENCE.items()}

# RMAs whose lines count as "already returned".
NOT_COUNTED = (RmaStatus.REJECTED, RmaStatus.CANCELLED)
MAX_LINES = 200
MAX_QUANTITY = 100_000


@dataclass(frozen=True)
class LineRequest:
    order_line_id: int
    quantity: int
    reason: str = ""
    sku: str | None = None  # when the requester names it (checked against the order line)


@dataclass(frozen=True)
class Discrepancy:
    code: str
    field: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class CheckedLine:
    order_line: OrderLine
    quantity: int
    reason: str
    already_returned: int
    category: str
    decision: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RmaChecks:
    order: Order
    lines: list[CheckedLine]
    discrepancies: list[Discrepancy]
    decision: dict[str, Any]
    status: str  # where the RMA goes after creation
    resolution: str  # proposed (RmaResolution value) or ""
    policy_version: int | None
    restocking_fee_percent: Decimal
    return_shipping_paid_by: str
    delivered_at: datetime


def parse_lines(raw: Any) -> list[LineRequest]:
    """[{order_line_id, quantity, reason?, sku?}] -> LineRequest, refusing malformed input by field."""
    if not isinstance(raw, list | tuple) or not raw:
        raise ValidationFailed(_("lines: give at least one line"), field="lines")
    if len(raw) > MAX_LINES:
        raise ValidationFailed(_("lines: at most 200 lines"), field="lines")
    result: list[LineRequest] = []
    seen: set[int] = set()
    for i, item in enumerate(raw):
        if isinstance(item, LineRequest):
            item = {
                "order_line_id": item.order_line_id,
                "quantity": item.quantity,
                "reason": item.reason,
                "sku": item.sku,
            }
        if not isinstance(item, dict):
            raise ValidationFailed(_("lines[%(i)s]: must be an object") % {"i": i}, field=f"lines[{i}]")
        line_id = item.get("order_line_id")
        if isinstance(line_id, bool) or not isinstance(line_id, int) or line_id < 1:
            raise ValidationFailed(
                _("lines[%(i)s].order_line_id: must be an order line id") % {"i": i}, field=f"lines[{i}].order_line_id"
            )
        if line_id in seen:
            raise ValidationFailed(
                _("lines[%(i)s].order_line_id: the same order line is listed twice") % {"i": i},
                field=f"lines[{i}].order_line_id",
            )
        seen.add(line_id)
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise ValidationFailed(
                _("lines[%(i)s].quantity: must be a whole number of at least 1") % {"i": i},
                field=f"lines[{i}].quantity",
            )
        reason = item.get("reason") or ""
        sku = item.get("sku")
        if not isinstance(reason, str) or len(reason) > 60:
            raise ValidationFailed(
                _("lines[%(i)s].reason: at most 60 characters") % {"i": i}, field=f"lines[{i}].reason"
            )
        if sku is not None and (not isinstance(sku, str) or len(sku) > 80):
            raise ValidationFailed(_("lines[%(i)s].sku: at most 80 characters") % {"i": i}, field=f"lines[{i}].sku")
        result.append(LineRequest(order_line_id=line_id, quantity=quantity, reason=reason, sku=sku))
    return result


def already_returned(order_line_ids: list[int], *, exclude_rma_id: int | None = None) -> dict[int, int]:
    """Quantity of each order line on RMAs that count (not rejected or cancelled)."""
    rows = RmaLine.objects.filter(order_line_id__in=order_line_ids).exclude(rma__status__in=NOT_COUNTED)
    if exclude_rma_id is not None:
        rows = rows.exclude(rma_id=exclude_rma_id)
    totals = rows.values("order_line_id").annotate(total=Sum("quantity"))
    return {row["order_line_id"]: int(row["total"] or 0) for row in totals}


def delivered_at_of(order: Order) -> datetime | None:
    """When the order was delivered: its latest shipment's delivery, return parcels (RMA labels'
    tracking numbers, followed as shipments of the order) left out."""
    from .models import Rma

    returns = Rma.objects.filter(order_id=order.pk).exclude(label_tracking_number="").values("label_tracking_number")
    value = order.shipments.exclude(tracking_number__in=returns).aggregate(latest=Max("delivered_at"))["latest"]
    return value


def check_rma_request(
    *,
    organization_id: int,
    order_id: Any,
    lines: list[LineRequest],
    reason: str,
    evidence_kinds: frozenset[str],
    requested_at: datetime,
    strict: bool,
) -> RmaChecks:
    """Run the automatic checks. Strict: raise ValidationFailed (field named) on bad input. Lenient:
    record a Discrepancy instead wherever the request can still be handled (at least one line must
    match the order). Reads only."""
    if isinstance(order_id, bool) or not isinstance(order_id, int):
        raise ValidationFailed(_("order_id: must be an order id"), field="order_id")
    order = (
        Order.objects.select_related("store", "customer").filter(pk=order_id, organization_id=organization_id).first()
    )
    if order is None:
        raise ValidationFailed(_("order_id: no such order"), field="order_id")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 60:
        raise ValidationFailed(_("reason: give the return reason (at most 60 characters)"), field="reason")

    discrepancies: list[Discrepancy] = []
    order_lines = {
        ol.pk: ol for ol in OrderLine.objects.select_related("product").filter(pk__in=[x.order_line_id for x in lines])
    }
    returned = already_returned([x.order_line_id for x in lines])
    matched: list[tuple[int, LineRequest, OrderLine]] = []
    for i, request in enumerate(lines):
        prefix = f"lines[{i}]"
        order_line = order_lines.get(request.order_line_id)
        if order_line is None or order_line.order_id != order.pk:
            if strict:
                raise ValidationFailed(
                    _("%(p)s.order_line_id: not a line of order %(order)s") % {"p": prefix, "order": order.external_id},
                    field=f"{prefix}.order_line_id",
                )
            discrepancies.append(
                Discrepancy(
                    "line_not_on_order",
                    f"{prefix}.order_line_id",
                    _("A returned line is not a line of order %(order)s.") % {"order": order.external_id},
                )
            )
            continue
        if request.sku is not None and request.sku != order_line.sku:
            if strict:
                raise ValidationFailed(
                    _("%(p)s.sku: the order line's SKU is %(sku)s") % {"p": prefix, "sku": order_line.sku},
                    field=f"{prefix}.sku",
                )
            discrepancies.append(
                Discrepancy(
                    "sku_mismatch",
                    f"{prefix}.sku",
                    _("The marketplace names SKU %(given)s; the order line is %(sku)s.")
                    % {"given": request.sku, "sku": order_line.sku},
                )
            )
        remaining = order_line.quantity - returned.get(order_line.pk, 0)
        if request.quantity > order_line.quantity:
            if strict:
                raise ValidationFailed(
                    _("%(p)s.quantity: only %(n)s purchased") % {"p": prefix, "n": order_line.quantity},
                    field=f"{prefix}.quantity",
                )
            discrepancies.append(
                Discrepancy(
                    "quantity_above_purchased",
                    f"{prefix}.quantity",
                    _("%(q)s of %(sku)s asked back, %(n)s purchased.")
                    % {"q": request.quantity, "sku": order_line.sku, "n": order_line.quantity},
                )
            )
        elif request.quantity > remaining:
            if strict:
                raise ValidationFailed(
                    _("%(p)s.quantity: only %(n)s left to return (the rest is on other RMAs)")
                    % {"p": prefix, "n": max(remaining, 0)},
                    field=f"{prefix}.quantity",
                )
            discrepancies.append(
                Discrepancy(
                    "quantity_above_remaining",
                    f"{prefix}.quantity",
                    _("%(q)s of %(sku)s asked back, %(n)s left (the rest is on other RMAs).")
                    % {"q": request.quantity, "sku": order_line.sku, "n": max(remaining, 0)},
                )
            )
        matched.append((i, request, order_line))
    if not matched:
        raise ValidationFailed(_("lines: no line matches the order"), field="lines")

    delivered_at = delivered_at_of(order)
    if delivered_at is None:
        delivered_at = order.placed_at
        discrepancies.append(
            Discrepancy(
                "delivery_unknown",
                "order_id",
                _("No delivery date on the order: the window is counted from the order date."),
            )
        )
    if requested_at < delivered_at:
        requested_at = delivered_at

    tier = order.customer.tier if order.customer is not None else None
    if tier not in CUSTOMER_TIERS:
        tier = None
    policy_evidence = frozenset(POLICY_EVIDENCE[k] for k in evidence_kinds if k in POLICY_EVIDENCE)

    checked: list[CheckedLine] = []
    line_decisions: list[dict[str, Any]] = []
    version: int | None = None
    for i, request, order_line in matched:
        prefix = f"lines[{i}]"
        category = order_line.product.category if order_line.product is not None else "other"
        if category not in CATEGORIES:
            category = "other"
        line_reason = request.reason or reason
        quantity_for_policy = min(request.quantity, order_line.quantity)
        try:
            result = eligibility_decide(
                organization_id=organization_id,
                delivered_at=delivered_at,
                requested_at=requested_at,
                reason=line_reason,
                unit_price=order_line.unit_price_amount,
                currency=order_line.currency,
                quantity_purchased=order_line.quantity,
                quantity_requested=quantity_for_policy,
                quantity_already_returned=min(returned.get(order_line.pk, 0), order_line.quantity),
                store_id=order.store_id,
                delivery_country=str(order.ship_country or "") or None,
                sku=order_line.sku,
                category=category,
                customer_tier=tier,
                evidence=policy_evidence,
                lookup_sku=False,
            )
        except ValidationFailed as exc:
            where = {
                "reason": f"{prefix}.reason" if request.reason else "reason",
                "quantity_requested": f"{prefix}.quantity",
                "quantity_already_returned": f"{prefix}.quantity",
            }.get(exc.field or "", f"{prefix}.{exc.field}" if exc.field else prefix)
            if strict:
                raise ValidationFailed(exc.message, field=where) from None
            discrepancies.append(Discrepancy("policy_not_applicable", where, exc.message))
            checked.append(
                CheckedLine(order_line, request.quantity, line_reason, returned.get(order_line.pk, 0), category)
            )
            continue
        version = result.policy_version
        decision = result.decision
        line_json = {
            "order_line_id": order_line.pk,
            "sku": order_line.sku,
            "eligible": decision.eligible,
            "resolution": decision.resolution,
            "rejection": decision.rejection,
            "clauses": list(decision.clauses),
            "missing_evidence": list(decision.missing_evidence),
            "last_day": decision.last_day.isoformat(),
            "days_since_delivery": decision.days_since_delivery,
            "timezone": decision.timezone,
            "value_tier": decision.value_tier,
            "restocking_fee_percent": str(decision.restocking_fee_percent),
            "return_shipping_paid_by": decision.return_shipping_paid_by,
            "partial_refund_percent": (
                str(decision.partial_refund_percent) if decision.partial_refund_percent is not None else None
            ),
            "rate": {"currency": decision.rate.currency, "rate": str(decision.rate.rate)},
        }
        line_decisions.append(line_json)
        if decision.rejection is not None:
            discrepancies.append(
                Discrepancy(
                    f"policy_{decision.rejection}",
                    f"{prefix}",
                    _("The return policy rejects %(sku)s: %(why)s (last day %(day)s).")
                    % {"sku": order_line.sku, "why": decision.rejection, "day": decision.last_day.isoformat()},
                )
            )
        checked.append(
            CheckedLine(order_line, request.quantity, line_reason, returned.get(order_line.pk, 0), category, line_json)
        )

    decision_json, resolution, fee, payer = _combine(line_decisions, version)
    if any(d["rejection"] for d in line_decisions) or discrepancies:
        status = RmaStatus.UNDER_REVIEW
    elif decision_json.get("resolution") == "needs_evidence":
        status = RmaStatus.NEEDS_EVIDENCE
    elif resolution == RmaResolution.RETURNLESS_REFUND:
        status = RmaStatus.APPROVED  # the policy grants it without a human: a returnless refund
    else:
        status = RmaStatus.REQUESTED
    return RmaChecks(
        order=order,
        lines=checked,
        discrepancies=discrepancies,
        decision=decision_json,
        status=status,
        resolution=resolution,
        policy_version=version,
        restocking_fee_percent=fee,
        return_shipping_paid_by=payer,
        delivered_at=delivered_at,
    )


_POLICY_TO_RESOLUTION = {
    "return_and_refund": RmaResolution.RETURN_AND_REFUND,
    "returnless_refund": RmaResolution.RETURNLESS_REFUND,
    "partial_refund_offer": RmaResolution.PARTIAL_REFUND,
    "exchange": RmaResolution.EXCHANGE,
    "repair": RmaResolution.REPAIR,
}


def _combine(lines: list[dict[str, Any]], version: int | None) -> tuple[dict[str, Any], str, Decimal, str]:
    """One decision for the RMA from its lines': a rejection or missing evidence on any line decides;
    a returnless refund or a partial-refund offer only when every line gets it; otherwise the first
    line's own resolution (return and refund, exchange, repair)."""
    if not lines:
        return {"policy_version": version, "lines": []}, "", Decimal(0), ""
    resolutions = [d["resolution"] for d in lines]
    if "reject" in resolutions:
        overall = "reject"
    elif "needs_evidence" in resolutions:
        overall = "needs_evidence"
    elif all(r == "returnless_refund" for r in resolutions):
        overall = "returnless_refund"
    elif all(r == "partial_refund_offer" for r in resolutions):
        overall = "partial_refund_offer"
    else:
        overall = next(
            (r for r in resolutions if r not in {"returnless_refund", "partial_refund_offer"}), "return_and_refund"
        )
    clauses: list[str] = []
    for d in lines:
        clauses.extend(c for c in d["clauses"] if c not in clauses)
    missing = sorted({m for d in lines for m in d["missing_evidence"]})
    fee = max(Decimal(d["restocking_fee_percent"]) for d in lines)
    payer = next((d["return_shipping_paid_by"] for d in lines if d["return_shipping_paid_by"]), "") or ""
    partial = [Decimal(d["partial_refund_percent"]) for d in lines if d["partial_refund_percent"]]
    decision = {
        "resolution": overall,
        "eligible": all(d["eligible"] for d in lines),
        "rejection": next((d["rejection"] for d in lines if d["rejection"]), None),
        "last_day": min(d["last_day"] for d in lines),
        "clauses": clauses,
        "missing_evidence": missing,
        "restocking_fee_percent": str(fee),
        "return_shipping_paid_by": payer or None,
        "partial_refund_percent": str(min(partial)) if partial else None,
        "policy_version": version,
        "lines": lines,
    }
    resolution = _POLICY_TO_RESOLUTION.get(overall, "")
    return decision, resolution, fee, payer
