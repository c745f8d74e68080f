"""Writes of the inventory app: stock movements (the append-only ledger) and warehouses.

Every change of stock is one `InventoryMovement` row appended in the same transaction that updates
the (warehouse, SKU) `StockLevel` row, which is locked first (`select_for_update`); several rows are
locked in (warehouse id, SKU) order so two multi-line movements cannot deadlock. A movement's deltas
come from its kind (docs/inventory.md):

    receive, restock     on hand + q
    adjust               on hand + q (q may be negative: a count correction)
    reserve              reserved + q        refused (Conflict) when available < q
    release              reserved - q        refused when reserved < q
    ship                 on hand - q, reserved - q   (ships a reservation; refused when reserved < q)
    refurbish, write_off a returned unit that failed inspection: it is received (+q, its own ledger
                         row, key "<key>:received") and leaves at once (-q): on hand is unchanged and the
                         ledger shows the unit. With `from_stock=True` they take units out of stock
                         instead (on hand - q, refused when available < q).

available = on hand - reserved never goes below zero (checked here and by database constraints).
Movements are idempotent by (organization, idempotency_key): the same key returns the stored
movement and changes nothing; the same key for a different movement is a Conflict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django_countries import countries

from aftersales.accounts.permissions import Permission, check_perm, organization_of
from aftersales.catalog.models import Product
from aftersales.core import clock
from aftersales.core.actors import Actor
from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.core.validation import check_text

from .models import InventoryMovement, MovementKind, StockLevel, Warehouse

if TYPE_CHECKING:
    from aftersales.accounts.models import User

MAX_QUANTITY = 1_000_000  # one movement; keeps running totals far from the 32-bit column limit
MAX_TOTAL = 2**31 - 1
MAX_SKU = 80
MAX_KEY = 120
MAX_REFERENCE = 80
MAX_NOTE = 200

K = MovementKind
RETURN_DISPOSITIONS = frozenset({K.REFURBISH, K.WRITE_OFF})
RECEIVED_SUFFIX = ":received"


@dataclass(frozen=True)
class Move:
    """One movement of a `stock_move_many` call."""

    warehouse_id: int
    sku: str
    kind: str
    quantity: int
    idempotency_key: str
    note: str = ""
    from_stock: bool = False


def _deltas(kind: str, quantity: int, *, from_stock: bool) -> tuple[int, int]:
    """(on hand delta, reserved delta) of one movement."""
    if kind in (K.RECEIVE, K.RESTOCK, K.ADJUST):
        return quantity, 0
    if kind == K.RESERVE:
        return 0, quantity
    if kind == K.RELEASE:
        return 0, -quantity
    if kind == K.SHIP:
        return -quantity, -quantity
    if kind in RETURN_DISPOSITIONS:
        return -quantity, 0  # a returned unit is received first (see `_apply`) unless from stock
    raise ValidationFailed(_("unknown movement kind %(kind)r") % {"kind": kind}, field="kind")


def check_move(move: Move) -> Move:
    """The movement's fields checked and normalised; ValidationFailed naming the field."""
    if move.kind not in K.values:
        raise ValidationFailed(
            _("unknown movement kind %(kind)r; expected one of %(choices)s")
            % {"kind": str(move.kind)[:20], "choices": ", ".join(K.values)},
            field="kind",
        )
    if isinstance(move.warehouse_id, bool) or not isinstance(move.warehouse_id, int) or move.warehouse_id <= 0:
        raise ValidationFailed(_("must be a positive whole number"), field="warehouse_id")
    sku = check_text(move.sku, field="sku", max_length=MAX_SKU, required=True, one_line=True).strip()
    quantity = move.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ValidationFailed(_("the quantity must be a whole number"), field="quantity")
    if move.kind == K.ADJUST:
        if quantity == 0 or abs(quantity) > MAX_QUANTITY:
            raise ValidationFailed(
                _("an adjustment is a non-zero whole number between -%(max)d and %(max)d") % {"max": MAX_QUANTITY},
                field="quantity",
            )
    elif quantity <= 0 or quantity > MAX_QUANTITY:
        raise ValidationFailed(
            _("the quantity must be between 1 and %(max)d") % {"max": MAX_QUANTITY}, field="quantity"
        )
    key = check_text(move.idempotency_key, field="idempotency_key", max_length=MAX_KEY, required=True, one_line=True)
    note = check_text(move.note, field="note", max_length=MAX_NOTE, one_line=True)
    if move.kind in RETURN_DISPOSITIONS and not move.from_stock and len(key) > MAX_KEY - len(RECEIVED_SUFFIX):
        raise ValidationFailed(
            _("%(field)s is longer than %(limit)d characters")
            % {"field": "idempotency_key", "limit": MAX_KEY - len(RECEIVED_SUFFIX)},
            field="idempotency_key",
        )
    if move.from_stock and move.kind not in RETURN_DISPOSITIONS:
        raise ValidationFailed(_("only refurbish and write-off can take units from stock"), field="from_stock")
    return Move(move.warehouse_id, sku, move.kind, quantity, key, note, move.from_stock)


def stock_move(
    *,
    organization_id: int,
    warehouse_id: int,
    sku: str,
    kind: str,
    quantity: int,
    reference: str,
    idempotency_key: str,
    actor: Actor,
    note: str = "",
    from_stock: bool = False,
) -> InventoryMovement:
    """Append one movement and update the stock level, atomically (see the module docstring for the
    kinds). Raises ValidationFailed (bad field), NotFound (warehouse of another organization or
    unknown), Conflict (not enough available / reserved stock, or the key reused for another movement)."""
    move = Move(warehouse_id, sku, kind, quantity, idempotency_key, note, from_stock)
    return stock_move_many(organization_id=organization_id, moves=[move], reference=reference, actor=actor)[0]


def stock_move_many(
    *, organization_id: int, moves: Sequence[Move], reference: str, actor: Actor
) -> list[InventoryMovement]:
    """Several movements in one transaction (an exchange of several lines): all or none. The stock
    rows are locked in (warehouse id, SKU) order before any is changed. Returns the movements in the
    order of `moves`."""
    if not moves:
        raise ValidationFailed(_("at least one movement is needed"), field="moves")
    clean = [check_move(m) for m in moves]
    keys = [m.idempotency_key for m in clean]
    if len(set(keys)) != len(keys):
        raise ValidationFailed(_("each movement needs its own idempotency key"), field="idempotency_key")
    reference = check_text(reference, field="reference", max_length=MAX_REFERENCE, one_line=True)
    warehouse_ids = {m.warehouse_id for m in clean}
    with transaction.atomic():
        found = set(
            Warehouse.objects.filter(pk__in=warehouse_ids, organization_id=organization_id).values_list("pk", flat=True)
        )
        if found != warehouse_ids:
            raise NotFound(_("warehouse not found"), field="warehouse_id")
        levels = _lock_levels(organization_id, sorted({(m.warehouse_id, m.sku) for m in clean}))
        existing = {
            mv.idempotency_key: mv
            for mv in InventoryMovement.objects.filter(organization_id=organization_id, idempotency_key__in=keys)
        }
        out = []
        for move in clean:
            if move.idempotency_key in existing:
                out.append(_same_movement(existing[move.idempotency_key], move))
                continue
            out.append(_apply(organization_id, levels[(move.warehouse_id, move.sku)], move, reference, actor))
        for level in levels.values():
            level.save(update_fields=["on_hand", "reserved"])
        return out


def _lock_levels(organization_id: int, pairs: list[tuple[int, str]]) -> dict[tuple[int, str], StockLevel]:
    """Get or create each (warehouse, SKU) stock row, then lock them in the given (sorted) order."""
    for warehouse_id, sku in pairs:
        if not StockLevel.objects.filter(warehouse_id=warehouse_id, sku=sku).exists():
            try:
                with transaction.atomic():  # a savepoint: a concurrent creation is not an error
                    StockLevel.objects.create(organization_id=organization_id, warehouse_id=warehouse_id, sku=sku)
            except IntegrityError:
                pass
    levels = {}
    for warehouse_id, sku in pairs:  # one by one, in order: the lock order is the sort order
        levels[(warehouse_id, sku)] = StockLevel.objects.select_for_update().get(warehouse_id=warehouse_id, sku=sku)
    return levels


def _same_movement(stored: InventoryMovement, move: Move) -> InventoryMovement:
    if (stored.warehouse_id, stored.sku, stored.kind) != (move.warehouse_id, move.sku, move.kind):
        raise Conflict(
            _("the idempotency key %(key)r was used for another movement") % {"key": move.idempotency_key},
            field="idempotency_key",
        )
    return stored


def _apply(organization_id: int, level: StockLevel, move: Move, reference: str, actor: Actor) -> InventoryMovement:
    q = move.quantity
    available = level.on_hand - level.reserved
    on_hand_delta, reserved_delta = _deltas(move.kind, q, from_stock=move.from_stock)
    if move.kind == K.RESERVE and available < q:
        raise Conflict(
            _("only %(available)d of %(sku)s available, %(quantity)d asked")
            % {"available": available, "sku": move.sku, "quantity": q},
            field="quantity",
            code="out_of_stock",
        )
    if move.kind in (K.RELEASE, K.SHIP) and level.reserved < q:
        raise Conflict(
            _("only %(reserved)d of %(sku)s reserved, %(quantity)d asked")
            % {"reserved": level.reserved, "sku": move.sku, "quantity": q},
            field="quantity",
        )
    taken_from_stock = (move.kind == K.ADJUST and q < 0) or (move.kind in RETURN_DISPOSITIONS and move.from_stock)
    if taken_from_stock and available < abs(q):
        raise Conflict(
            _("only %(available)d of %(sku)s available, %(quantity)d to remove")
            % {"available": available, "sku": move.sku, "quantity": abs(q)},
            field="quantity",
            code="out_of_stock",
        )
    if level.on_hand + max(on_hand_delta, 0) > MAX_TOTAL or level.reserved + max(reserved_delta, 0) > MAX_TOTAL:
        raise ValidationFailed(_("the quantity would overflow the stock total"), field="quantity")
    now = clock.now()
    common = {
        "organization_id": organization_id,
        "warehouse_id": move.warehouse_id,
        "sku": move.sku,
        "reference": reference,
        "actor_kind": actor.kind,
        "actor_ref": actor.id,
        "at": now,
    }
    if move.kind in RETURN_DISPOSITIONS and not move.from_stock:
        # The returned unit enters the ledger (received for inspection) and leaves it at once.
        InventoryMovement.objects.create(
            kind=K.RECEIVE,
            on_hand_delta=q,
            reserved_delta=0,
            idempotency_key=move.idempotency_key + RECEIVED_SUFFIX,
            note=_("returned unit received for inspection"),
            **common,
        )
        level.on_hand += q
    movement = InventoryMovement.objects.create(
        kind=move.kind,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        idempotency_key=move.idempotency_key,
        note=move.note,
        **common,
    )
    level.on_hand += on_hand_delta
    level.reserved += reserved_delta
    return movement


# --- the ledger against the running totals -------------------------------------------------------


@dataclass(frozen=True)
class StockMismatch:
    warehouse_id: int
    sku: str
    stored_on_hand: int
    stored_reserved: int
    ledger_on_hand: int
    ledger_reserved: int


def stock_rebuild(*, organization_id: int | None = None, fix: bool = False) -> list[StockMismatch]:
    """Recompute every stock level from the ledger; return the rows that disagree (and, with `fix`,
    overwrite them with the ledger's sums, creating missing rows). Locks the stock rows it reads."""
    movements = InventoryMovement.objects.all()
    levels = StockLevel.objects.all()
    if organization_id is not None:
        movements = movements.filter(organization_id=organization_id)
        levels = levels.filter(organization_id=organization_id)
    with transaction.atomic():
        stored = {(s.warehouse_id, s.sku): s for s in levels.select_for_update().order_by("warehouse_id", "sku")}
        sums = {
            (row["warehouse_id"], row["sku"]): (row["organization_id"], row["on_hand"] or 0, row["reserved"] or 0)
            for row in movements.values("organization_id", "warehouse_id", "sku").annotate(
                on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
            )
        }
        mismatches = []
        for pair in sorted(set(stored) | set(sums)):
            level = stored.get(pair)
            org, on_hand, reserved = sums.get(pair, (level.organization_id if level else 0, 0, 0))
            current = (level.on_hand, level.reserved) if level else (0, 0)
            if current == (on_hand, reserved):
                continue
            mismatches.append(StockMismatch(pair[0], pair[1], current[0], current[1], on_hand, reserved))
            if fix and level is not None:
                level.on_hand, level.reserved = on_hand, reserved
                level.save(update_fields=["on_hand", "reserved"])
            elif fix:
                StockLevel.objects.create(
                    organization_id=org, warehouse_id=pair[0], sku=pair[1], on_hand=on_hand, reserved=reserved
                )
        return mismatches


# --- warehouses (administrators) ----------------------------------------------------------------

WAREHOUSE_TEXT_FIELDS: dict[str, int] = {
    "code": 20,
    "name": 120,
    "contact_name": 120,
    "address_line1": 200,
    "address_line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "phone": 40,
}
WAREHOUSE_FIELDS = (*WAREHOUSE_TEXT_FIELDS, "country", "is_return_hub", "is_active", "serves_countries")
MAX_SERVED_COUNTRIES = 250


def _country(value: Any, *, field: str) -> str:
    text = check_text(value, field=field, max_length=10, one_line=True).strip().upper()
    if text and text not in countries:
        raise ValidationFailed(
            _("unknown country %(value)r; use an ISO 3166 code such as DE") % {"value": text[:10]}, field=field
        )
    return text


def check_warehouse_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The given warehouse fields checked and normalised (unknown fields refused)."""
    unknown = sorted(set(values) - set(WAREHOUSE_FIELDS))
    if unknown:
        raise ValidationFailed(_("unknown field"), field=unknown[0])
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name in WAREHOUSE_TEXT_FIELDS:
            text = " ".join(
                check_text(value, field=name, max_length=WAREHOUSE_TEXT_FIELDS[name], one_line=True).split()
            )
            if name in ("code", "name") and not text:
                raise ValidationFailed(_("%(field)s must not be empty") % {"field": name}, field=name)
            if name == "code":
                if " " in text:
                    raise ValidationFailed(_("the code has no spaces"), field=name)
                text = text.upper()
            clean[name] = text
        elif name in ("is_return_hub", "is_active"):
            if not isinstance(value, bool):
                raise ValidationFailed(_("must be true or false"), field=name)
            clean[name] = value
        elif name == "country":
            clean[name] = _country(value, field=name)
        elif name == "serves_countries":
            if isinstance(value, str):
                value = [part for part in value.replace(";", ",").replace(" ", ",").split(",") if part]
            if not isinstance(value, list | tuple) or len(value) > MAX_SERVED_COUNTRIES:
                raise ValidationFailed(_("a list of ISO 3166 country codes"), field=name)
            codes = [_country(code, field=name) for code in value]
            clean[name] = sorted({c for c in codes if c})
    return clean


def _code_taken(code: str) -> Conflict:
    return Conflict(_("another warehouse has the code %(code)r") % {"code": code}, field="code")


def warehouse_create(*, user: User, values: Mapping[str, Any]) -> Warehouse:
    """Add a warehouse or return hub to the administrator's organization (`values`: WAREHOUSE_FIELDS;
    code and name required)."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    clean = check_warehouse_values(values)
    for required in ("code", "name"):
        if required not in clean:
            raise ValidationFailed(_("%(field)s must not be empty") % {"field": required}, field=required)
    try:
        with transaction.atomic():
            if Warehouse.objects.filter(organization_id=organization_id, code=clean["code"]).exists():
                raise _code_taken(clean["code"])
            return Warehouse.objects.create(organization_id=organization_id, **clean)
    except IntegrityError:
        raise _code_taken(clean["code"]) from None


def warehouse_update(*, user: User, warehouse_id: int, changes: Mapping[str, Any]) -> Warehouse:
    """Change some fields of one of the organization's warehouses (deactivate with is_active False:
    its ledger stays). Locks the warehouse row."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    clean = check_warehouse_values(changes)
    try:
        with transaction.atomic():
            warehouse = (
                Warehouse.objects.select_for_update().filter(pk=warehouse_id, organization_id=organization_id).first()
            )
            if warehouse is None:
                raise NotFound(_("warehouse not found"), field="warehouse_id")
            if (
                "code" in clean
                and Warehouse.objects.filter(organization_id=organization_id, code=clean["code"])
                .exclude(pk=warehouse.pk)
                .exists()
            ):
                raise _code_taken(clean["code"])
            for name, value in clean.items():
                setattr(warehouse, name, value)
            if clean:
                warehouse.save(update_fields=[*clean, "updated_at"])
            return warehouse
    except IntegrityError:
        raise _code_taken(str(clean.get("code", ""))) from None


# --- people moving stock by hand (API / UI) --------------------------------------------------------

MANUAL_KINDS = (K.RECEIVE, K.ADJUST)


def stock_record(
    *, user: User, warehouse_id: int, sku: str, kind: str, quantity: int, idempotency_key: str, note: str = ""
) -> InventoryMovement:
    """A person records goods received or a count adjustment (PROCESS: warehouse staff). The SKU must
    be one of the organization's products."""
    check_perm(user, Permission.PROCESS)
    organization_id = organization_of(user)
    if kind not in MANUAL_KINDS:
        raise ValidationFailed(
            _("only %(kinds)s can be recorded by hand") % {"kinds": ", ".join(MANUAL_KINDS)}, field="kind"
        )
    move = check_move(Move(warehouse_id, sku, kind, quantity, idempotency_key, note))
    if not Warehouse.objects.filter(pk=move.warehouse_id, organization_id=organization_id).exists():
        raise ValidationFailed(_("unknown warehouse"), field="warehouse_id")
    if not Product.objects.filter(organization_id=organization_id, sku=move.sku).exists():
        raise ValidationFailed(_("unknown SKU %(sku)r") % {"sku": move.sku}, field="sku")
    return stock_move_many(
        organization_id=organization_id, moves=[move], reference=f"user:{user.pk}", actor=Actor.user(user)
    )[0]
