"""Reads of the inventory app, always within one organization: stock per warehouse, a SKU's ledger,
warehouses. Stock figures come from the `StockLevel` running totals (equal to the ledger's sums:
`inventory.services.stock_rebuild` checks it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from aftersales.accounts.permissions import Permission, check_perm, organization_of
from aftersales.catalog.models import Product
from aftersales.core.errors import NotFound

from .models import InventoryMovement, StockLevel, Warehouse


@dataclass(frozen=True)
class StockRow:
    """One SKU in one warehouse. available = on hand - reserved (never negative)."""

    warehouse_id: int
    warehouse_code: str
    warehouse_name: str
    is_return_hub: bool
    is_active: bool
    sku: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def stock_of(organization_id: int, sku: str, warehouse_id: int | None = None) -> list[StockRow]:
    """The SKU's stock in each warehouse of the organization (active warehouses without stock show
    zeros), or in the one given (NotFound when it is not the organization's). Ordered by code."""
    warehouses = Warehouse.objects.filter(organization_id=organization_id)
    if warehouse_id is not None:
        warehouses = warehouses.filter(pk=warehouse_id)
        if not warehouses.exists():
            raise NotFound(_("warehouse not found"), field="warehouse_id")
    levels = {
        level.warehouse_id: level
        for level in StockLevel.objects.filter(organization_id=organization_id, sku=sku, warehouse__in=warehouses)
    }
    rows = []
    for warehouse in warehouses.order_by("code"):
        level = levels.get(warehouse.pk)
        if level is None and not warehouse.is_active and warehouse_id is None:
            continue
        rows.append(
            StockRow(
                warehouse_id=warehouse.pk,
                warehouse_code=warehouse.code,
                warehouse_name=warehouse.name,
                is_return_hub=warehouse.is_return_hub,
                is_active=warehouse.is_active,
                sku=sku,
                on_hand=level.on_hand if level else 0,
                reserved=level.reserved if level else 0,
            )
        )
    return rows


def available_of(organization_id: int, warehouse_id: int, sku: str) -> int:
    level = StockLevel.objects.filter(organization_id=organization_id, warehouse_id=warehouse_id, sku=sku).first()
    return level.on_hand - level.reserved if level else 0


@dataclass(frozen=True)
class MovementPage:
    items: list[InventoryMovement]
    total: int
    limit: int
    offset: int


def movements_of(
    organization_id: int, sku: str, *, warehouse_id: int | None = None, limit: int = 50, offset: int = 0
) -> MovementPage:
    """The SKU's ledger, newest first, one page."""
    qs = InventoryMovement.objects.filter(organization_id=organization_id, sku=sku).select_related("warehouse")
    if warehouse_id is not None:
        qs = qs.filter(warehouse_id=warehouse_id)
    limit = max(1, min(limit, 200))
    offset = max(0, offset)
    total = qs.count()
    items = list(qs.order_by("-at", "-id")[offset : offset + limit])
    return MovementPage(items=items, total=total, limit=limit, offset=offset)


def warehouses_of(organization_id: int, *, active_only: bool = False) -> QuerySet[Warehouse]:
    qs = Warehouse.objects.filter(organization_id=organization_id)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("code")


def warehouse_of(organization_id: int, warehouse_id: int) -> Warehouse:
    """One of the organization's warehouses; NotFound otherwise (another organization's too)."""
    warehouse = Warehouse.objects.filter(organization_id=organization_id, pk=warehouse_id).first()
    if warehouse is None:
        raise NotFound(_("warehouse not found"), field="warehouse_id")
    return warehouse


def skus_matching(organization_id: int, query: str, *, limit: int = 20) -> list[tuple[str, str]]:
    """(SKU, product title) of the organization's products whose SKU or title contains `query`,
    plus SKUs with stock but no product; at most `limit`, by SKU."""
    query = query.strip()
    if not query:
        return []
    found = dict(
        Product.objects.filter(organization_id=organization_id)
        .filter(Q(sku__icontains=query) | Q(title__icontains=query))
        .order_by("sku")
        .values_list("sku", "title")[:limit]
    )
    for sku in (
        StockLevel.objects.filter(organization_id=organization_id, sku__icontains=query)
        .order_by("sku")
        .values_list("sku", flat=True)
        .distinct()[:limit]
    ):
        found.setdefault(sku, "")
    return sorted(found.items())[:limit]


# --- the same reads for a signed-in person (VIEW permission, their organization) -----------------


def _organization_viewable(user: Any) -> int:
    check_perm(user, Permission.VIEW)
    return organization_of(user)


def stock_view(user: Any, sku: str, warehouse_id: int | None = None) -> list[StockRow]:
    return stock_of(_organization_viewable(user), sku.strip(), warehouse_id)


def movements_view(
    user: Any, sku: str, *, warehouse_id: int | None = None, limit: int = 50, offset: int = 0
) -> MovementPage:
    organization_id = _organization_viewable(user)
    if warehouse_id is not None:
        warehouse_of(organization_id, warehouse_id)
    return movements_of(organization_id, sku.strip(), warehouse_id=warehouse_id, limit=limit, offset=offset)


def warehouses_view(user: Any) -> list[Warehouse]:
    return list(warehouses_of(_organization_viewable(user)))


def warehouse_view(user: Any, warehouse_id: int) -> Warehouse:
    return warehouse_of(_organization_viewable(user), warehouse_id)


# --- where a reservation can come from (exchanges, warranty replacements) ------------------------------


@dataclass(frozen=True)
class Shortage:
    sku: str
    requested: int
    available: int  # the most any one active warehouse has


def stock_pick_warehouse(
    organization_id: int, needed: dict[str, int], warehouse_id: int | None = None
) -> tuple[Warehouse | None, tuple[Shortage, ...]]:
    """The warehouse to reserve `needed` ({sku: quantity}) from: the given one, or the first active one
    by code with every SKU available; or None with the shortages. A read without locks: the
    reservation (inventory.services.stock_move_many) checks again under its locks."""
    candidates = Warehouse.objects.filter(organization_id=organization_id, is_active=True).order_by("code")
    if warehouse_id is not None:
        candidates = candidates.filter(pk=warehouse_id)
    warehouses = list(candidates)
    available: dict[tuple[int, str], int] = {
        (level.warehouse_id, level.sku): level.on_hand - level.reserved
        for level in StockLevel.objects.filter(
            organization_id=organization_id, warehouse__in=[w.pk for w in warehouses], sku__in=list(needed)
        )
    }
    for warehouse in warehouses:
        if all(available.get((warehouse.pk, sku), 0) >= q for sku, q in needed.items()):
            return warehouse, ()
    shortages = tuple(
        Shortage(sku, q, max((available.get((w.pk, sku), 0) for w in warehouses), default=0))
        for sku, q in sorted(needed.items())
    )
    return None, shortages


def out_of_stock_message(shortages: Sequence[Shortage]) -> str:
    """What the agent reads when nothing could be reserved: the shortages, and to offer a refund."""
    detail = ", ".join(
        _("%(sku)s: %(requested)d asked, %(available)d available")
        % {"sku": s.sku, "requested": s.requested, "available": s.available}
        for s in shortages
        if s.available < s.requested
    )
    return _("Out of stock (%(detail)s): offer the customer a refund instead.") % {"detail": detail}
