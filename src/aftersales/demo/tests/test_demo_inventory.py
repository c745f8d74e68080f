"""The demo's warehouses and opening stock (demo/inventory.py): three warehouses, stock through the
ledger (levels equal the ledger sums), one SKU in nine without stock."""

from __future__ import annotations

import pytest

from aftersales.demo import data
from aftersales.demo.world import build_world
from aftersales.inventory.models import InventoryMovement, StockLevel, Warehouse
from aftersales.inventory.selectors import stock_of
from aftersales.inventory.services import stock_rebuild


@pytest.mark.django_db
def test_demo_world_has_warehouses_and_stock():
    world = build_world()
    org_id = world.organization.pk
    codes = dict(Warehouse.objects.filter(organization_id=org_id).values_list("code", "is_return_hub"))
    assert codes == {"SZ-MAIN": False, "LAX-HUB": True, "FRA-HUB": True}
    assert Warehouse.objects.get(code="FRA-HUB").serves_countries[:2] == ["AT", "BE"]
    first = data.PRODUCTS[0].sku
    rows = {r.warehouse_code: r.available for r in stock_of(org_id, first)}
    assert rows["SZ-MAIN"] >= 12
    out_of_stock = data.PRODUCTS[4].sku
    assert all(r.available == 0 for r in stock_of(org_id, out_of_stock))
    assert InventoryMovement.objects.filter(organization_id=org_id, actor_kind="system").exists()
    assert StockLevel.objects.filter(organization_id=org_id).count() > len(data.PRODUCTS)
    assert stock_rebuild(organization_id=org_id) == []
