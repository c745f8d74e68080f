"""Property: whatever sequence of movements is attempted (random kinds, quantities, repeated keys),
available stock never goes negative, reserved never goes negative, every refused movement writes
nothing, and each StockLevel equals the sum of its ledger rows (and a plain model of the rules)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.core.actors import Actor
from aftersales.core.errors import Conflict
from aftersales.inventory.models import InventoryMovement, StockLevel, Warehouse
from aftersales.inventory.services import stock_move, stock_rebuild
from aftersales.testing.factories import OrganizationFactory

KINDS = ["receive", "adjust", "reserve", "release", "ship", "restock", "refurbish", "write_off"]

op = st.fixed_dictionaries(
    {
        "warehouse": st.integers(0, 1),
        "sku": st.sampled_from(["A", "B"]),
        "kind": st.sampled_from(KINDS),
        "quantity": st.integers(1, 6),
        "negative": st.booleans(),  # adjustments down
        "from_stock": st.booleans(),  # refurbish / write-off of units in stock
        "key": st.integers(0, 25),  # a small key space: repeats are retries
    }
)


def model_apply(state: dict, o: dict) -> bool:
    """The rules, plainly: returns whether the movement is allowed; updates `state` when it is."""
    on_hand, reserved = state.get((o["warehouse"], o["sku"]), (0, 0))
    q = o["quantity"]
    kind = o["kind"]
    available = on_hand - reserved
    if kind in ("receive", "restock"):
        on_hand += q
    elif kind == "adjust":
        if o["negative"]:
            if available < q:
                return False
            on_hand -= q
        else:
            on_hand += q
    elif kind == "reserve":
        if available < q:
            return False
        reserved += q
    elif kind == "release":
        if reserved < q:
            return False
        reserved -= q
    elif kind == "ship":
        if reserved < q:
            return False
        on_hand, reserved = on_hand - q, reserved - q
    elif o["from_stock"]:  # refurbish / write_off from stock
        if available < q:
            return False
        on_hand -= q
    # refurbish / write_off of a returned unit: received then gone, on hand unchanged
    state[(o["warehouse"], o["sku"])] = (on_hand, reserved)
    return True


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(ops=st.lists(op, min_size=1, max_size=30))
def test_available_never_negative_and_levels_equal_the_ledger(ops):
    with transaction.atomic():
        org = OrganizationFactory()
        warehouses = [Warehouse.objects.create(organization=org, code=f"W{i}", name=f"W{i}") for i in range(2)]
        state: dict = {}
        used: dict[str, dict] = {}
        for o in ops:
            key = f"k{o['key']}"
            kind = o["kind"]
            quantity = -o["quantity"] if kind == "adjust" and o["negative"] else o["quantity"]
            from_stock = o["from_stock"] and kind in ("refurbish", "write_off")
            before = InventoryMovement.objects.count()
            try:
                stock_move(
                    organization_id=org.pk,
                    warehouse_id=warehouses[o["warehouse"]].pk,
                    sku=o["sku"],
                    kind=kind,
                    quantity=quantity,
                    reference="property",
                    idempotency_key=key,
                    actor=Actor.system("property"),
                    from_stock=from_stock,
                )
                ok = True
            except Conflict:
                ok = False
            if key in used:  # a retry: nothing changes (or a Conflict for another movement)
                assert InventoryMovement.objects.count() == before
                continue
            expected = model_apply(state, {**o, "from_stock": from_stock})
            assert ok == expected, (o, state)
            if ok:
                used[key] = o
            else:
                assert InventoryMovement.objects.count() == before  # a refusal writes nothing
            for level in StockLevel.objects.filter(organization=org):
                assert level.reserved >= 0
                assert level.on_hand - level.reserved >= 0
        for level in StockLevel.objects.filter(organization=org):
            index = 0 if level.warehouse_id == warehouses[0].pk else 1
            assert (level.on_hand, level.reserved) == state.get((index, level.sku), (0, 0))
            sums = InventoryMovement.objects.filter(warehouse=level.warehouse, sku=level.sku).aggregate(
                o=Sum("on_hand_delta"), r=Sum("reserved_delta")
            )
            assert (level.on_hand, level.reserved) == (sums["o"] or 0, sums["r"] or 0)
        assert stock_rebuild(organization_id=org.pk) == []
        transaction.set_rollback(True)
