"""Units registered in the warranty registry when an order line ships with its IMEIs or serial
numbers (channels.apply -> warranty.services.units_register_shipped): once, whatever how often the
order is seen again; an invalid IMEI or an order not shipped yet registers nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales.channels.apply import apply_order
from aftersales.channels.base import OrderLineRecord, OrderRecord, ShipmentRecord
from aftersales.testing.factories import ProductFactory
from aftersales.warranty.models import SoldUnit

from .conftest import OTHER_IMEI, VALID_IMEI

pytestmark = pytest.mark.django_db

PLACED = datetime(2026, 2, 27, 12, 0, tzinfo=UTC)
DELIVERED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _record(*, shipped: bool, imeis: tuple[str, ...], serials: tuple[str, ...] = ()) -> OrderRecord:
    return OrderRecord(
        external_id="302-0000001-0000001",
        placed_at=PLACED,
        status="shipped" if shipped else "unshipped",
        total=Decimal("798.00"),
        currency="EUR",
        ship_country="DE",
        lines=[
            OrderLineRecord("L1", "PH-1", 2, Decimal("399.00"), "EUR", "Phone X", imeis=imeis, serial_numbers=serials)
        ],
        shipments=[ShipmentRecord("DHL", "JJD000390007", "delivered", PLACED, DELIVERED)] if shipped else [],
    )


def test_a_shipped_line_registers_its_units_once(world) -> None:  # type: ignore[no-untyped-def]
    ProductFactory(organization=world.org, sku="PH-1", title="Phone X", category="phones", warranty_months=12)
    assert apply_order(world.store_de, _record(shipped=False, imeis=(VALID_IMEI, OTHER_IMEI))).action == "created"
    assert not SoldUnit.objects.exists()  # not shipped yet
    apply_order(world.store_de, _record(shipped=True, imeis=(VALID_IMEI, OTHER_IMEI), serials=("SN-A1", "")))
    units = {u.imei: u for u in SoldUnit.objects.all()}
    assert set(units) == {VALID_IMEI, OTHER_IMEI}
    first = units[VALID_IMEI]
    assert (first.serial_number, first.sold_at, first.delivered_at, str(first.delivery_country)) == (
        "SNA1",  # the stored form (separators dropped)
        PLACED,
        DELIVERED,
        "DE",
    )
    assert first.order_line is not None and first.order_line.sku == "PH-1" and first.warranty_ends_on is not None
    apply_order(world.store_de, _record(shipped=True, imeis=(VALID_IMEI, OTHER_IMEI), serials=("SN-A1", "")))
    assert SoldUnit.objects.count() == 2  # seen again: nothing twice


def test_an_invalid_imei_is_skipped(world) -> None:  # type: ignore[no-untyped-def]
    ProductFactory(organization=world.org, sku="PH-1", title="Phone X", category="phones", warranty_months=12)
    apply_order(world.store_de, _record(shipped=True, imeis=("490154203237519", VALID_IMEI)))  # bad check digit
    assert list(SoldUnit.objects.values_list("imei", flat=True)) == [VALID_IMEI]
