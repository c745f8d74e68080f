"""The demo seller's warehouses and opening stock: the Shenzhen main warehouse ships everything, the
Los Angeles and Frankfurt return hubs take returns from North America and the EU and hold a few
units. Stock enters through the ledger (inventory.services), so levels equal the ledger sums. One SKU
in nine has no stock anywhere, so an exchange for it shows the "out of stock: offer a refund" path."""

from __future__ import annotations

from collections.abc import Sequence

from aftersales.core.actors import Actor
from aftersales.inventory.models import Warehouse
from aftersales.inventory.services import Move, stock_move_many
from aftersales.returns.policy import EU_COUNTRIES

from . import data

WAREHOUSES = (
    {
        "code": "SZ-MAIN",
        "name": "Shenzhen main warehouse",
        "is_return_hub": False,
        "serves_countries": [],
        "address_line1": "18 Keji South Road, Nanshan District",
        "city": "Shenzhen",
        "region": "Guangdong",
        "postal_code": "518057",
        "country": "CN",
        "phone": "+86 755 0000 0000",
    },
    {
        "code": "LAX-HUB",
        "name": "Los Angeles return hub",
        "is_return_hub": True,
        "serves_countries": ["CA", "US"],
        "address_line1": "2100 E Carson St, Unit 4",
        "city": "Carson",
        "region": "CA",
        "postal_code": "90810",
        "country": "US",
        "phone": "+1 310 000 0000",
    },
    {
        "code": "FRA-HUB",
        "name": "Frankfurt return hub",
        "is_return_hub": True,
        "serves_countries": sorted(EU_COUNTRIES),
        "address_line1": "Cargo City Süd, Gebäude 580",
        "city": "Frankfurt am Main",
        "region": "Hessen",
        "postal_code": "60549",
        "country": "DE",
        "phone": "+49 69 0000 0000",
    },
)


def demo_inventory(*, organization_id: int, products: Sequence[data.ProductSpec]) -> list[Warehouse]:
    """Create the warehouses and receive the opening stock (deterministic quantities)."""
    warehouses = [Warehouse.objects.create(organization_id=organization_id, **spec) for spec in WAREHOUSES]
    main, lax, fra = warehouses
    moves = []
    for i, product in enumerate(products):
        if i % 9 == 4:
            continue  # out of stock everywhere
        quantities = ((main, 12 + (i * 7) % 40), (lax, i % 4), (fra, (i + 1) % 3))
        moves += [
            Move(warehouse.pk, product.sku, "receive", quantity, f"demo:opening:{warehouse.code}:{product.sku}")
            for warehouse, quantity in quantities
            if quantity
        ]
    stock_move_many(organization_id=organization_id, moves=moves, reference="demo:opening", actor=Actor.system("demo"))
    return warehouses
