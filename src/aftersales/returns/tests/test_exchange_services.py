"""returns.exchanges: create (reserve + replacement order), out of stock, ship, cancel, checks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone, translation

from aftersales.catalog.models import Order, Shipment
from aftersales.core.actors import Actor
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.inventory.models import InventoryMovement, StockLevel, Warehouse
from aftersales.inventory.services import stock_move
from aftersales.returns.exchanges import exchange_cancel, exchange_create, exchange_ship
from aftersales.returns.models import Exchange, ExchangeStatus, Rma, RmaEvent, RmaLine, RmaResolution, RmaStatus
from aftersales.testing.factories import OrderFactory, OrderLineFactory, ProductFactory
from aftersales.testing.personas import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def make_rma(world, *, status=RmaStatus.APPROVED, resolution=RmaResolution.EXCHANGE, quantity=2, number="RMA-1"):
    order = OrderFactory(store=world.store_us)
    product = ProductFactory(organization=world.org, sku=f"PHONE-{number}")
    line = OrderLineFactory(order=order, product=product, quantity=quantity)
    rma = Rma.objects.create(
        organization=world.org,
        store=world.store_us,
        number=number,
        order=order,
        customer=order.customer,
        status=status,
        resolution=resolution,
        reason="defective",
        requested_at=timezone.now(),
    )
    RmaLine.objects.create(
        rma=rma, order_line=line, sku=line.sku, quantity=quantity, unit_price_amount=Decimal("29.99"), currency="USD"
    )
    return rma, line


def stock(world, code, sku, quantity):
    wh, _ = Warehouse.objects.get_or_create(organization=world.org, code=code, defaults={"name": code})
    if quantity:
        stock_move(
            organization_id=world.org.pk,
            warehouse_id=wh.pk,
            sku=sku,
            kind="receive",
            quantity=quantity,
            reference="test",
            idempotency_key=f"stock:{code}:{sku}:{quantity}",
            actor=Actor.system("test"),
        )
    return wh


def levels(wh, sku):
    row = StockLevel.objects.get(warehouse=wh, sku=sku)
    return row.on_hand, row.reserved


def test_create_reserves_and_creates_the_replacement_order(world):
    rma, line = make_rma(world)
    empty = stock(world, "A-EMPTY", line.sku, 0)
    wh = stock(world, "B-SZ", line.sku, 5)
    result = exchange_create(
        user=world.agent, rma_id=rma.pk, lines=[{"sku": line.sku, "quantity": 2, "replaces_order_line_id": line.pk}]
    )
    ex = result.exchange
    assert result.created and not result.out_of_stock
    assert ex.status == ExchangeStatus.RESERVED and ex.warehouse_id == wh.pk != empty.pk
    assert ex.idempotency_key == f"rma:{rma.pk}:exchange"
    order = ex.replacement_order
    assert order.external_id == "EXC-RMA-1-1" and order.total_amount == 0
    assert order.store_id == rma.store_id and order.customer_id == rma.order.customer_id
    assert list(order.lines.values_list("sku", "quantity")) == [(line.sku, 2)]
    assert levels(wh, line.sku) == (5, 2)
    assert RmaEvent.objects.filter(rma=rma, type="exchange_created", actor_user=world.agent).exists()
    again = exchange_create(
        user=world.agent, rma_id=rma.pk, lines=[{"sku": line.sku, "quantity": 2, "replaces_order_line_id": line.pk}]
    )
    assert again.exchange.pk == ex.pk and not again.created
    assert levels(wh, line.sku) == (5, 2)


def test_out_of_stock_reserves_nothing_and_says_offer_a_refund(world):
    rma, line = make_rma(world)
    wh = stock(world, "SZ", line.sku, 1)
    with translation.override("en"):
        result = exchange_create(
            user=world.agent,
            rma_id=rma.pk,
            lines=[{"sku": line.sku, "quantity": 2, "replaces_order_line_id": line.pk}],
        )
    assert result.out_of_stock and result.exchange.status == ExchangeStatus.OUT_OF_STOCK
    assert "refund" in result.message
    assert result.shortages[0].available == 1
    assert result.exchange.replacement_order_id is None
    assert levels(wh, line.sku) == (1, 0)
    assert not Order.objects.filter(external_id__startswith="EXC-").exists()
    assert RmaEvent.objects.filter(rma=rma, type="exchange_out_of_stock").exists()
    # stock arrives: the same exchange is tried again and reserves
    stock(world, "SZ", line.sku, 3)
    retried = exchange_create(
        user=world.agent, rma_id=rma.pk, lines=[{"sku": line.sku, "quantity": 2, "replaces_order_line_id": line.pk}]
    )
    assert retried.exchange.pk == result.exchange.pk and retried.exchange.status == ExchangeStatus.RESERVED
    assert levels(wh, line.sku) == (4, 2)


def test_ship_and_cancel(world):
    rma, line = make_rma(world)
    wh = stock(world, "SZ", line.sku, 5)
    lines = [{"sku": line.sku, "quantity": 1, "replaces_order_line_id": line.pk}]
    ex = exchange_create(user=world.agent, rma_id=rma.pk, lines=lines).exchange
    shipped = exchange_ship(user=world.agent, exchange_id=ex.pk, tracking_number="1Z999", carrier="UPS")
    assert shipped.status == ExchangeStatus.SHIPPED
    assert levels(wh, line.sku) == (4, 0)
    assert Shipment.objects.get(order=ex.replacement_order).tracking_number == "1Z999"
    with pytest.raises(Conflict):
        exchange_cancel(user=world.agent, exchange_id=ex.pk)
    with pytest.raises(Conflict):
        exchange_ship(user=world.agent, exchange_id=ex.pk)
    assert levels(wh, line.sku) == (4, 0)


def test_cancel_releases_and_a_new_attempt_gets_a_new_key(world):
    rma, line = make_rma(world)
    wh = stock(world, "SZ", line.sku, 5)
    lines = [{"sku": line.sku, "quantity": 2, "replaces_order_line_id": line.pk}]
    ex = exchange_create(user=world.agent, rma_id=rma.pk, lines=lines).exchange
    cancelled = exchange_cancel(user=world.agent, exchange_id=ex.pk, reason="buyer changed their mind")
    assert cancelled.status == ExchangeStatus.CANCELLED
    assert levels(wh, line.sku) == (5, 0)
    assert Order.objects.get(pk=ex.replacement_order_id).status == "cancelled"
    second = exchange_create(user=world.agent, rma_id=rma.pk, lines=lines).exchange
    assert second.pk != ex.pk and second.idempotency_key == f"rma:{rma.pk}:exchange:2"
    assert second.replacement_order.external_id == "EXC-RMA-1-2"
    assert levels(wh, line.sku) == (5, 2)
    types = list(RmaEvent.objects.filter(rma=rma).values_list("type", flat=True))
    assert types == ["exchange_created", "exchange_cancelled", "exchange_created"]


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], "lines"),
        ([{"sku": "PHONE-RMA-1", "quantity": 0, "replaces_order_line_id": "LINE"}], "lines[0].quantity"),
        ([{"sku": "PHONE-RMA-1", "quantity": -1, "replaces_order_line_id": "LINE"}], "lines[0].quantity"),
        ([{"sku": "PHONE-RMA-1", "quantity": 3, "replaces_order_line_id": "LINE"}], "lines[0].quantity"),
        (
            [
                {"sku": "PHONE-RMA-1", "quantity": 2, "replaces_order_line_id": "LINE"},
                {"sku": "PHONE-RMA-1", "quantity": 1, "replaces_order_line_id": "LINE"},
            ],
            "lines[1].quantity",
        ),
        ([{"sku": "NOPE", "quantity": 1, "replaces_order_line_id": "LINE"}], "lines[0].sku"),
        ([{"sku": "PHONE-RMA-1", "quantity": 1, "replaces_order_line_id": 999999}], "lines[0].replaces_order_line_id"),
        ([{"sku": "PHONE-RMA-1", "quantity": 1, "replaces_order_line_id": "LINE", "x": 1}], "lines[0].x"),
    ],
)
def test_bad_lines_name_the_field_and_write_nothing(world, lines, field):
    rma, line = make_rma(world)
    stock(world, "SZ", line.sku, 5)
    for item in lines:
        if item.get("replaces_order_line_id") == "LINE":
            item["replaces_order_line_id"] = line.pk
    before = InventoryMovement.objects.count()
    with pytest.raises(ValidationFailed) as err:
        exchange_create(user=world.agent, rma_id=rma.pk, lines=lines)
    assert err.value.field == field
    assert not Exchange.objects.exists() and InventoryMovement.objects.count() == before


def test_unknown_warehouse_is_422(world):
    rma, line = make_rma(world)
    foreign = Warehouse.objects.create(organization=world.foreign_org, code="F", name="F")
    with pytest.raises(ValidationFailed) as err:
        exchange_create(
            user=world.agent,
            rma_id=rma.pk,
            lines=[{"sku": line.sku, "quantity": 1, "replaces_order_line_id": line.pk}],
            warehouse_id=foreign.pk,
        )
    assert err.value.field == "warehouse_id"


def test_rma_must_be_approved_for_an_exchange(world):
    rma, line = make_rma(world, status=RmaStatus.REQUESTED)
    lines = [{"sku": line.sku, "quantity": 1, "replaces_order_line_id": line.pk}]
    with pytest.raises(Conflict):
        exchange_create(user=world.agent, rma_id=rma.pk, lines=lines)
    rma2, line2 = make_rma(world, resolution=RmaResolution.RETURN_AND_REFUND, number="RMA-2")
    with pytest.raises(Conflict):
        exchange_create(
            user=world.agent,
            rma_id=rma2.pk,
            lines=[{"sku": line2.sku, "quantity": 1, "replaces_order_line_id": line2.pk}],
        )


def test_permissions_and_organization(world):
    rma, line = make_rma(world)
    stock(world, "SZ", line.sku, 5)
    lines = [{"sku": line.sku, "quantity": 1, "replaces_order_line_id": line.pk}]
    with pytest.raises(PermissionDenied):
        exchange_create(user=world.viewer, rma_id=rma.pk, lines=lines)
    with pytest.raises(NotFound):
        exchange_create(user=world.foreign_user, rma_id=rma.pk, lines=lines)
    ex = exchange_create(user=world.agent, rma_id=rma.pk, lines=lines).exchange
    with pytest.raises(NotFound):
        exchange_ship(user=world.foreign_user, exchange_id=ex.pk)
    with pytest.raises(NotFound):
        exchange_cancel(user=world.foreign_user, exchange_id=ex.pk)
