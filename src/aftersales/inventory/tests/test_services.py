"""inventory.services: deltas by kind, refusals, idempotency, the ledger against the totals, warehouses."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db.models import Sum

from aftersales.core.actors import Actor
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.inventory.models import InventoryMovement, MovementKind, StockLevel, Warehouse
from aftersales.inventory.selectors import movements_of, stock_of
from aftersales.inventory.services import (
    Move,
    stock_move,
    stock_move_many,
    stock_rebuild,
    stock_record,
    warehouse_create,
    warehouse_update,
)
from aftersales.testing.factories import OrganizationFactory, ProductFactory
from aftersales.testing.personas import build_world

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def wh(world):
    return Warehouse.objects.create(organization=world.org, code="SZ", name="Shenzhen")


def move(world, wh, kind, quantity, key, sku="PHONE-1", **kw):
    return stock_move(
        organization_id=world.org.pk,
        warehouse_id=wh.pk,
        sku=sku,
        kind=kind,
        quantity=quantity,
        reference="test",
        idempotency_key=key,
        actor=SYSTEM,
        **kw,
    )


def level(wh, sku="PHONE-1"):
    row = StockLevel.objects.get(warehouse=wh, sku=sku)
    return row.on_hand, row.reserved


def test_deltas_by_kind(world, wh):
    move(world, wh, "receive", 10, "k1")
    assert level(wh) == (10, 0)
    move(world, wh, "reserve", 3, "k2")
    assert level(wh) == (10, 3)
    move(world, wh, "release", 1, "k3")
    assert level(wh) == (10, 2)
    move(world, wh, "ship", 2, "k4")
    assert level(wh) == (8, 0)
    move(world, wh, "restock", 1, "k5")
    assert level(wh) == (9, 0)
    move(world, wh, "adjust", -4, "k6")
    assert level(wh) == (5, 0)
    [row] = stock_of(world.org.pk, "PHONE-1")
    assert (row.on_hand, row.reserved, row.available) == (5, 0, 5)


def test_returned_unit_written_off_is_received_then_written_off(world, wh):
    move(world, wh, "receive", 2, "k1")
    written = move(world, wh, "write_off", 1, "rma:1:line:1:qc")
    assert written.on_hand_delta == -1
    assert level(wh) == (2, 0)  # the failed unit never entered sellable stock
    kinds = list(InventoryMovement.objects.filter(warehouse=wh).values_list("kind", "on_hand_delta"))
    assert kinds == [("receive", 2), ("receive", 1), ("write_off", -1)]
    move(world, wh, "refurbish", 1, "rma:2:line:1:qc")
    assert level(wh) == (2, 0)
    move(world, wh, "write_off", 2, "damaged", from_stock=True)
    assert level(wh) == (0, 0)
    with pytest.raises(Conflict):
        move(world, wh, "write_off", 1, "damaged-2", from_stock=True)


def test_reserve_beyond_available_is_refused_and_writes_nothing(world, wh):
    move(world, wh, "receive", 1, "k1")
    move(world, wh, "reserve", 1, "k2")
    with pytest.raises(Conflict) as err:
        move(world, wh, "reserve", 1, "k3")
    assert err.value.code == "out_of_stock"
    with pytest.raises(Conflict):
        move(world, wh, "release", 2, "k4")
    with pytest.raises(Conflict):
        move(world, wh, "adjust", -1, "k5")
    assert InventoryMovement.objects.count() == 2
    assert level(wh) == (1, 1)


def test_idempotent_by_key(world, wh):
    first = move(world, wh, "receive", 5, "same")
    again = move(world, wh, "receive", 5, "same")
    assert again.pk == first.pk
    assert level(wh) == (5, 0)
    with pytest.raises(Conflict) as err:
        move(world, wh, "reserve", 1, "same")
    assert err.value.field == "idempotency_key"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": 10**7}, "quantity"),
        ({"kind": "steal"}, "kind"),
        ({"sku": ""}, "sku"),
        ({"sku": "x" * 81}, "sku"),
        ({"idempotency_key": ""}, "idempotency_key"),
    ],
)
def test_bad_input_names_the_field(world, wh, kwargs, field):
    args = {"kind": "receive", "quantity": 1, "key": "k", **kwargs}
    if "idempotency_key" in args:
        args["key"] = args.pop("idempotency_key")
    with pytest.raises(ValidationFailed) as err:
        move(world, wh, args.pop("kind"), args.pop("quantity"), args.pop("key"), **args)
    assert err.value.field == field
    assert not InventoryMovement.objects.exists()


def test_warehouse_of_another_organization_is_not_found(world, wh):
    other = Warehouse.objects.create(organization=OrganizationFactory(), code="X", name="X")
    with pytest.raises(NotFound):
        move(world, other, "receive", 1, "k1")
    assert not StockLevel.objects.exists()


def test_many_is_all_or_nothing(world, wh):
    move(world, wh, "receive", 1, "a", sku="A")
    with pytest.raises(Conflict):
        stock_move_many(
            organization_id=world.org.pk,
            moves=[Move(wh.pk, "A", "reserve", 1, "r-a"), Move(wh.pk, "B", "reserve", 1, "r-b")],
            reference="exchange",
            actor=SYSTEM,
        )
    assert level(wh, "A") == (1, 0)
    assert InventoryMovement.objects.count() == 1


def test_rebuild_finds_and_fixes_drift(world, wh, capsys):
    move(world, wh, "receive", 3, "k1")
    StockLevel.objects.filter(warehouse=wh).update(on_hand=7)
    [mismatch] = stock_rebuild(organization_id=world.org.pk)
    assert (mismatch.stored_on_hand, mismatch.ledger_on_hand) == (7, 3)
    call_command("inventory_check")
    assert "PHONE-1" in capsys.readouterr().out
    call_command("inventory_check", "--fix")
    assert level(wh) == (3, 0)
    assert stock_rebuild() == []


def test_movements_page(world, wh):
    for n in range(5):
        move(world, wh, "receive", 1, f"k{n}")
    page = movements_of(world.org.pk, "PHONE-1", limit=2, offset=0)
    assert page.total == 5 and len(page.items) == 2
    assert page.items[0].idempotency_key == "k4"


def test_warehouse_crud_admin_only(world):
    created = warehouse_create(
        user=world.admin,
        values={"code": "lax-1", "name": "Los Angeles hub", "is_return_hub": True, "serves_countries": ["us", "CA"]},
    )
    assert created.code == "LAX-1" and created.serves_countries == ["CA", "US"]
    with pytest.raises(ValidationFailed) as err:
        warehouse_create(user=world.admin, values={"code": "X", "name": "X", "serves_countries": ["ZZ"]})
    assert err.value.field == "serves_countries"
    with pytest.raises(Conflict):
        warehouse_create(user=world.admin, values={"code": "LAX-1", "name": "again"})
    with pytest.raises(PermissionDenied):
        warehouse_create(user=world.agent, values={"code": "Y", "name": "Y"})
    updated = warehouse_update(user=world.admin, warehouse_id=created.pk, changes={"is_active": False})
    assert updated.is_active is False
    with pytest.raises(NotFound):
        warehouse_update(user=world.foreign_user, warehouse_id=created.pk, changes={"name": "mine"})


def test_stock_record_by_a_person(world, wh):
    ProductFactory(organization=world.org, sku="CASE-1")
    movement = stock_record(
        user=world.agent, warehouse_id=wh.pk, sku="CASE-1", kind="receive", quantity=4, idempotency_key="r1"
    )
    assert movement.actor_kind == "user" and movement.actor_ref == str(world.agent.pk)
    with pytest.raises(ValidationFailed) as err:
        stock_record(user=world.agent, warehouse_id=wh.pk, sku="NOPE", kind="receive", quantity=1, idempotency_key="r2")
    assert err.value.field == "sku"
    with pytest.raises(ValidationFailed):
        stock_record(
            user=world.agent, warehouse_id=wh.pk, sku="CASE-1", kind="reserve", quantity=1, idempotency_key="r3"
        )
    with pytest.raises(PermissionDenied):
        stock_record(
            user=world.viewer, warehouse_id=wh.pk, sku="CASE-1", kind="receive", quantity=1, idempotency_key="r4"
        )


def test_ledger_sum_equals_level(world, wh):
    move(world, wh, "receive", 4, "k1")
    move(world, wh, "reserve", 2, "k2")
    move(world, wh, "write_off", 1, "k3")
    sums = InventoryMovement.objects.filter(warehouse=wh).aggregate(o=Sum("on_hand_delta"), r=Sum("reserved_delta"))
    assert level(wh) == (sums["o"], sums["r"])
    assert MovementKind.WRITE_OFF in set(InventoryMovement.objects.values_list("kind", flat=True))
