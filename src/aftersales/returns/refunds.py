"""Refunds (issue 10 section 4): request, approve within role limits, review abnormal ones, execute
once through the store's connector, reconcile with the platform's record.

Money moves once:
- one refund per (organization, idempotency key) (unique constraint; a repeated request with the
  same key answers the existing refund). An RMA's refund defaults to the key `rma:<id>:refund`;
- every writer locks rows in one order: the order, then the RMA, then the refund; the amounts
  still refundable are computed under the order's lock, so two agents (or a double click) cannot
  both refund the same money;
- the execution goes through the write-back ledger (channels.writeback) under the refund's key,
  stored before the platform is called; a retry after a failure sends the SAME key again.

`refund_transition` is the only code that changes `Refund.status` (tests/architecture).

Bounds (422 naming the field, nothing written): per order line, the refund never exceeds what was
paid for it (unit price x quantity) minus what the line's committed refunds already take
(returns.workflow.REFUND_COMMITTED_STATUSES); shipping-only refunds never exceed the order's
shipping. The catalog keeps no shipping amount: the shipping paid is taken as the order total
minus its lines (`Order.total_amount - sum(unit price x quantity)`, never below 0), i.e. what was
charged on top of the goods. A refund's shipping part is its amount minus its lines."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import approval_limit, can_view_ticket, check_perm, is_admin, organization_of
from aftersales.catalog.models import Order, OrderLine
from aftersales.catalog.selectors import buyer_identity
from aftersales.channels.base import Capability, ConnectorError, RefundReceipt, RefundRequest, RefundState
from aftersales.channels.base import RefundLine as PlatformRefundLine
from aftersales.channels.context import store_context
from aftersales.channels.models import WriteBack, WriteBackKind, WriteBackStatus
from aftersales.channels.registry import get_connector
from aftersales.channels.writeback import writeback_perform, writeback_reopen
from aftersales.core import clock
from aftersales.core.actors import SYSTEM, Actor
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.core.events import publish
from aftersales.core.money import AMOUNT_DIGITS, AMOUNT_PLACES
from aftersales.inbox.models import Ticket

from .access import can_view_rma
from .events import RefundRequested, RefundStatusChanged
from .models import Refund, RefundEvent, RefundKind, RefundLine, RefundStatus, Rma
from .policy_store import active_compiled_policy
from .rates import rate_lookup
from .review import reasons_as_json, review_facts, review_reasons, review_thresholds
from .selectors import refunds_visible
from .workflow import REFUND_COMMITTED_STATUSES, REFUND_TRANSITIONS, check_refund_transition

R = RefundStatus
KEY_MAX = 120
REASON_MAX = 200
MAX_AMOUNT = Decimal(10) ** (AMOUNT_DIGITS - AMOUNT_PLACES)
ZERO = Decimal("0")


# --- The one writer of Refund.status ---------------------------------------------------------------


def refund_transition(refund: Refund, to: str, *, actor: Actor, reason: str = "", **payload: Any) -> bool:
    """Move `refund` to `to` (the caller holds its row lock, or created it in this transaction):
    checks REFUND_TRANSITIONS (unknown status 422, refused move 409), saves the status, appends a
    `status_changed` RefundEvent with the actor and publishes RefundStatusChanged after commit.
    Returns False (and writes nothing) when it already is in `to`."""
    old = refund.status
    if old == to:
        return False
    check_refund_transition(old, to)
    refund.status = to
    refund.save(update_fields=["status", "updated_at"])
    event = refund_event_record(refund, "status_changed", actor, {"from": old, "to": to, "reason": reason, **payload})
    publish(
        RefundStatusChanged(
            refund_id=refund.pk,
            organization_id=refund.organization_id,
            rma_id=refund.rma_id,
            old_status=old,
            new_status=to,
            reason=reason,
            refund_event_id=event.pk,
            actor=actor,
        )
    )
    return True


def refund_event_record(refund: Refund, type_: str, actor: Actor, payload: dict[str, Any]) -> RefundEvent:
    """Append one row to the refund's timeline (who, what, when); the one writer of RefundEvent rows."""
    return RefundEvent.objects.create(
        refund=refund,
        type=type_,
        payload=payload,
        actor_kind=actor.kind,
        actor_ref=actor.id,
        actor_user_id=actor.user_id,
        at=clock.now(),
    )


# --- Input checks (pure) ---------------------------------------------------------------------------


def currency_places(currency: str) -> int:
    """Decimal places of the currency's minor unit (JPY 0, EUR 2), at most what amounts store (2)."""
    from moneyed import CURRENCIES  # where it is used: py-moneyed brings babel (issue 13, web memory)

    sub_unit = CURRENCIES[currency].sub_unit or 1
    places = len(str(sub_unit)) - 1
    return min(places, AMOUNT_PLACES)


def check_currency(currency: Any, *, field: str = "currency") -> str:
    from moneyed import CURRENCIES

    if not isinstance(currency, str) or currency not in CURRENCIES or currency == "XXX":
        raise ValidationFailed(_("%(field)s: unknown currency code") % {"field": field}, field=field)
    return currency


def check_amount(value: Any, currency: str, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """A positive decimal with at most the currency's decimal places (floats refused)."""
    if isinstance(value, float | bool) or value is None:
        raise ValidationFailed(_("%(field)s: must be a decimal string") % {"field": field}, field=field)
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_("%(field)s: must be a decimal number") % {"field": field}, field=field) from None
    if not amount.is_finite():
        raise ValidationFailed(_("%(field)s: must be a decimal number") % {"field": field}, field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed(_("%(field)s: must be positive") % {"field": field}, field=field)
    if amount >= MAX_AMOUNT:
        raise ValidationFailed(_("%(field)s: too large") % {"field": field}, field=field)
    places = currency_places(currency)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places and amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise ValidationFailed(
            _("%(field)s: at most %(places)s decimal places in %(currency)s")
            % {"field": field, "places": places, "currency": currency},
            field=field,
        )
    return amount.quantize(Decimal(1).scaleb(-AMOUNT_PLACES))


@dataclass(frozen=True)
class LineInput:
    order_line_id: int
    amount: Decimal
    quantity: int = 0


def check_lines(lines: Any, currency: str) -> list[LineInput]:
    if not isinstance(lines, list | tuple):
        raise ValidationFailed(_("lines: must be a list"), field="lines")
    if not lines or len(lines) > 500:
        raise ValidationFailed(_("lines: give 1 to 500 lines"), field="lines")
    out: list[LineInput] = []
    seen: set[int] = set()
    for i, raw in enumerate(lines):
        where = f"lines[{i}]"
        if not isinstance(raw, dict):
            raise ValidationFailed(_("%(field)s: must be an object") % {"field": where}, field=where)
        line_id = raw.get("order_line_id")
        if not isinstance(line_id, int) or isinstance(line_id, bool) or line_id < 1:
            raise ValidationFailed(
                _("%(field)s: an order line id is required") % {"field": f"{where}.order_line_id"},
                field=f"{where}.order_line_id",
            )
        if line_id in seen:
            raise ValidationFailed(
                _("%(field)s: the line is listed twice") % {"field": f"{where}.order_line_id"},
                field=f"{where}.order_line_id",
            )
        seen.add(line_id)
        quantity = raw.get("quantity", 0)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity <= 100_000:
            raise ValidationFailed(
                _("%(field)s: must be 0 to 100000") % {"field": f"{where}.quantity"}, field=f"{where}.quantity"
            )
        amount = check_amount(raw.get("amount"), currency, field=f"{where}.amount")
        out.append(LineInput(line_id, amount, quantity))
    return out


# --- What is left to refund (under the order's lock) -----------------------------------------------


@dataclass
class OrderLedger:
    """What was paid on an order and what its committed refunds already take."""

    lines: dict[int, OrderLine]
    paid: dict[int, Decimal]
    committed: dict[int, Decimal]
    committed_quantity: dict[int, int]
    shipping_paid: Decimal
    shipping_committed: Decimal
    committed_total: Decimal

    def left(self, line_id: int) -> Decimal:
        return self.paid[line_id] - self.committed.get(line_id, ZERO)

    @property
    def shipping_left(self) -> Decimal:
        return max(ZERO, self.shipping_paid - self.shipping_committed)


def order_ledger(order: Order, *, exclude_refund_id: int | None = None) -> OrderLedger:
    lines = {line.pk: line for line in OrderLine.objects.filter(order=order).order_by("pk")}
    paid = {pk: line.unit_price_amount * line.quantity for pk, line in lines.items()}
    refunds = Refund.objects.filter(order=order, status__in=REFUND_COMMITTED_STATUSES)
    if exclude_refund_id is not None:
        refunds = refunds.exclude(pk=exclude_refund_id)
    committed: dict[int, Decimal] = {}
    committed_quantity: dict[int, int] = {}
    for line_id, amount, quantity in RefundLine.objects.filter(refund__in=refunds).values_list(
        "order_line_id", "amount", "quantity"
    ):
        committed[line_id] = committed.get(line_id, ZERO) + amount
        committed_quantity[line_id] = committed_quantity.get(line_id, 0) + quantity
    committed_total = refunds.aggregate(total=Sum("amount"))["total"] or ZERO
    lines_committed = sum(committed.values(), ZERO)
    return OrderLedger(
        lines=lines,
        paid=paid,
        committed=committed,
        committed_quantity=committed_quantity,
        shipping_paid=max(ZERO, order.total_amount - sum(paid.values(), ZERO)),
        shipping_committed=max(ZERO, committed_total - lines_committed),
        committed_total=committed_total,
    )


@dataclass
class Allocation:
    lines: list[LineInput] = field(default_factory=list)
    shipping: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO) + self.shipping


def _allocate(
    *,
    kind: str,
    amount: Decimal | None,
    lines: list[LineInput] | None,
    ledger: OrderLedger,
    rma: Rma | None,
) -> Allocation:
    """Which lines (and how much shipping) the refund takes; 422 naming the field when it would
    take more than is left."""
    if kind == RefundKind.SHIPPING:
        if lines:
            raise ValidationFailed(_("lines: a shipping-only refund has no lines"), field="lines")
        if amount is None:
            raise ValidationFailed(_("amount: required"), field="amount")
        if amount > ledger.shipping_left:
            raise ValidationFailed(
                _("amount: at most %(left)s of shipping is left to refund") % {"left": ledger.shipping_left},
                field="amount",
            )
        return Allocation(shipping=amount)

    rma_quantities: dict[int, int] = {}
    if rma is not None:
        for line_id, quantity in rma.lines.values_list("order_line_id", "quantity"):
            rma_quantities[line_id] = rma_quantities.get(line_id, 0) + quantity

    if lines:
        for i, line in enumerate(lines):
            where = f"lines[{i}]"
            if line.order_line_id not in ledger.lines:
                raise ValidationFailed(
                    _("%(field)s: not a line of this order") % {"field": f"{where}.order_line_id"},
                    field=f"{where}.order_line_id",
                )
            left = ledger.left(line.order_line_id)
            if line.amount > left:
                raise ValidationFailed(
                    _("%(field)s: at most %(left)s is left to refund on this line")
                    % {"field": f"{where}.amount", "left": left},
                    field=f"{where}.amount",
                )
            bought = ledger.lines[line.order_line_id].quantity
            if line.quantity > bought - ledger.committed_quantity.get(line.order_line_id, 0):
                raise ValidationFailed(
                    _("%(field)s: more than was bought and not yet refunded") % {"field": f"{where}.quantity"},
                    field=f"{where}.quantity",
                )
        allocation = Allocation(lines=list(lines))
        if kind == RefundKind.FULL:
            raise ValidationFailed(_("lines: a full refund takes every line; give no lines"), field="lines")
        if amount is not None and amount != allocation.total:
            raise ValidationFailed(
                _("amount: the lines add up to %(total)s") % {"total": allocation.total}, field="amount"
            )
        return allocation

    # Lines chosen here: the RMA's lines, else every line of the order, in order.
    scope = [pk for pk in ledger.lines if not rma_quantities or pk in rma_quantities]
    if kind == RefundKind.FULL:
        allocation = Allocation()
        for pk in scope:
            sold = ledger.lines[pk]
            if rma_quantities:
                value = min(sold.unit_price_amount * min(rma_quantities[pk], sold.quantity), ledger.left(pk))
                quantity = min(rma_quantities[pk], sold.quantity - ledger.committed_quantity.get(pk, 0))
            else:
                value = ledger.left(pk)
                quantity = sold.quantity - ledger.committed_quantity.get(pk, 0)
            if value > 0:
                allocation.lines.append(LineInput(pk, value, max(0, quantity)))
        if not rma_quantities:
            allocation.shipping = ledger.shipping_left
        if allocation.total <= 0:
            raise ValidationFailed(_("amount: nothing is left to refund"), field="amount")
        if amount is not None and amount != allocation.total:
            raise ValidationFailed(
                _("amount: a full refund is %(total)s") % {"total": allocation.total}, field="amount"
            )
        return allocation

    # Partial without lines: spread over the lines in scope, each up to what is left on it.
    if amount is None:
        raise ValidationFailed(_("amount: required"), field="amount")
    remaining = amount
    allocation = Allocation()
    for pk in scope:
        if remaining <= 0:
            break
        take = min(ledger.left(pk), remaining)
        if take > 0:
            allocation.lines.append(LineInput(pk, take, 0))
            remaining -= take
    if remaining > 0:
        raise ValidationFailed(
            _("amount: at most %(left)s is left to refund on these lines") % {"left": amount - remaining},
            field="amount",
        )
    return allocation


# --- Approval limits --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LimitCheck:
    within: bool
    limit_amount: str
    limit_currency: str
    amount_in_limit_currency: str | None
    rate: dict[str, str] | None  # the rates used when the currencies differ
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "within": self.within,
            "limit": self.limit_amount,
            "limit_currency": self.limit_currency,
            "amount_in_limit_currency": self.amount_in_limit_currency,
            "rate": self.rate,
            "note": self.note,
        }


def limit_check(user: Any, amount: Decimal, currency: str) -> LimitCheck:
    """Is `amount currency` within the user's approval limit? Admins have no limit. A limit in
    another currency is compared through the organization's rate table (both converted to the
    policy's reporting currency); without a rate the amount counts as above the limit."""
    if user is None:
        return LimitCheck(False, "0", currency, None, None, "no user")
    if is_admin(user):
        return LimitCheck(True, "", "", None, None, "admin")
    limit, limit_currency = approval_limit(user)
    if limit <= 0:
        return LimitCheck(False, str(limit), limit_currency, None, None, "no approval limit")
    if limit_currency == currency:
        return LimitCheck(amount <= limit, str(limit), limit_currency, str(amount), None)
    organization_id = organization_of(user)
    _version, policy = active_compiled_policy(organization_id)
    reporting = policy.document.reporting_currency

    def rate(code: str) -> tuple[Decimal, str] | None:
        if code == reporting:
            return Decimal(1), ""
        found = rate_lookup(organization_id, code)
        return (found.rate, found.as_of.isoformat() if found.as_of else "") if found else None

    source, target = rate(currency), rate(limit_currency)
    if source is None or target is None:
        missing = currency if source is None else limit_currency
        return LimitCheck(
            False, str(limit), limit_currency, None, None, f"no exchange rate for {missing} in the rate table"
        )
    converted = (amount * source[0] / target[0]).quantize(Decimal("0.01"))
    used = {
        "from": currency,
        "to": limit_currency,
        "via": reporting,
        "from_rate": str(source[0]),
        "to_rate": str(target[0]),
        "from_as_of": source[1],
        "to_as_of": target[1],
    }
    return LimitCheck(converted <= limit, str(limit), limit_currency, str(converted), used)


def _actor_limit_check(limit: tuple[Decimal, str] | None, amount: Decimal, currency: str) -> LimitCheck:
    """An automatic actor's limit (a rule's): none means nothing is approved automatically; a limit
    in another currency than the refund's does not cover it (no conversion for automation)."""
    if limit is None:
        return LimitCheck(False, "0", currency, None, None, "no user")
    limit_amount, limit_currency = limit
    within = limit_currency == currency and amount <= limit_amount
    return LimitCheck(
        within,
        str(limit_amount),
        limit_currency,
        str(amount) if limit_currency == currency else None,
        None,
        "actor limit",
    )


# --- Services ---------------------------------------------------------------------------------------


def refund_request(
    *,
    order_id: int,
    kind: str,
    currency: str,
    amount: Any = None,
    lines: list[dict[str, Any]] | None = None,
    rma_id: int | None = None,
    ticket_id: int | None = None,
    reason: str = "",
    idempotency_key: str | None = None,
    user: Any = None,
    actor: Actor | None = None,
    organization_id: int | None = None,
    actor_limit: tuple[Decimal, str] | None = None,
) -> Refund:
    """Request a refund of an order (and usually an RMA). A user needs PROCESS; without a user
    (an automatic step) pass `actor` and `organization_id`, and `actor_limit` (amount, currency):
    the approval limit of that actor (a rule's), compared in its own currency only. The refund lands:
    - `in_review` when an abnormality check fires (returns.review), whoever asked;
    - `approved` when the requesting user's approval limit covers it (then it is executed);
    - `pending_approval` otherwise (an approver or admin whose limit covers it must approve).
    The same idempotency key answers the refund it made (default for an RMA: `rma:<id>:refund`).
    One transaction; locks the order, then the RMA."""
    if user is not None:
        check_perm(user, Permission.PROCESS)
        organization_id = organization_of(user)
        actor = actor or Actor.user(user)
    if actor is None or organization_id is None:
        raise ValueError("refund_request needs a user, or an actor and an organization")
    if kind not in RefundKind.values:
        raise ValidationFailed(_("kind: must be full, partial or shipping"), field="kind")
    currency = check_currency(currency)
    parsed_amount = None if amount is None else check_amount(amount, currency)
    parsed_lines = None if lines is None else check_lines(lines, currency)
    if not isinstance(reason, str) or len(reason) > REASON_MAX:
        raise ValidationFailed(_("reason: at most 200 characters"), field="reason")
    key = idempotency_key or (f"rma:{rma_id}:refund" if rma_id else f"refund:{uuid.uuid4().hex}")
    if not isinstance(key, str) or not 1 <= len(key) <= KEY_MAX:
        raise ValidationFailed(_("idempotency_key: 1 to 120 characters"), field="idempotency_key")

    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .filter(pk=order_id, organization_id=organization_id)
            .select_related("store")
            .first()
        )
        if order is None:
            raise NotFound(_("Order not found"), field="order_id")
        rma = None
        if rma_id is not None:
            rma = Rma.objects.select_for_update().filter(pk=rma_id, organization_id=organization_id).first()
            if rma is None or (user is not None and not can_view_rma(user, rma)):
                raise NotFound(_("RMA not found"), field="rma_id")
            if rma.order_id != order.pk:
                raise ValidationFailed(_("rma_id: the RMA is for another order"), field="rma_id")
        existing = Refund.objects.filter(organization_id=organization_id, idempotency_key=key).first()
        if existing is not None:
            if existing.order_id != order.pk or existing.kind != kind or existing.rma_id != (rma.pk if rma else None):
                raise Conflict(_("idempotency_key: already used for another refund"), field="idempotency_key")
            return existing
        if currency != order.currency:
            raise ValidationFailed(
                _("currency: the order is in %(currency)s") % {"currency": order.currency}, field="currency"
            )
        if ticket_id is not None:
            ticket = Ticket.objects.filter(pk=ticket_id, organization_id=organization_id).first()
            if ticket is None or (user is not None and not can_view_ticket(user, ticket)):
                raise NotFound(_("Ticket not found"), field="ticket_id")
        ledger = order_ledger(order)
        allocation = _allocate(kind=kind, amount=parsed_amount, lines=parsed_lines, ledger=ledger, rma=rma)
        total = allocation.total
        thresholds = review_thresholds(organization_id)
        facts = review_facts(
            order=order,
            rma=rma,
            amount=total,
            currency=currency,
            other_committed=ledger.committed_total,
            lines=[ledger.lines[line.order_line_id] for line in allocation.lines],
            thresholds=thresholds,
        )
        reasons = review_reasons(facts, thresholds)
        limits = (
            limit_check(user, total, currency) if user is not None else _actor_limit_check(actor_limit, total, currency)
        )
        try:
            with transaction.atomic():
                refund = Refund.objects.create(
                    organization_id=organization_id,
                    store_id=order.store_id,
                    order=order,
                    rma=rma,
                    ticket_id=ticket_id,
                    kind=kind,
                    amount=total,
                    currency=currency,
                    reason=reason,
                    idempotency_key=key,
                    review_reasons=reasons_as_json(reasons),
                    requested_by=user if user is not None else None,
                )
        except IntegrityError:
            # Another transaction holding no order lock (a bug elsewhere) took the key first.
            existing = Refund.objects.filter(organization_id=organization_id, idempotency_key=key).first()
            if existing is None:
                raise
            return existing
        RefundLine.objects.bulk_create(
            [
                RefundLine(refund=refund, order_line_id=line.order_line_id, quantity=line.quantity, amount=line.amount)
                for line in allocation.lines
            ]
        )
        refund_event_record(
            refund,
            "requested",
            actor,
            {
                "kind": kind,
                "amount": str(total),
                "currency": currency,
                "shipping": str(allocation.shipping),
                "lines": [
                    {"order_line_id": line.order_line_id, "amount": str(line.amount), "quantity": line.quantity}
                    for line in allocation.lines
                ],
                "review_reasons": reasons_as_json(reasons),
                "limit": limits.as_json(),
            },
        )
        if reasons:
            refund_transition(refund, R.IN_REVIEW, actor=actor, reason="abnormal", codes=[r.code for r in reasons])
        elif limits.within:
            refund.approved_by = user
            refund.approved_at = clock.now()
            refund.save(update_fields=["approved_by", "approved_at", "updated_at"])
            refund_transition(refund, R.APPROVED, actor=actor, reason="within_limit", limit=limits.as_json())
        publish(
            RefundRequested(
                refund_id=refund.pk,
                organization_id=organization_id,
                order_id=order.pk,
                rma_id=rma.pk if rma else None,
                kind=kind,
                amount=str(total),
                currency=currency,
                status=refund.status,
                review_reasons=tuple(r.code for r in reasons),
                actor=actor,
            )
        )
        return refund


def _locked(user: Any, refund_id: int) -> Refund:
    """The refund if the user may see it (returns.selectors.refunds_visible: its RMA's or ticket's
    scope, within the organization), locked after its order (the fixed lock order); NotFound else."""
    order_id = refunds_visible(user).filter(pk=refund_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound(_("Refund not found"), field="refund_id")
    list(Order.objects.select_for_update().filter(pk=order_id).values_list("pk", flat=True))
    return Refund.objects.select_for_update().get(pk=refund_id)


def refund_approve(*, user: Any, refund_id: int, note: str = "") -> Refund:
    """An approver (or admin) approves a refund waiting for approval or in review, within their
    limit; the requester cannot approve their own refund above their limit. Approving an already
    approved refund changes nothing (double click). Locks the order, then the refund."""
    check_perm(user, Permission.APPROVE)
    if not isinstance(note, str) or len(note) > 2000:
        raise ValidationFailed(_("note: at most 2000 characters"), field="note")
    with transaction.atomic():
        refund = _locked(user, refund_id)
        if refund.status in (R.APPROVED, R.EXECUTING, R.SUCCEEDED, R.PENDING_SYNC):
            return refund
        if refund.status not in (R.PENDING_APPROVAL, R.IN_REVIEW):
            raise Conflict(_("This refund can no longer be approved."), field="status")
        limits = limit_check(user, refund.amount, refund.currency)
        if not limits.within:
            if refund.requested_by_id == user.pk:
                raise PermissionDenied(
                    _("You cannot approve your own refund above your approval limit."), field="amount"
                )
            raise PermissionDenied(_("The refund is above your approval limit."), field="amount")
        refund.approved_by = user
        refund.approved_at = clock.now()
        refund.save(update_fields=["approved_by", "approved_at", "updated_at"])
        refund_transition(
            refund,
            R.APPROVED,
            actor=Actor.user(user),
            reason="reviewed" if refund.status == R.IN_REVIEW else "approved",
            note=note,
            limit=limits.as_json(),
        )
        return refund


def refund_reject(*, user: Any, refund_id: int, reason: str) -> Refund:
    """An approver rejects a refund waiting for approval or in review; the reason is required."""
    check_perm(user, Permission.APPROVE)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        raise ValidationFailed(_("reason: required, at most 2000 characters"), field="reason")
    with transaction.atomic():
        refund = _locked(user, refund_id)
        if refund.status not in (R.PENDING_APPROVAL, R.IN_REVIEW):
            raise Conflict(_("This refund can no longer be rejected."), field="status")
        refund_transition(refund, R.REJECTED, actor=Actor.user(user), reason=reason.strip())
        return refund


def refund_cancel(*, user: Any, refund_id: int, reason: str = "") -> Refund:
    """Withdraw a refund that has not reached the marketplace (waiting, in review, approved but not
    yet executing, failed, or pending sync that nobody did by hand)."""
    check_perm(user, Permission.PROCESS)
    if not isinstance(reason, str) or len(reason) > 2000:
        raise ValidationFailed(_("reason: at most 2000 characters"), field="reason")
    with transaction.atomic():
        refund = _locked(user, refund_id)
        if refund.status == R.CANCELLED:
            return refund
        if R.CANCELLED not in _moves(refund.status):
            raise Conflict(_("This refund can no longer be cancelled."), field="status")
        refund_transition(refund, R.CANCELLED, actor=Actor.user(user), reason=reason.strip())
        return refund


def _moves(status: str) -> frozenset[str]:
    return REFUND_TRANSITIONS[status]


def refund_retry(*, user: Any, refund_id: int) -> Refund:
    """Send a failed refund again, with the SAME idempotency key (the ledger row is reopened); the
    execution is enqueued after commit (RefundStatusChanged to executing, reason "retry")."""
    check_perm(user, Permission.APPROVE)
    with transaction.atomic():
        refund = _locked(user, refund_id)
        if refund.status != R.FAILED:
            raise Conflict(_("Only a failed refund can be retried."), field="status")
        if refund.writeback_id is not None:
            writeback_reopen(writeback=WriteBack.objects.get(pk=refund.writeback_id), actor=Actor.user(user))
        refund_transition(refund, R.EXECUTING, actor=Actor.user(user), reason="retry")
        return refund


def refund_mark_done(*, user: Any, refund_id: int, platform_refund_id: str, note: str = "") -> Refund:
    """An agent refunded by hand on the marketplace (the store's connector cannot): pending_sync ->
    succeeded with the platform's refund id."""
    check_perm(user, Permission.PROCESS)
    if not isinstance(platform_refund_id, str) or not platform_refund_id.strip() or len(platform_refund_id) > 200:
        raise ValidationFailed(
            _("platform_refund_id: the marketplace's refund id is required (at most 200 characters)"),
            field="platform_refund_id",
        )
    if not isinstance(note, str) or len(note) > 2000:
        raise ValidationFailed(_("note: at most 2000 characters"), field="note")
    with transaction.atomic():
        refund = _locked(user, refund_id)
        if refund.status == R.SUCCEEDED and refund.platform_refund_id == platform_refund_id.strip():
            return refund
        if refund.status != R.PENDING_SYNC:
            raise Conflict(_("Only a refund pending sync can be marked done by hand."), field="status")
        refund.platform_refund_id = platform_refund_id.strip()
        refund.executed_at = clock.now()
        refund.save(update_fields=["platform_refund_id", "executed_at", "updated_at"])
        refund_transition(
            refund,
            R.SUCCEEDED,
            actor=Actor.user(user),
            reason="done_by_hand",
            platform_refund_id=refund.platform_refund_id,
            note=note,
        )
        return refund


# --- Execution and reconciliation ------------------------------------------------------------------


def writeback_key(refund: Refund) -> str:
    return f"refund:{refund.idempotency_key}"


def platform_request(refund: Refund) -> RefundRequest:
    """What the connector is asked (also what the ledger keeps). Lines are sent when every line has
    the platform's line id and they add up to the amount (no shipping part); else the order-level
    amount alone."""
    order = refund.order
    refund_lines = list(refund.lines.select_related("order_line").order_by("pk"))
    platform_lines = [
        PlatformRefundLine(line.order_line.external_line_id, line.quantity, line.amount) for line in refund_lines
    ]
    lines_total = sum((line.amount for line in refund_lines), ZERO)
    send_lines = (
        bool(platform_lines) and lines_total == refund.amount and all(line.external_line_id for line in platform_lines)
    )
    return_external_id = buyer_id = ""
    if refund.rma_id is not None and refund.rma is not None and refund.rma.return_request_id is not None:
        request = refund.rma.return_request
        return_external_id = request.external_id if request else ""
        buyer_id = buyer_identity(request.customer_id, request.store_id) if request else ""
    return RefundRequest(
        idempotency_key=writeback_key(refund),
        order_external_id=order.external_id,
        amount=refund.amount,
        currency=refund.currency,
        return_external_id=return_external_id,
        reason=refund.reason,
        note=refund.reason,
        lines=platform_lines if send_lines else [],
        buyer_id=buyer_id,
    )


def refund_execute(*, refund_id: int, actor: Actor = SYSTEM) -> Refund:
    """Execute an approved refund (or one set executing again by a retry) through the store's
    connector and the write-back ledger, at most once per key. Safe to run twice: a second run finds
    the ledger's outcome and calls nothing. Transient connector errors are re-raised (the task
    retries); the refund stays `executing`."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("store").filter(pk=refund_id).first()
        if refund is None or refund.status not in (R.APPROVED, R.EXECUTING):
            return refund  # type: ignore[return-value]
        try:
            connector = get_connector(refund.store.platform)
        except ConnectorError:
            connector = None
        if connector is None or Capability.ISSUE_REFUND not in connector.capabilities:
            refund.platform_detail = _("The store's connector cannot refund: refund on the marketplace by hand.")
            refund.save(update_fields=["platform_detail", "updated_at"])
            refund_transition(refund, R.PENDING_SYNC, actor=actor, reason="connector_cannot_refund")
            return refund
        refund_transition(refund, R.EXECUTING, actor=actor, reason="executing")
        request = platform_request(refund)
    row = writeback_perform(
        store=refund.store,
        kind=WriteBackKind.ISSUE_REFUND,
        key=request.idempotency_key,
        request=request,
        actor=actor,
        call=lambda ctx: connector.issue_refund(ctx, request),  # type: ignore[union-attr,attr-defined]
    )
    return _apply_writeback(refund_id=refund.pk, row=row, actor=actor)


def _apply_writeback(*, refund_id: int, row: WriteBack, actor: Actor) -> Refund:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.writeback_id != row.pk:
            refund.writeback_id = row.pk
            refund.save(update_fields=["writeback", "updated_at"])
        if refund.status != R.EXECUTING:
            return refund
        if row.status == WriteBackStatus.SUCCEEDED:
            state = str((row.response or {}).get("state") or RefundState.SUCCEEDED)
            refund.platform_refund_id = row.external_id
            refund.platform_detail = row.detail
            refund.executed_at = refund.executed_at or clock.now()
            refund.save(update_fields=["platform_refund_id", "platform_detail", "executed_at", "updated_at"])
            if state == RefundState.SUCCEEDED:
                refund.reconciled_at = clock.now()
                refund.save(update_fields=["reconciled_at"])
                refund_transition(
                    refund, R.SUCCEEDED, actor=actor, reason="platform", platform_refund_id=row.external_id
                )
            # pending on the platform: stays executing until refund_reconcile sees it settle
        elif row.status == WriteBackStatus.FAILED:
            refund.platform_detail = row.detail
            refund.save(update_fields=["platform_detail", "updated_at"])
            refund_transition(refund, R.FAILED, actor=actor, reason="platform_refused", detail=row.detail)
        elif row.status == WriteBackStatus.UNKNOWN:
            refund.platform_detail = row.detail
            refund.save(update_fields=["platform_detail", "updated_at"])
            refund_transition(refund, R.PENDING_SYNC, actor=actor, reason="outcome_unknown", detail=row.detail)
        return refund


def refunds_to_reconcile(*, limit: int = 200) -> list[int]:
    """Refunds sent to the marketplace whose refund is not settled there yet (executing with a
    platform id: Amazon's feed, eBay's pending refund, a pending Shopify refund)."""
    return list(
        Refund.objects.filter(status=R.EXECUTING, writeback__status=WriteBackStatus.SUCCEEDED)
        .exclude(platform_refund_id="")
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )


RESUME_AFTER = timedelta(minutes=30)


def refunds_to_resume(*, limit: int = 200) -> list[int]:
    """Refunds left `executing` without a platform answer after the task gave up on transient errors
    (no ledger outcome linked) for RESUME_AFTER: executed again, which is safe (the ledger's key)."""
    return list(
        Refund.objects.filter(status=R.EXECUTING, writeback__isnull=True, updated_at__lt=clock.now() - RESUME_AFTER)
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )


def refund_reconcile(*, refund_id: int, actor: Actor = SYSTEM) -> Refund:
    """Ask the platform how a sent refund stands (connector.refund_status) and settle it:
    succeeded (reconciled_at set) or failed with the platform's words; pending changes nothing."""
    refund = Refund.objects.select_related("store", "order").get(pk=refund_id)
    if refund.status != R.EXECUTING or not refund.platform_refund_id:
        return refund
    connector = get_connector(refund.store.platform)
    request = platform_request(refund)
    receipt = connector.refund_status(  # type: ignore[attr-defined]
        store_context(refund.store),
        request,
        RefundReceipt(external_id=refund.platform_refund_id, state=RefundState.PENDING),
    )
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != R.EXECUTING:
            return refund
        if receipt.state == RefundState.SUCCEEDED:
            refund.reconciled_at = clock.now()
            refund.platform_detail = receipt.detail
            refund.save(update_fields=["reconciled_at", "platform_detail", "updated_at"])
            refund_transition(refund, R.SUCCEEDED, actor=actor, reason="reconciled", detail=receipt.detail)
        elif receipt.state == RefundState.FAILED:
            refund.platform_detail = receipt.detail
            refund.save(update_fields=["platform_detail", "updated_at"])
            refund_transition(refund, R.FAILED, actor=actor, reason="platform_refused", detail=receipt.detail)
        return refund
