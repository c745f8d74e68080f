"""Two agents at once on PostgreSQL (threads, each with its own connection): one open claim per unit
(the unit row is locked), one replacement per claim, one move per repair step (the claim and repair
rows are locked, and the second request sees the first one's status)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from aftersales.core.errors import Conflict
from aftersales.warranty.models import RepairOrder, RepairOrderEvent, ReplacementRequest, WarrantyClaim
from aftersales.warranty.services import (
    UnitInput,
    claim_change_status,
    claim_open,
    claim_resolve,
    repair_advance,
    units_register,
)

from .conftest import VALID_IMEI, make_phone_line

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
]
AT = datetime(2026, 6, 1, tzinfo=UTC)


def _twice(work) -> list[object]:
    barrier = threading.Barrier(2)
    results: list[object] = []

    def run(n: int) -> None:
        from django.db import connections

        try:
            barrier.wait()
            results.append(work(n))
        except Exception as exc:
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def _approved_claim(world) -> WarrantyClaim:
    stock = make_phone_line(world, quantity=1)
    unit = units_register(user=world.agent, rows=[UnitInput(imei=VALID_IMEI, order_line_id=stock.line.pk)])[0]
    claim = claim_open(user=world.agent, unit_id=unit.pk, problem="p", claimed_at=AT)
    claim_change_status(user=world.agent, claim_id=claim.pk, status="under_review")
    claim_change_status(user=world.approver, claim_id=claim.pk, status="approved")
    return claim


def test_one_open_claim_per_unit(world):
    stock = make_phone_line(world, quantity=1)
    unit = units_register(user=world.agent, rows=[UnitInput(imei=VALID_IMEI, order_line_id=stock.line.pk)])[0]
    users = [world.agent, world.teammate]
    results = _twice(lambda n: claim_open(user=users[n], unit_id=unit.pk, problem=f"p{n}", claimed_at=AT))
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "WarrantyClaim"], results
    assert WarrantyClaim.objects.filter(unit=unit).count() == 1


def test_one_resolution_per_claim(world):
    claim = _approved_claim(world)
    kinds = ["replacement", "replacement"]
    results = _twice(lambda n: claim_resolve(user=world.agent, claim_id=claim.pk, resolution=kinds[n]))
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert ReplacementRequest.objects.filter(claim=claim).count() == 1


def test_one_move_per_repair_step(world):
    claim = _approved_claim(world)
    repair = claim_resolve(user=world.agent, claim_id=claim.pk, resolution="repair").repair_order
    results = _twice(lambda n: repair_advance(user=world.agent, repair_id=repair.pk, status="received"))
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert RepairOrder.objects.get(pk=repair.pk).status == "received"
    assert RepairOrderEvent.objects.filter(repair_order=repair, type="status_changed").count() == 1
