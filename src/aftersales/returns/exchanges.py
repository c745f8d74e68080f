"""Exchanges: a replacement for returned goods (issue 10, section 5).

`exchange_create` checks the RMA (resolution "exchange", in a status after approval), the lines
(replacement SKU among the organization's products, quantity at most what the RMA returns of the
order line it replaces), picks a warehouse with the stock (the one given, else the first active one by
code that has every line available), reserves it (inventory.services.stock_move_many, kind reserve)
and creates the replacement order (same store and customer, total 0, external id
"EXC-<RMA number>-<attempt>"), all in one transaction. Without the stock nothing is reserved: the
exchange is recorded as out_of_stock and the result tells the agent to offer a refund instead (the
refund itself is the agent's next action, not done here). `exchange_ship` turns the reservation into
a ship movement; `exchange_cancel` releases it. `exchange_transition` is the only writer of
`Exchange.status` (returns.workflow.EXCHANGE_TRANSITIONS). Each step adds an RmaEvent to the RMA's
timeline and publishes a typed event (returns.events) after commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.accounts.permissions import Permission, check_perm, organization_of
from aftersales.catalog.history import order_status_changes_record
from aftersales.catalog.models import Order, OrderLine, Product, Shipment
from aftersales.core import clock
from aftersales.core.actors import Actor
from aftersales.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from aftersales.core.events import publish
from aftersales.core.validation import check_text, parse_id
from aftersales.inventory.models import MovementKind, Warehouse
from aftersales.inventory.selectors import Shortage, out_of_stock_message, stock_pick_warehouse
from aftersales.inventory.services import Move, stock_move_many

from .access import Automation, actor_of, check_rma_visible
from .events import ExchangeCancelled, ExchangeCreated, ExchangeShipped
from .models import Exchange, ExchangeStatus, Rma, RmaEvent, RmaResolution, RmaStatus
from .workflow import check_exchange_transition

if TYPE_CHECKING:
    from aftersales.accounts.models import User

# An exchange can be set up once the RMA was approved with the exchange resolution, until it is resolved
# (advance replacements ship before the return arrives).
EXCHANGE_RMA_STATUSES = frozenset(
    {RmaStatus.APPROVED, RmaStatus.LABEL_ISSUED, RmaStatus.IN_TRANSIT, RmaStatus.RECEIVED, RmaStatus.INSPECTED}
)
OPEN_EXCHANGE = frozenset({ExchangeStatus.RESERVED, ExchangeStatus.SHIPPED})
MAX_LINES = 50
MAX_TRACKING = 80


@dataclass(frozen=True)
class ExchangeLine:
    sku: str
    quantity: int
    replaces_order_line_id: int


@dataclass(frozen=True)
class ExchangeResult:
    """`created` False: an open exchange of the RMA was returned unchanged (a repeated request).
    `out_of_stock`: nothing was reserved; `message` tells the agent to offer a refund instead."""

    exchange: Exchange
    created: bool
    out_of_stock: bool
    shortages: tuple[Shortage, ...]
    message: str


def _rma_event(rma: Rma, type_: str, actor: Actor, payload: dict[str, Any]) -> RmaEvent:
    """One row of the RMA's timeline for an exchange step."""
    return RmaEvent.objects.create(
        rma=rma,
        type=type_,
        payload=payload,
        actor_kind=actor.kind,
        actor_ref=actor.id,
        actor_user_id=actor.user_id,
        at=clock.now(),
    )


def exchange_transition(exchange: Exchange, to: str, *, actor: Actor, reason: str = "") -> str:
    """Move an exchange through EXCHANGE_TRANSITIONS (the caller holds its row lock); returns the old
    status. Raises Conflict for a move the table refuses."""
    old = exchange.status
    check_exchange_transition(old, to)
    exchange.status = to
    exchange.save(update_fields=["status", "updated_at"])
    return old


def check_exchange_lines(lines: object) -> list[ExchangeLine]:
    """The requested lines, shape-checked: ValidationFailed naming the field (lines[i].quantity...)."""
    if not isinstance(lines, list | tuple) or not lines:
        raise ValidationFailed(_("at least one line is needed"), field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(_("at most %(max)d lines") % {"max": MAX_LINES}, field="lines")
    clean = []
    for i, line in enumerate(lines):
        if not isinstance(line, Mapping):
            raise ValidationFailed(_("each line is an object"), field=f"lines[{i}]")
        unknown = sorted(set(line) - {"sku", "quantity", "replaces_order_line_id"})
        if unknown:
            raise ValidationFailed(_("unknown field"), field=f"lines[{i}].{unknown[0]}")
        sku = check_text(line.get("sku", ""), field=f"lines[{i}].sku", max_length=80, required=True, one_line=True)
        quantity = line.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0 or quantity > 10_000:
            raise ValidationFailed(_("the quantity must be a whole number from 1"), field=f"lines[{i}].quantity")
        order_line_id = parse_id(line.get("replaces_order_line_id"), field=f"lines[{i}].replaces_order_line_id")
        clean.append(ExchangeLine(sku.strip(), quantity, order_line_id))
    return clean


def _check_against_rma(organization_id: int, rma: Rma, lines: Sequence[ExchangeLine]) -> dict[str, Product]:
    """Replacement SKUs are the organization's products; each replaced order line is returned by the
    RMA, at least in the quantity exchanged (summed over lines). Returns the products by SKU."""
    products = {
        p.sku: p for p in Product.objects.filter(organization_id=organization_id, sku__in={x.sku for x in lines})
    }
    returned: dict[int, int] = {}
    for order_line_id, quantity in rma.lines.values_list("order_line_id", "quantity"):
        returned[order_line_id] = returned.get(order_line_id, 0) + quantity
    asked: dict[int, int] = {}
    for i, line in enumerate(lines):
        if line.sku not in products:
            raise ValidationFailed(_("unknown SKU %(sku)r") % {"sku": line.sku}, field=f"lines[{i}].sku")
        if line.replaces_order_line_id not in returned:
            raise ValidationFailed(
                _("the RMA does not return this order line"), field=f"lines[{i}].replaces_order_line_id"
            )
        asked[line.replaces_order_line_id] = asked.get(line.replaces_order_line_id, 0) + line.quantity
        if asked[line.replaces_order_line_id] > returned[line.replaces_order_line_id]:
            raise ValidationFailed(
                _("%(asked)d asked but the RMA returns %(returned)d of this order line")
                % {"asked": asked[line.replaces_order_line_id], "returned": returned[line.replaces_order_line_id]},
                field=f"lines[{i}].quantity",
            )
    return products


def _needed(lines: Sequence[ExchangeLine]) -> dict[str, int]:
    needed: dict[str, int] = {}
    for line in lines:
        needed[line.sku] = needed.get(line.sku, 0) + line.quantity
    return needed


def exchange_create(
    *, user: User | Automation, rma_id: int, lines: Sequence[Mapping[str, Any]], warehouse_id: int | None = None
) -> ExchangeResult:
    """Set up the exchange of an RMA (PROCESS permission, or an Automation: a rule; see the module
    docstring). Locks the RMA row, then the stock rows. A repeated request while an exchange is
    reserved or shipped returns it unchanged; an out-of-stock one is tried again; after a
    cancellation a new attempt is made.
    Raises ValidationFailed naming the field (lines[i].sku, lines[i].quantity, warehouse_id...),
    NotFound (RMA or warehouse not the user's), Conflict (RMA not approved for an exchange)."""
    if not isinstance(user, Automation):
        check_perm(user, Permission.PROCESS)
    organization_id = organization_of(user)
    rma_id = parse_id(rma_id, field="rma_id")
    clean = check_exchange_lines(list(lines) if isinstance(lines, list | tuple) else lines)
    if warehouse_id is not None:
        warehouse_id = parse_id(warehouse_id, field="warehouse_id")
    actor = actor_of(user)
    with transaction.atomic():
        rma = check_rma_visible(
            user,
            Rma.objects.select_for_update(of=("self",))
            .select_related("order", "ticket")
            .filter(pk=rma_id, organization_id=organization_id)
            .first(),
        )
        if (
            warehouse_id is not None
            and not Warehouse.objects.filter(pk=warehouse_id, organization_id=organization_id, is_active=True).exists()
        ):
            raise ValidationFailed(_("unknown or inactive warehouse"), field="warehouse_id")
        previous = list(Exchange.objects.select_for_update().filter(rma=rma).order_by("id"))
        open_ = next((x for x in previous if x.status in OPEN_EXCHANGE), None)
        if open_ is not None:
            return ExchangeResult(open_, False, False, (), _("This RMA already has an exchange."))
        if rma.resolution != RmaResolution.EXCHANGE or rma.status not in EXCHANGE_RMA_STATUSES:
            raise Conflict(
                _("An exchange needs an RMA approved with the exchange resolution (this one is %(status)s).")
                % {"status": rma.get_status_display()},
                field="rma_id",
            )
        products = _check_against_rma(organization_id, rma, clean)
        needed = _needed(clean)
        stored_lines = [
            {"sku": x.sku, "quantity": x.quantity, "replaces_order_line_id": x.replaces_order_line_id} for x in clean
        ]
        retry = next((x for x in previous if x.status == ExchangeStatus.OUT_OF_STOCK), None)
        attempt = len(previous) + (0 if retry else 1)
        warehouse, shortages = stock_pick_warehouse(organization_id, needed, warehouse_id)
        if warehouse is not None:
            try:
                with transaction.atomic():  # a savepoint: losing a race for the last unit is "out of stock"
                    exchange = _reserve(
                        rma, retry, attempt, warehouse, clean, stored_lines, needed, products, organization_id, actor
                    )
                    return _created(rma, exchange, actor)
            except DomainError as error:
                if error.code != "out_of_stock":
                    raise
                # Another reservation took the stock between the read and the lock.
                _none, shortages = stock_pick_warehouse(organization_id, needed, warehouse.pk)
                if retry is not None:
                    retry.refresh_from_db()
        if retry is not None:
            retry.lines = stored_lines
            retry.save(update_fields=["lines", "updated_at"])
            exchange = retry
        else:
            exchange = Exchange.objects.create(
                organization_id=organization_id,
                rma=rma,
                status=ExchangeStatus.OUT_OF_STOCK,
                lines=stored_lines,
                idempotency_key=_key(rma, attempt),
            )
        message = out_of_stock_message(shortages)
        _rma_event(
            rma,
            "exchange_out_of_stock",
            actor,
            {
                "exchange_id": exchange.pk,
                "lines": stored_lines,
                "shortages": [{"sku": s.sku, "requested": s.requested, "available": s.available} for s in shortages],
            },
        )
        publish(
            ExchangeCreated(
                exchange_id=exchange.pk,
                organization_id=organization_id,
                rma_id=rma.pk,
                status=exchange.status,
                warehouse_id=None,
                replacement_order_id=None,
                actor=actor,
            )
        )
        return ExchangeResult(exchange, True, True, shortages, message)


def _key(rma: Rma, attempt: int) -> str:
    return f"rma:{rma.pk}:exchange" if attempt <= 1 else f"rma:{rma.pk}:exchange:{attempt}"


def _reserve(
    rma: Rma,
    retry: Exchange | None,
    attempt: int,
    warehouse: Warehouse,
    lines: Sequence[ExchangeLine],
    stored_lines: list[dict[str, Any]],
    needed: dict[str, int],
    products: dict[str, Product],
    organization_id: int,
    actor: Actor,
) -> Exchange:
    source = rma.order
    order = Order.objects.create(
        organization_id=organization_id,
        store_id=rma.store_id,
        external_id=f"EXC-{rma.number}-{attempt}",
        customer_id=source.customer_id,
        placed_at=clock.now(),
        status="pending",
        total_amount=Decimal("0"),
        currency=source.currency,
        ship_country=source.ship_country,
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product=products[line.sku],
                sku=line.sku,
                title=products[line.sku].title,
                quantity=line.quantity,
                unit_price_amount=Decimal("0"),
                currency=source.currency,
            )
            for line in lines
        ]
    )
    if retry is not None:
        exchange = retry
        exchange.lines = stored_lines
        exchange.warehouse = warehouse
        exchange.replacement_order = order
        exchange.save(update_fields=["lines", "warehouse", "replacement_order", "updated_at"])
        exchange_transition(exchange, ExchangeStatus.RESERVED, actor=actor)
    else:
        exchange = Exchange.objects.create(
            organization_id=organization_id,
            rma=rma,
            replacement_order=order,
            warehouse=warehouse,
            status=ExchangeStatus.RESERVED,
            lines=stored_lines,
            idempotency_key=_key(rma, attempt),
        )
    stock_move_many(
        organization_id=organization_id,
        moves=[
            Move(warehouse.pk, sku, MovementKind.RESERVE, q, f"exchange:{exchange.pk}:reserve:{sku}")
            for sku, q in sorted(needed.items())
        ],
        reference=f"exchange:{exchange.pk}",
        actor=actor,
    )
    return exchange


def _created(rma: Rma, exchange: Exchange, actor: Actor) -> ExchangeResult:
    assert exchange.warehouse_id is not None and exchange.replacement_order_id is not None
    _rma_event(
        rma,
        "exchange_created",
        actor,
        {
            "exchange_id": exchange.pk,
            "warehouse_id": exchange.warehouse_id,
            "replacement_order_id": exchange.replacement_order_id,
            "lines": exchange.lines,
        },
    )
    publish(
        ExchangeCreated(
            exchange_id=exchange.pk,
            organization_id=exchange.organization_id,
            rma_id=rma.pk,
            status=exchange.status,
            warehouse_id=exchange.warehouse_id,
            replacement_order_id=exchange.replacement_order_id,
            actor=actor,
        )
    )
    return ExchangeResult(exchange, True, False, (), _("Stock reserved and replacement order created."))


def _locked_exchange(user: User, exchange_id: int) -> tuple[Exchange, Rma]:
    organization_id = organization_of(user)
    exchange_id = parse_id(exchange_id, field="exchange_id")
    exchange = (
        Exchange.objects.select_for_update(of=("self",))
        .select_related("rma", "rma__ticket")
        .filter(pk=exchange_id, organization_id=organization_id)
        .first()
    )
    if exchange is None:
        raise NotFound(_("exchange not found"), field="exchange_id")
    try:
        check_rma_visible(user, exchange.rma)
    except NotFound:
        raise NotFound(_("exchange not found"), field="exchange_id") from None
    return exchange, exchange.rma


def _moves(exchange: Exchange, kind: str) -> list[Move]:
    assert exchange.warehouse_id is not None
    needed: dict[str, int] = {}
    for line in exchange.lines:
        needed[line["sku"]] = needed.get(line["sku"], 0) + int(line["quantity"])
    return [
        Move(exchange.warehouse_id, sku, kind, q, f"exchange:{exchange.pk}:{kind}:{sku}")
        for sku, q in sorted(needed.items())
    ]


def exchange_ship(*, user: User, exchange_id: int, tracking_number: str = "", carrier: str = "") -> Exchange:
    """The replacement left the warehouse: its reservation becomes a ship movement (on hand and
    reserved both go down); a tracking number, when given, is recorded as the replacement order's
    shipment. PROCESS permission; locks the exchange row, then the stock rows."""
    check_perm(user, Permission.PROCESS)
    tracking_number = check_text(tracking_number, field="tracking_number", max_length=MAX_TRACKING, one_line=True)
    tracking_number = tracking_number.strip()
    carrier = check_text(carrier, field="carrier", max_length=80, one_line=True).strip()
    actor = Actor.user(user)
    with transaction.atomic():
        exchange, rma = _locked_exchange(user, exchange_id)
        old = exchange_transition(exchange, ExchangeStatus.SHIPPED, actor=actor)
        assert exchange.warehouse_id is not None and exchange.replacement_order_id is not None
        stock_move_many(
            organization_id=exchange.organization_id,
            moves=_moves(exchange, MovementKind.SHIP),
            reference=f"exchange:{exchange.pk}",
            actor=actor,
        )
        now = clock.now()
        if tracking_number:
            Shipment.objects.create(
                order_id=exchange.replacement_order_id,
                carrier=carrier,
                tracking_number=tracking_number,
                shipped_at=now,
            )
        _rma_event(
            rma,
            "exchange_shipped",
            actor,
            {"exchange_id": exchange.pk, "old_status": old, "tracking_number": tracking_number, "carrier": carrier},
        )
        publish(
            ExchangeShipped(
                exchange_id=exchange.pk,
                organization_id=exchange.organization_id,
                rma_id=rma.pk,
                warehouse_id=exchange.warehouse_id,
                replacement_order_id=exchange.replacement_order_id,
                tracking_number=tracking_number,
                actor=actor,
            )
        )
        return exchange


def exchange_cancel(*, user: User, exchange_id: int, reason: str = "") -> Exchange:
    """Cancel an exchange that has not shipped: its reservation is released and its replacement order
    marked cancelled. PROCESS permission; locks the exchange row, then the stock rows."""
    check_perm(user, Permission.PROCESS)
    reason = check_text(reason, field="reason", max_length=500).strip()
    actor = Actor.user(user)
    with transaction.atomic():
        exchange, rma = _locked_exchange(user, exchange_id)
        old = exchange_transition(exchange, ExchangeStatus.CANCELLED, actor=actor, reason=reason)
        if old == ExchangeStatus.RESERVED:
            stock_move_many(
                organization_id=exchange.organization_id,
                moves=_moves(exchange, MovementKind.RELEASE),
                reference=f"exchange:{exchange.pk}",
                actor=actor,
            )
        if exchange.replacement_order_id is not None:
            order = Order.objects.select_for_update().get(pk=exchange.replacement_order_id)
            old_order_status, order.status = order.status, "cancelled"
            order.save(update_fields=["status", "updated_at"])
            order_status_changes_record([(order.pk, old_order_status, order.status, None)])
        _rma_event(rma, "exchange_cancelled", actor, {"exchange_id": exchange.pk, "old_status": old, "reason": reason})
        publish(
            ExchangeCancelled(
                exchange_id=exchange.pk,
                organization_id=exchange.organization_id,
                rma_id=rma.pk,
                old_status=old,
                reason=reason,
                actor=actor,
            )
        )
        return exchange
