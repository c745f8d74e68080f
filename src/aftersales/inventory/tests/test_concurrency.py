"""Two reservations racing for the last unit on PostgreSQL (threads, each with its own connection):
exactly one succeeds, the other is refused (out of stock), and the ledger agrees with the level."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from aftersales.core.actors import Actor
from aftersales.core.errors import Conflict
from aftersales.inventory.models import InventoryMovement, StockLevel, Warehouse
from aftersales.inventory.services import Move, stock_move, stock_move_many, stock_rebuild
from aftersales.testing.factories import OrganizationFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
]

SYSTEM = Actor.system("test")


def _race(*works):
    barrier = threading.Barrier(len(works))
    results: list[object] = [None] * len(works)

    def run(i, work) -> None:
        from django.db import connections

        try:
            barrier.wait()
            results[i] = work()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(works)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def _setup(quantity=1):
    org = OrganizationFactory()
    wh = Warehouse.objects.create(organization=org, code="SZ", name="Shenzhen")
    if quantity:
        stock_move(
            organization_id=org.pk,
            warehouse_id=wh.pk,
            sku="LAST",
            kind="receive",
            quantity=quantity,
            reference="t",
            idempotency_key="in",
            actor=SYSTEM,
        )
    return org, wh


@pytest.mark.parametrize("attempt", range(3))
def test_two_reservations_for_the_last_unit_one_wins(attempt):
    org, wh = _setup(1)

    def reserve(key):
        return lambda: stock_move(
            organization_id=org.pk,
            warehouse_id=wh.pk,
            sku="LAST",
            kind="reserve",
            quantity=1,
            reference="t",
            idempotency_key=key,
            actor=SYSTEM,
        )

    results = _race(reserve("a"), reserve("b"))
    wins = [r for r in results if isinstance(r, InventoryMovement)]
    losses = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(losses) == 1, results
    level = StockLevel.objects.get(warehouse=wh, sku="LAST")
    assert (level.on_hand, level.reserved) == (1, 1)
    assert stock_rebuild(organization_id=org.pk) == []


def test_first_movement_of_a_new_sku_from_two_workers():
    """Neither worker finds the stock row: both create it (one wins, the other reuses it)."""
    org, wh = _setup(0)

    def receive(key):
        return lambda: stock_move(
            organization_id=org.pk,
            warehouse_id=wh.pk,
            sku="NEW",
            kind="receive",
            quantity=2,
            reference="t",
            idempotency_key=key,
            actor=SYSTEM,
        )

    results = _race(receive("a"), receive("b"))
    assert all(isinstance(r, InventoryMovement) for r in results), results
    assert StockLevel.objects.get(warehouse=wh, sku="NEW").on_hand == 4


def test_the_same_key_twice_at_once_moves_once():
    org, wh = _setup(3)

    def reserve():
        return stock_move(
            organization_id=org.pk,
            warehouse_id=wh.pk,
            sku="LAST",
            kind="reserve",
            quantity=2,
            reference="t",
            idempotency_key="same",
            actor=SYSTEM,
        )

    results = _race(reserve, reserve)
    assert all(isinstance(r, InventoryMovement) for r in results), results
    assert results[0].pk == results[1].pk  # type: ignore[union-attr]
    assert StockLevel.objects.get(warehouse=wh, sku="LAST").reserved == 2


def test_multi_line_reservations_in_opposite_order_do_not_deadlock():
    org, wh = _setup(0)
    for sku in ("X", "Y"):
        stock_move(
            organization_id=org.pk,
            warehouse_id=wh.pk,
            sku=sku,
            kind="receive",
            quantity=10,
            reference="t",
            idempotency_key=f"in-{sku}",
            actor=SYSTEM,
        )

    def many(order, tag):
        return lambda: stock_move_many(
            organization_id=org.pk,
            moves=[Move(wh.pk, sku, "reserve", 1, f"{tag}-{sku}") for sku in order],
            reference="t",
            actor=SYSTEM,
        )

    results = _race(many(["X", "Y"], "p"), many(["Y", "X"], "q"))
    assert all(isinstance(r, list) for r in results), results
    assert sorted(StockLevel.objects.filter(warehouse=wh).values_list("reserved", flat=True)) == [2, 2]
